#include "ptft/data/idx_array.h"

#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/data/text_inputs.h"

namespace ptft {
namespace {

const char* const kIdxHint =
    "IDX files are MNIST-style arrays (e.g. train-images-idx3-ubyte.gz); the file may be damaged or of "
    "another kind: download it again";

std::string hex_byte(unsigned char b) {
  const char* digits = "0123456789abcdef";
  return std::string{digits[b >> 4], digits[b & 15]};
}

// Size `d` (0-based) of a header: a big-endian uint32.
int64_t header_dim(std::string_view bytes, int d) {
  const auto* b = reinterpret_cast<const unsigned char*>(bytes.data()) + 4 + 4 * d;
  return (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | int64_t{b[3]};
}

IdxArray read_checked(text::TextFile& file, const std::string& path) {
  std::string header;
  file.read_into(header, 4);
  const std::size_t header_size = idx_header_size(header, path);
  file.read_into(header, header_size - 4);
  IdxArray out;
  const IdxHeader h = parse_idx_header(header, path);
  out.dims = h.dims;
  // Read as the data comes: a header that claims gigabytes costs only what the file holds.
  const auto total = static_cast<std::size_t>(h.data_bytes);
  if (file.read_into(out.data, total) < total)
    throw UserError("IDX file '" + path + "' is truncated: its header declares " + std::to_string(total) +
                        " bytes of data, the file has " + std::to_string(out.data.size()),
                    kIdxHint);
  std::string extra;
  if (file.read_into(extra, 1) > 0)
    throw UserError("IDX file '" + path + "' has bytes after the " + std::to_string(total) +
                        " its header declares: it is not one IDX array",
                    kIdxHint);
  return out;
}

}  // namespace

std::size_t idx_header_size(std::string_view magic, const std::string& path) {
  if (magic.size() < 4)
    throw UserError("IDX file '" + path + "' is too short for the 4-byte header (" + std::to_string(magic.size()) +
                        " bytes)",
                    kIdxHint);
  const auto* m = reinterpret_cast<const unsigned char*>(magic.data());
  if (m[0] != 0 || m[1] != 0)
    throw UserError("'" + path + "' is not an IDX file: it starts with bytes " + std::to_string(m[0]) + " " +
                        std::to_string(m[1]) + ", expected 0 0",
                    kIdxHint);
  if (m[2] != 0x08)
    throw UserError("IDX file '" + path + "' holds values of type 0x" + hex_byte(m[2]) +
                        "; only unsigned bytes (0x08) are supported",
                    kIdxHint);
  const int ndims = m[3];
  if (ndims < 1 || ndims > 4)
    throw UserError("IDX file '" + path + "' declares " + std::to_string(ndims) + " dimensions (1 to 4 supported)",
                    kIdxHint);
  return 4 + 4 * static_cast<std::size_t>(ndims);
}

IdxHeader parse_idx_header(std::string_view bytes, const std::string& path) {
  const std::size_t size = idx_header_size(bytes, path);
  if (bytes.size() < size) throw UserError("IDX file '" + path + "' is truncated inside its header", kIdxHint);
  IdxHeader h;
  h.data_bytes = 1;
  const int ndims = static_cast<int>((size - 4) / 4);
  for (int d = 0; d < ndims; ++d) {
    const int64_t n = header_dim(bytes, d);
    if (n == 0)
      throw UserError("IDX file '" + path + "' has size 0 in dimension " + std::to_string(d + 1) + " (no data)",
                      kIdxHint);
    if (n > kMaxIdxBytes / h.data_bytes)  // before multiplying: 2^36 x 2^32 overflows int64
      throw UserError("IDX file '" + path + "' declares more than 64 GiB of data: its header is corrupt", kIdxHint);
    h.dims.push_back(n);
    h.data_bytes *= n;
  }
  return h;
}

IdxArray read_idx_array(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw UserError("IDX file '" + path + "' does not exist", "check the path");
  text::TextFile file(path);  // plain or gzip
  try {
    return read_checked(file, path);
  } catch (const UserError& e) {
    // TextFile reports gzip damage as "reading input '...'"; say what the input was.
    if (e.message().rfind("reading input", 0) == 0) throw UserError("IDX file: " + e.message(), e.hint());
    throw;
  }
}

}  // namespace ptft

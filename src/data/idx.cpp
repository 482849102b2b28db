#include "ptft/data/idx.h"

#include <cstring>
#include <filesystem>
#include <utility>

#include "ptft/core/error.h"
#include "ptft/data/text_inputs.h"

namespace ptft {
namespace {

const char* const kIdxHint =
    "IDX files are MNIST-style arrays (e.g. train-images-idx3-ubyte.gz); the file may be damaged or of "
    "another kind: download it again";
constexpr int64_t kMaxIdxBytes = int64_t{1} << 36;  // 64 GiB: larger sizes are a corrupt header

// Reads exactly `n` bytes or reports how many there were.
std::size_t read_exactly(text::TextFile& f, std::string& out, std::size_t n) {
  out.clear();
  return f.read_into(out, n);
}

std::string file_name(const std::string& path) { return std::filesystem::path(path).filename().string(); }

bool ends_with(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

}  // namespace

torch::Tensor read_idx(const std::string& path) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) throw UserError("IDX file '" + path + "' does not exist", "check the path");
  text::TextFile file(path);  // plain or gzip
  std::string buf;
  try {
    if (read_exactly(file, buf, 4) < 4)
      throw UserError("IDX file '" + path + "' is too short for the 4-byte header (" + std::to_string(buf.size()) +
                          " bytes)",
                      kIdxHint);
    const auto* m = reinterpret_cast<const unsigned char*>(buf.data());
    if (m[0] != 0 || m[1] != 0)
      throw UserError("'" + path + "' is not an IDX file: it starts with bytes " + std::to_string(m[0]) + " " +
                          std::to_string(m[1]) + ", expected 0 0",
                      kIdxHint);
    if (m[2] != 0x08)
      throw UserError("IDX file '" + path + "' holds values of type 0x" +
                          std::string(1, "0123456789abcdef"[m[2] >> 4]) + std::string(1, "0123456789abcdef"[m[2] & 15]) +
                          "; only unsigned bytes (0x08) are supported",
                      kIdxHint);
    const int ndims = m[3];
    if (ndims < 1 || ndims > 4)
      throw UserError("IDX file '" + path + "' declares " + std::to_string(ndims) + " dimensions (1 to 4 supported)",
                      kIdxHint);
    if (read_exactly(file, buf, 4 * ndims) < static_cast<std::size_t>(4 * ndims))
      throw UserError("IDX file '" + path + "' is truncated inside its header", kIdxHint);
    std::vector<int64_t> dims;
    int64_t total = 1;
    for (int d = 0; d < ndims; ++d) {
      const auto* b = reinterpret_cast<const unsigned char*>(buf.data()) + 4 * d;
      const int64_t size = (int64_t{b[0]} << 24) | (int64_t{b[1]} << 16) | (int64_t{b[2]} << 8) | int64_t{b[3]};
      if (size == 0)
        throw UserError("IDX file '" + path + "' has size 0 in dimension " + std::to_string(d + 1) + " (no data)",
                        kIdxHint);
      dims.push_back(size);
      total *= size;
      if (total > kMaxIdxBytes)
        throw UserError("IDX file '" + path + "' declares more than 64 GiB of data: its header is corrupt", kIdxHint);
    }
    auto out = torch::empty(dims, torch::kUInt8);
    if (read_exactly(file, buf, static_cast<std::size_t>(total)) < static_cast<std::size_t>(total))
      throw UserError("IDX file '" + path + "' is truncated: its header declares " + std::to_string(total) +
                          " bytes of data, the file has " + std::to_string(buf.size()),
                      kIdxHint);
    std::memcpy(out.data_ptr<uint8_t>(), buf.data(), buf.size());
    std::string extra;
    if (file.read_into(extra, 1) > 0)
      throw UserError("IDX file '" + path + "' has bytes after the " + std::to_string(total) +
                          " its header declares: it is not one IDX array",
                      kIdxHint);
    return out;
  } catch (const UserError& e) {
    // TextFile reports gzip damage as "reading input '...'"; say what the input was.
    if (e.message().rfind("reading input", 0) == 0) throw UserError("IDX file: " + e.message(), e.hint());
    throw;
  }
}

bool is_idx_images_path(const std::string& path) {
  std::string name = file_name(path);
  if (ends_with(name, ".gz")) name.resize(name.size() - 3);
  return ends_with(name, "-images-idx3-ubyte") || ends_with(name, "-images.idx3-ubyte");
}

std::string idx_labels_path(const std::string& images_path) {
  PTFT_CHECK(is_idx_images_path(images_path), "not an IDX images path: " + images_path);
  std::string p = images_path;
  const std::pair<std::string, std::string> names[] = {{"-images-idx3-ubyte", "-labels-idx1-ubyte"},
                                                       {"-images.idx3-ubyte", "-labels.idx1-ubyte"}};
  for (const auto& [from, to] : names) {
    const auto at = p.rfind(from);
    if (at != std::string::npos) {
      p.replace(at, from.size(), to);
      break;
    }
  }
  std::error_code ec;
  if (std::filesystem::exists(p, ec)) return p;
  const std::string other = ends_with(p, ".gz") ? p.substr(0, p.size() - 3) : p + ".gz";
  return std::filesystem::exists(other, ec) ? other : p;
}

}  // namespace ptft

#include "stb_guard.h"

#include <cstddef>
#include <cctype>
#include <cstdint>

namespace ptft {
namespace {

constexpr int kMaxHuffmanCodes = 256;  // one code per byte value
// DHT markers after the first scan that are checked; a real file has one per progressive scan.
constexpr std::size_t kMaxHuffmanMarkers = 4096;

// The JPEG bytes with stb's reading rule: a byte past the end reads as 0.
struct Bytes {
  std::string_view s;
  int at(std::size_t i) const { return i < s.size() ? static_cast<unsigned char>(s[i]) : 0; }
  int be16(std::size_t i) const { return at(i) << 8 | at(i + 1); }
  uint32_t be32(std::size_t i) const { return uint32_t(be16(i)) << 16 | uint32_t(be16(i + 2)); }
};

// The largest code count of the DHT segment whose length field is at `pos`, read as stb reads it:
// tables (1 class/id byte, 16 counts, the values) while its length lasts.
int largest_table(const Bytes& b, std::size_t pos) {
  int left = b.be16(pos) - 2, largest = 0;
  pos += 2;
  while (left > 0 && pos < b.s.size()) {
    const int q = b.at(pos);
    if (q >> 4 > 1 || (q & 15) > 3) return largest;  // stb stops here: "bad DHT header"
    int n = 0;
    for (int i = 1; i <= 16; ++i) n += b.at(pos + static_cast<std::size_t>(i));
    if (n > largest) largest = n;
    pos += 17 + static_cast<std::size_t>(n);
    left -= 17 + n;
  }
  return largest;
}

// Where the first scan's data starts, walking the segments from `pos` (after SOI) by their
// lengths; the end of `b` when there is no scan.
std::size_t first_scan(const Bytes& b, std::size_t pos, std::optional<int>& oversized) {
  while (pos < b.s.size()) {
    if (b.at(pos) != 0xFF) {  // junk between segments: stb reads on to the next marker
      ++pos;
      continue;
    }
    while (pos < b.s.size() && b.at(pos) == 0xFF) ++pos;  // fill bytes
    const int marker = b.at(pos++);
    if (marker == 0xDA || marker == 0xD9) return pos;  // SOS (or EOI)
    if (marker == 0xC4 && largest_table(b, pos) > kMaxHuffmanCodes) oversized = largest_table(b, pos);
    if (oversized) return b.s.size();
    const bool has_length = !(marker == 0xD8 || marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7));
    if (has_length) pos += static_cast<std::size_t>(b.be16(pos));
  }
  return pos;
}

// What is wrong with the Huffman tables stb would read: the first that declares more than 256
// codes, or (from the first scan on) more DHT markers than a real file has, which would make this
// walk slow; nullopt when nothing is or `b` is not a JPEG (no SOI marker). Segments before the
// first scan are followed by their lengths (application data is skipped, as stb skips it); from
// the first scan on, every FF C4 is taken for a table, as stb may resume at any marker there.
std::optional<std::string> huffman_table_defect(const Bytes& b) {
  std::size_t soi = 0;  // stb's first marker, after any FF fill bytes, must be SOI
  while (soi < b.s.size() && b.at(soi) == 0xFF) ++soi;
  if (soi == 0 || b.at(soi) != 0xD8) return std::nullopt;  // not a JPEG to stb
  std::optional<int> oversized;
  std::size_t markers = 0;
  for (std::size_t p = first_scan(b, soi + 1, oversized); !oversized && p + 1 < b.s.size(); ++p) {
    if (b.at(p) != 0xFF || b.at(p + 1) != 0xC4) continue;
    if (++markers > kMaxHuffmanMarkers)
      return "more than " + std::to_string(kMaxHuffmanMarkers) + " Huffman table markers";
    if (largest_table(b, p + 2) > kMaxHuffmanCodes) oversized = largest_table(b, p + 2);
  }
  if (!oversized) return std::nullopt;
  return "a JPEG Huffman table of " + std::to_string(*oversized) + " codes; at most 256 are possible";
}

// Whether a binary PNM header (P5, P6) holds a number past INT_MAX: digit runs after the magic,
// separated by whitespace and # comments as stb reads them.
bool pnm_number_overflows(const Bytes& b) {
  if (b.at(0) != 'P' || (b.at(1) != '5' && b.at(1) != '6')) return false;
  std::size_t pos = 2;
  for (int field = 0; field < 3; ++field) {  // width, height, maxval
    while (pos < b.s.size() && (std::isspace(b.at(pos)) || b.at(pos) == '#'))
      if (b.at(pos++) == '#')
        while (pos < b.s.size() && b.at(pos) != '\n' && b.at(pos) != '\r') ++pos;
    int64_t value = 0;
    for (; pos < b.s.size() && b.at(pos) >= '0' && b.at(pos) <= '9'; ++pos)
      if ((value = value * 10 + (b.at(pos) - '0')) > INT32_MAX) return true;
  }
  return false;
}

// The length of the first PNG IDAT chunk that declares more bytes than the file has left
// (stb allocates the declared size, up to 2 GiB, before it reads), or 0. Chunks as stb reads them:
// 4-byte length, 4-byte type, the data, a 4-byte CRC; IEND ends the walk.
uint32_t png_idat_past_end(const Bytes& b) {
  if (b.s.substr(0, 8) != std::string_view("\x89PNG\r\n\x1a\n", 8)) return 0;
  for (uint64_t pos = 8; pos + 8 <= b.s.size();) {
    const uint32_t length = b.be32(pos);
    const std::string_view type = b.s.substr(pos + 4, 4);
    if (type == "IDAT" && length > b.s.size() - (pos + 8)) return length;
    if (type == "IEND") break;
    pos += 12 + uint64_t{length};
  }
  return 0;
}

}  // namespace

std::optional<std::string> stb_defect(std::string_view bytes) {
  const Bytes b{bytes};
  if (auto why = huffman_table_defect(b)) return why;
  if (pnm_number_overflows(b)) return "a PNM header number larger than 2147483647";
  if (const uint32_t length = png_idat_past_end(b))
    return "a PNG data chunk of " + std::to_string(length) + " bytes in a file of " + std::to_string(b.s.size());
  return std::nullopt;
}

}  // namespace ptft

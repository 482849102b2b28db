#include "spm_model_check.h"

#include <cstdint>
#include <optional>

namespace ptft {
namespace {

// ModelProto's fields (sentencepiece_model.proto) and NormalizerSpec's.
constexpr uint64_t kNormalizerSpec = 3, kDenormalizerSpec = 5, kPrecompiledCharsmap = 2;

// One protobuf field: its number and, for a length-delimited one, its bytes.
struct Field {
  uint64_t number = 0;
  std::string_view bytes;
};

// Protobuf wire format, read field by field; nullopt at the end or where it is not well formed.
class WireReader {
 public:
  explicit WireReader(std::string_view s) : s_(s) {}
  bool done() const { return pos_ >= s_.size(); }
  std::optional<Field> next() {
    const auto key = varint();
    if (!key) return std::nullopt;
    Field f{*key >> 3, {}};
    switch (*key & 7) {
      case 0: return varint() ? std::optional<Field>(f) : std::nullopt;
      case 1: return skip(8) ? std::optional<Field>(f) : std::nullopt;
      case 5: return skip(4) ? std::optional<Field>(f) : std::nullopt;
      case 2: {
        const auto n = varint();
        if (!n || *n > s_.size() - pos_) return std::nullopt;
        f.bytes = s_.substr(pos_, *n);
        pos_ += *n;
        return f;
      }
      default: return std::nullopt;  // groups (3, 4) and reserved types: never in a ModelProto
    }
  }

 private:
  std::optional<uint64_t> varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64 && pos_ < s_.size(); shift += 7) {
      const auto b = static_cast<unsigned char>(s_[pos_++]);
      v |= uint64_t{b & 0x7Fu} << shift;
      if (b < 0x80) return v;
    }
    return std::nullopt;
  }
  bool skip(std::size_t n) {
    if (n > s_.size() - pos_) return false;
    pos_ += n;
    return true;
  }

  std::string_view s_;
  std::size_t pos_ = 0;
};

// The size of the normalization table in a NormalizerSpec message, 0 when it has none; nullopt
// when the message is not well formed.
std::optional<std::size_t> charsmap_size(std::string_view spec) {
  WireReader r(spec);
  std::size_t size = 0;
  while (!r.done()) {
    const auto f = r.next();
    if (!f) return std::nullopt;
    if (f->number == kPrecompiledCharsmap) size += f->bytes.size();
  }
  return size;
}

}  // namespace

std::string spm_model_defect(std::string_view model) {
  WireReader r(model);
  while (!r.done()) {
    const auto f = r.next();
    if (!f) return "it is not a well-formed protobuf";
    if (f->number != kNormalizerSpec && f->number != kDenormalizerSpec) continue;
    const auto size = charsmap_size(f->bytes);
    if (!size) return "its normalizer spec is not a well-formed protobuf";
    if (*size > 0)
      return "it has a precompiled normalization table (" + std::to_string(*size) +
             " bytes), which libsentencepiece reads unchecked; ptft's tokenizers normalize nothing";
  }
  return "";
}

}  // namespace ptft

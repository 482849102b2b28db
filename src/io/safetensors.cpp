#include "ptft/io/safetensors.h"

#include <algorithm>
#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "ptft/core/error.h"
#include "ptft/core/fs.h"
#include "ptft/core/mapped_file.h"

namespace ptft::safetensors {
namespace {

using nlohmann::json;

constexpr DType kAllDTypes[] = {DType::F64, DType::F32, DType::F16, DType::BF16, DType::I64,
                                DType::I32, DType::I16, DType::I8,  DType::U8,   DType::BOOL};
constexpr const char* kMetadataKey = "__metadata__";
// Root object (1) > tensor entry or metadata (2) > shape/data_offsets arrays (3). One more
// level is allowed so that "shape": [[1]] is reported as a bad shape rather than as nesting;
// anything deeper is rejected while parsing, which also bounds the parser's memory per byte.
constexpr std::size_t kMaxJsonDepth = 4;

const char* const kHintTruncated = "the file is truncated or not a safetensors file; re-export it";
const char* const kHintHeader =
    "the header is malformed; re-export the file with a safetensors writer "
    "(e.g. safetensors.torch.save_file or ptft)";
const char* const kHintLayout =
    "the header's data_offsets do not describe the data section; the file is corrupt or was "
    "written by a non-conforming tool; re-export it";

// Names come from untrusted input: keep messages bounded.
std::string shorten(const std::string& s, std::size_t max = 120) {
  if (s.size() <= max) return s;
  std::size_t cut = max;
  while (cut > 0 && (static_cast<unsigned char>(s[cut]) & 0xC0) == 0x80) --cut;  // UTF-8 boundary
  return s.substr(0, cut) + "...(" + std::to_string(s.size()) + " bytes)";
}
std::string in_quotes(const std::string& s) { return "'" + shorten(s) + "'"; }

// Offset of the first byte that is not part of well-formed UTF-8 (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or npos.
std::size_t utf8_error_offset(const char* data, std::size_t size) {
  const auto* s = reinterpret_cast<const unsigned char*>(data);
  std::size_t i = 0;
  while (i < size) {
    const unsigned char c = s[i];
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // > U+10FFFF
    } else {
      return i;
    }
    if (size - i < len) return i;
    if (s[i + 1] < lo || s[i + 1] > hi) return i;
    for (std::size_t k = 2; k < len; ++k)
      if ((s[i + k] & 0xC0) != 0x80) return i;
    i += len;
  }
  return std::string::npos;
}
bool is_utf8(const std::string& s) {
  return utf8_error_offset(s.data(), s.size()) == std::string::npos;
}

// Product of the dimensions; nullopt for a negative dimension or if it exceeds INT64_MAX.
// A shape with a 0 has numel 0 whatever the other dimensions are.
std::optional<int64_t> checked_numel(const std::vector<int64_t>& shape) {
  for (int64_t d : shape) {
    if (d < 0) return std::nullopt;
    if (d == 0) return 0;
  }
  uint64_t n = 1;
  for (int64_t d : shape) {
    const auto u = static_cast<uint64_t>(d);
    if (n > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()) / u) return std::nullopt;
    n *= u;
  }
  return static_cast<int64_t>(n);
}

// numel * dtype_size, or nullopt on overflow.
std::optional<uint64_t> checked_nbytes(int64_t numel, DType dt) {
  const uint64_t n = static_cast<uint64_t>(numel), es = dtype_size(dt);
  if (n > std::numeric_limits<uint64_t>::max() / es) return std::nullopt;
  return n * es;
}

std::string shape_str(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (std::size_t i = 0; i < shape.size(); ++i) s += (i ? ", " : "") + std::to_string(shape[i]);
  return s + "]";
}
std::string offsets_str(uint64_t b, uint64_t e) {
  return "[" + std::to_string(b) + ", " + std::to_string(e) + "]";
}

std::string hex_byte(char c) {
  static const char* hex = "0123456789abcdef";
  const auto b = static_cast<unsigned char>(c);
  return std::string("0x") + hex[b >> 4] + hex[b & 15];
}

uint64_t read_u64_le(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

// Builds a DOM like json::parse, but rejects duplicate keys (which json::parse silently
// collapses: a duplicate tensor name would hide one entry) and nesting deeper than
// kMaxJsonDepth. Never throws on bad input: it returns false and sets `error`.
class StrictSax {
 public:
  json root;
  std::string error;

  bool null() { return put(nullptr); }
  bool boolean(bool v) { return put(v); }
  bool number_integer(json::number_integer_t v) { return put(v); }
  bool number_unsigned(json::number_unsigned_t v) { return put(v); }
  bool number_float(json::number_float_t v, const json::string_t&) { return put(v); }
  bool string(json::string_t& v) { return put(std::move(v)); }
  bool binary(json::binary_t&) {
    error = "unexpected binary value";
    return false;
  }
  bool start_object(std::size_t) { return open(json::object()); }
  bool start_array(std::size_t) { return open(json::array()); }
  bool end_object() { return close(); }
  bool end_array() { return close(); }
  bool key(json::string_t& k) {
    const json& top = *stack_.back();
    if (top.contains(k)) {
      error = "duplicate key " + in_quotes(k) +
              (stack_.size() == 1 ? " (a tensor name may appear only once)" : "");
      return false;
    }
    key_ = std::move(k);
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const json::exception& ex) {
    error = ex.what();
    // "[json.exception.parse_error.101] parse error at ..." -> "parse error at ..."
    if (auto p = error.find("] "); error.rfind("[json.exception", 0) == 0 && p != std::string::npos)
      error = error.substr(p + 2);
    return false;
  }

 private:
  json* slot() {
    if (stack_.empty()) return &root;
    json& top = *stack_.back();
    if (top.is_array()) {
      top.push_back(nullptr);
      return &top.back();
    }
    return &top[key_];
  }
  bool put(json v) {
    *slot() = std::move(v);
    return true;
  }
  bool open(json v) {
    if (stack_.size() >= kMaxJsonDepth) {
      error = "JSON nests deeper than " + std::to_string(kMaxJsonDepth) +
              " levels, which no safetensors header does";
      return false;
    }
    json* s = slot();
    *s = std::move(v);
    stack_.push_back(s);  // stable: only the innermost open container grows
    return true;
  }
  bool close() {
    stack_.pop_back();
    return true;
  }

  std::vector<json*> stack_;
  json::string_t key_;
};

// Levenshtein distance, bounded in length so that hostile names stay cheap.
std::size_t edit_distance(const std::string& a0, const std::string& b0) {
  const std::string a = a0.substr(0, 96), b = b0.substr(0, 96);
  std::vector<std::size_t> row(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) row[j] = j;
  for (std::size_t i = 1; i <= a.size(); ++i) {
    std::size_t diag = row[0];
    row[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      const std::size_t up = row[j];
      row[j] = std::min({row[j] + 1, row[j - 1] + 1, diag + (a[i - 1] != b[j - 1] ? 1u : 0u)});
      diag = up;
    }
  }
  return row[b.size()];
}

// The header prefix (8-byte length + padded JSON) and total data size of a write.
struct Plan {
  std::string prefix;
  uint64_t data_size = 0;
};

Plan make_plan(const std::vector<TensorRef>& tensors,
               const std::map<std::string, std::string>& metadata, const std::string& where) {
  auto fail = [&](const std::string& what, const std::string& hint = {}) {
    return UserError(where + ": " + what, hint);
  };
  for (const auto& [k, v] : metadata) {
    if (!is_utf8(k) || !is_utf8(v))
      throw fail("metadata entry " + in_quotes(k) + " is not valid UTF-8",
                 "the header is JSON; metadata keys and values must be UTF-8 text");
  }
  std::string h = "{";
  if (!metadata.empty()) h += json(kMetadataKey).dump() + ":" + json(metadata).dump();
  std::set<std::string> seen;
  uint64_t offset = 0;
  for (const auto& t : tensors) {
    const std::string name = "tensor " + in_quotes(t.name);
    if (t.name == kMetadataKey)
      throw fail("a tensor may not be named '__metadata__' (the format reserves that key)",
                 "rename the tensor");
    if (!seen.insert(t.name).second)
      throw fail("tensor name " + in_quotes(t.name) + " appears twice", "tensor names must be unique");
    if (!is_utf8(t.name))
      throw fail(name + ": the name is not valid UTF-8", "tensor names must be UTF-8 text");
    const auto numel = checked_numel(t.shape);
    if (!numel)
      throw fail(name + ": shape " + shape_str(t.shape) +
                     " has a negative dimension or more than 2^63-1 elements",
                 "check the shape");
    const auto need = checked_nbytes(*numel, t.dtype);
    if (!need || *need != t.nbytes)
      throw fail(name + ": nbytes is " + std::to_string(t.nbytes) + " but dtype " +
                     dtype_name(t.dtype) + " with shape " + shape_str(t.shape) + " needs " +
                     (need ? std::to_string(*need) : std::string("more than 2^64")) + " bytes (" +
                     std::to_string(*numel) + " elements x " +
                     std::to_string(dtype_size(t.dtype)) + " bytes)",
                 "pass the tensor's contiguous byte size");
    if (t.nbytes > 0 && t.data == nullptr)
      throw fail(name + ": data is null but nbytes is " + std::to_string(t.nbytes),
                 "pass a pointer to the tensor's bytes");
    if (offset > std::numeric_limits<uint64_t>::max() - t.nbytes)
      throw fail("total data size exceeds 2^64 bytes");
    const uint64_t begin = offset;
    offset += t.nbytes;
    if (h.size() > 1) h += ',';
    h += json(t.name).dump() + ":{\"dtype\":\"" + dtype_name(t.dtype) + "\",\"shape\":[";
    for (std::size_t i = 0; i < t.shape.size(); ++i)
      h += (i ? "," : "") + std::to_string(t.shape[i]);
    h += "],\"data_offsets\":[" + std::to_string(begin) + "," + std::to_string(offset) + "]}";
  }
  h += '}';
  h.append((8 - h.size() % 8) % 8, ' ');  // so that the data section starts 8-byte aligned
  if (h.size() > kMaxHeaderSize)
    throw fail("header would be " + std::to_string(h.size()) + " bytes, over the " +
                   std::to_string(kMaxHeaderSize) + "-byte limit readers enforce",
               "use fewer/shorter tensor names or less metadata, or shard the file");
  Plan p;
  p.prefix.resize(8);
  uint64_t n = h.size();
  for (int i = 0; i < 8; ++i, n >>= 8) p.prefix[i] = static_cast<char>(n & 0xFF);
  p.prefix += h;
  p.data_size = offset;
  return p;
}

}  // namespace

// --- dtypes ---------------------------------------------------------------------------------

std::size_t dtype_size(DType dt) {
  switch (dt) {
    case DType::F64: case DType::I64: return 8;
    case DType::F32: case DType::I32: return 4;
    case DType::F16: case DType::BF16: case DType::I16: return 2;
    case DType::I8: case DType::U8: case DType::BOOL: return 1;
  }
  throw InternalError("dtype_size: invalid DType " + std::to_string(static_cast<int>(dt)));
}

const char* dtype_name(DType dt) {
  switch (dt) {
    case DType::F64: return "F64";
    case DType::F32: return "F32";
    case DType::F16: return "F16";
    case DType::BF16: return "BF16";
    case DType::I64: return "I64";
    case DType::I32: return "I32";
    case DType::I16: return "I16";
    case DType::I8: return "I8";
    case DType::U8: return "U8";
    case DType::BOOL: return "BOOL";
  }
  throw InternalError("dtype_name: invalid DType " + std::to_string(static_cast<int>(dt)));
}

DType parse_dtype(const std::string& name) {
  std::string valid;
  for (DType dt : kAllDTypes) {
    if (name == dtype_name(dt)) return dt;
    valid += (valid.empty() ? "" : ", ") + std::string(dtype_name(dt));
  }
  throw UserError("unknown dtype " + in_quotes(name) + " (valid: " + valid + ")",
                  "other safetensors dtypes (U16, U32, U64, F8_*, C64, ...) are not supported; "
                  "convert the tensor to one of the valid dtypes before exporting");
}

int64_t TensorInfo::numel() const {
  const auto n = checked_numel(shape);
  if (!n)
    throw UserError("tensor " + in_quotes(name) + ": shape " + shape_str(shape) +
                        " has a negative dimension or more than 2^63-1 elements",
                    "check the shape");
  return *n;
}

// --- File -----------------------------------------------------------------------------------

std::shared_ptr<File> File::open(const std::string& path) {
  std::shared_ptr<File> f(new File());
  f->path_ = path;
  f->map_ = std::make_unique<fs::MappedFile>(path, "safetensors file");
  f->base_ = f->map_->data();
  f->size_ = f->map_->size();
  f->parse();
  return f;
}

std::shared_ptr<File> File::from_bytes(std::string bytes, std::string name) {
  std::shared_ptr<File> f(new File());
  f->path_ = std::move(name);
  f->bytes_ = std::move(bytes);
  f->base_ = reinterpret_cast<const uint8_t*>(f->bytes_.data());
  f->size_ = f->bytes_.size();
  f->parse();
  return f;
}

File::~File() = default;

void File::parse() {
  const std::string where = "safetensors file '" + path_ + "'";
  auto fail = [&](const std::string& what, const char* hint) {
    return UserError(where + ": " + what, hint);
  };
  try {
    // --- 8-byte length prefix and header bounds.
    if (size_ < 8)
      throw fail("file is " + std::to_string(size_) +
                     " bytes, shorter than the 8-byte header length",
                 kHintTruncated);
    const uint64_t n = read_u64_le(base_);
    if (n == 0) throw fail("header length is 0", kHintTruncated);
    if (n > kMaxHeaderSize)
      throw fail("header length " + std::to_string(n) + " exceeds the limit of " +
                     std::to_string(kMaxHeaderSize) + " bytes",
                 kHintTruncated);
    if (n > size_ - 8)  // i.e. 8 + n > size_, without overflow
      throw fail("header length " + std::to_string(n) + " runs past the end of the file (8 + " +
                     std::to_string(n) + " > file size " + std::to_string(size_) + ")",
                 kHintTruncated);
    header_size_ = n;
    data_size_ = size_ - 8 - n;
    const char* hdr = reinterpret_cast<const char*>(base_ + 8);

    // --- JSON.
    if (auto bad = utf8_error_offset(hdr, n); bad != std::string::npos)
      throw fail("header is not valid UTF-8 (byte " + hex_byte(hdr[bad]) + " at header offset " +
                     std::to_string(bad) + ")",
                 kHintHeader);
    // nlohmann's lexer takes a NUL byte for the end of input ("{}\0junk" would parse); JSON
    // allows none, not even inside strings, so reject it here as the reference reader does.
    if (const void* nul = std::memchr(hdr, 0, n))
      throw fail("header is not valid JSON: NUL byte at header offset " +
                     std::to_string(static_cast<const char*>(nul) - hdr) +
                     " (pad the header with spaces, not zeros)",
                 kHintHeader);
    if (hdr[0] != '{')  // as the reference reader: no leading whitespace, not an array/string
      throw fail("header does not start with '{' (first byte " + hex_byte(hdr[0]) +
                     "), so it is not a JSON object",
                 kHintHeader);
    StrictSax sax;
    if (!json::sax_parse(hdr, hdr + n, &sax, json::input_format_t::json, /*strict=*/true))
      throw fail("header is not valid JSON: " + sax.error, kHintHeader);
    if (!sax.root.is_object())
      throw fail(std::string("header is a JSON ") + sax.root.type_name() + ", expected an object",
                 kHintHeader);

    // --- entries.
    for (const auto& [key, value] : sax.root.items()) {
      if (key == kMetadataKey) {
        if (!value.is_object())
          throw fail(std::string("__metadata__ is a JSON ") + value.type_name() +
                         ", expected an object of string values",
                     kHintHeader);
        for (const auto& [mk, mv] : value.items()) {
          if (!mv.is_string())
            throw fail("__metadata__ value for key " + in_quotes(mk) + " is a JSON " +
                           mv.type_name() + "; the format allows only strings",
                       kHintHeader);
          metadata_.emplace(mk, mv.get<std::string>());
        }
        continue;
      }
      const std::string tname = "tensor " + in_quotes(key);
      if (!value.is_object())
        throw fail(tname + " is a JSON " + value.type_name() +
                       ", expected an object with dtype, shape and data_offsets",
                   kHintHeader);
      for (const auto& [field, unused] : value.items()) {
        if (field != "dtype" && field != "shape" && field != "data_offsets")
          throw fail(tname + " has an unexpected field " + in_quotes(field) +
                         " (allowed: dtype, shape, data_offsets)",
                     kHintHeader);
      }
      for (const char* field : {"dtype", "shape", "data_offsets"}) {
        if (!value.contains(field))
          throw fail(tname + " is missing the field '" + field + "'", kHintHeader);
      }
      TensorInfo t;
      t.name = key;

      const json& dt = value["dtype"];
      if (!dt.is_string())
        throw fail(tname + ": dtype is a JSON " + std::string(dt.type_name()) +
                       ", expected a string such as \"F32\"",
                   kHintHeader);
      try {
        t.dtype = parse_dtype(dt.get<std::string>());
      } catch (const UserError& e) {
        throw UserError(where + ": " + tname + ": " + e.message(), e.hint());
      }

      const json& shape = value["shape"];
      if (!shape.is_array())
        throw fail(tname + ": shape is a JSON " + std::string(shape.type_name()) +
                       ", expected an array of non-negative integers",
                   kHintHeader);
      for (const json& d : shape) {
        if (!d.is_number_unsigned() ||
            d.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max()))
          throw fail(tname + ": shape " + shape.dump() +
                         " is not an array of non-negative integers below 2^63 (bad entry " +
                         d.dump() + ")",
                     kHintHeader);
        t.shape.push_back(static_cast<int64_t>(d.get<uint64_t>()));
      }

      const json& off = value["data_offsets"];
      if (!off.is_array() || off.size() != 2 || !off[0].is_number_unsigned() ||
          !off[1].is_number_unsigned())
        throw fail(tname + ": data_offsets " + off.dump() +
                       " is not [begin, end] with two non-negative integers",
                   kHintHeader);
      t.begin = off[0].get<uint64_t>();
      t.end = off[1].get<uint64_t>();
      if (t.begin > t.end)
        throw fail(tname + ": data_offsets " + offsets_str(t.begin, t.end) +
                       " has begin > end",
                   kHintHeader);

      const auto numel = checked_numel(t.shape);
      if (!numel)
        throw fail(tname + ": shape " + shape_str(t.shape) +
                       " has more than 2^63-1 elements (numel overflows)",
                   kHintHeader);
      const auto need = checked_nbytes(*numel, t.dtype);
      if (!need || *need != t.nbytes())
        throw fail(tname + ": data_offsets " + offsets_str(t.begin, t.end) + " span " +
                       std::to_string(t.nbytes()) + " bytes but dtype " + dtype_name(t.dtype) +
                       " with shape " + shape_str(t.shape) + " needs " +
                       (need ? std::to_string(*need) : std::string("more than 2^64")) +
                       " bytes (" + std::to_string(*numel) + " elements x " +
                       std::to_string(dtype_size(t.dtype)) + " bytes)",
                   kHintLayout);
      tensors_.push_back(std::move(t));
    }

    // --- layout: sorted by offset, the tensors must tile [0, data_size_) exactly.
    std::sort(tensors_.begin(), tensors_.end(), [](const TensorInfo& a, const TensorInfo& b) {
      if (a.begin != b.begin) return a.begin < b.begin;
      if (a.end != b.end) return a.end < b.end;
      return a.name < b.name;
    });
    uint64_t cursor = 0;
    const TensorInfo* prev = nullptr;
    for (const auto& t : tensors_) {
      const std::string tname = "tensor " + in_quotes(t.name);
      if (t.end > data_size_)
        throw fail(tname + ": data_offsets " + offsets_str(t.begin, t.end) +
                       " lie outside the data section (" + std::to_string(data_size_) +
                       " bytes: file size " + std::to_string(size_) + " - 8 - header " +
                       std::to_string(n) + ")",
                   kHintTruncated);
      if (t.begin < cursor)
        throw fail(tname + ": data_offsets " + offsets_str(t.begin, t.end) +
                       " overlap tensor " + in_quotes(prev->name) + " at " +
                       offsets_str(prev->begin, prev->end),
                   kHintLayout);
      if (t.begin > cursor)
        throw fail("gap of " + std::to_string(t.begin - cursor) +
                       " bytes in the data section: nothing covers [" + std::to_string(cursor) +
                       ", " + std::to_string(t.begin) + ") before " + tname + " at " +
                       offsets_str(t.begin, t.end),
                   kHintLayout);
      cursor = t.end;
      prev = &t;
    }
    if (cursor != data_size_)
      throw fail("gap of " + std::to_string(data_size_ - cursor) +
                     " bytes at the end of the data section: the tensors end at offset " +
                     std::to_string(cursor) + " but the data section has " +
                     std::to_string(data_size_) + " bytes",
                 kHintLayout);
    for (std::size_t i = 0; i < tensors_.size(); ++i) index_.emplace(tensors_[i].name, i);
  } catch (const Error&) {
    throw;
  } catch (const std::exception& e) {
    // nlohmann or the allocator; the contract is that only ptft errors escape.
    throw UserError(where + ": cannot read the header: " + e.what(), kHintHeader);
  }
}

const TensorInfo* File::find(const std::string& name) const {
  auto it = index_.find(name);
  return it == index_.end() ? nullptr : &tensors_[it->second];
}

const TensorInfo& File::at(const std::string& name) const {
  if (const TensorInfo* t = find(name)) return *t;
  std::string msg = "safetensors file '" + path_ + "' has no tensor " + in_quotes(name);
  if (tensors_.empty()) {
    msg += "; the file holds no tensors";
  } else {
    std::vector<std::pair<std::size_t, const std::string*>> near;
    for (const auto& t : tensors_) near.emplace_back(edit_distance(name, t.name), &t.name);
    const std::size_t k = std::min<std::size_t>(3, near.size());
    std::partial_sort(near.begin(), near.begin() + k, near.end(), [](const auto& a, const auto& b) {
      return a.first != b.first ? a.first < b.first : *a.second < *b.second;
    });
    msg += "; closest of its " + std::to_string(tensors_.size()) + " tensors: ";
    for (std::size_t i = 0; i < k; ++i) msg += (i ? ", " : "") + in_quotes(*near[i].second);
  }
  throw UserError(msg, "check the tensor name; the checkpoint may use another prefix or "
                       "come from a different architecture");
}

const uint8_t* File::data(const TensorInfo& t) const {
  PTFT_CHECK(t.end <= data_size_ && t.begin <= t.end,
             "tensor '" + t.name + "' does not belong to '" + path_ + "'");
  return base_ + 8 + header_size_ + t.begin;
}

// --- writing --------------------------------------------------------------------------------

std::string serialize(const std::vector<TensorRef>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  const Plan p = make_plan(tensors, metadata, "safetensors serialize");
  std::string out;
  out.reserve(p.prefix.size() + p.data_size);
  out += p.prefix;
  for (const auto& t : tensors)
    if (t.nbytes > 0) out.append(static_cast<const char*>(t.data), t.nbytes);
  return out;
}

void write(const std::string& path, const std::vector<TensorRef>& tensors,
           const std::map<std::string, std::string>& metadata) {
  const std::string where = "writing safetensors file '" + path + "'";
  const Plan p = make_plan(tensors, metadata, where);
  fs::require_parent_dir(path, where);
  fs::AtomicFile f(path);
  f.write(p.prefix);
  for (const auto& t : tensors)
    if (t.nbytes > 0) f.write(t.data, t.nbytes);
  f.commit();
}

}  // namespace ptft::safetensors

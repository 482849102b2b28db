// The GGUF value types and ggml tensor types: names, sizes and block layouts.
#include <limits>
#include <string>

#include "ptft/core/error.h"
#include "ptft/io/gguf.h"

namespace ptft::gguf {
namespace {

// Block layouts as ggml defines them (ggml-common.h: sizeof(block_*)); QK_K = 256. Validating
// the size of quantised tensors needs these even though ptft does not decode them.
constexpr GgmlTypeInfo kGgmlTypes[] = {
    {GgmlType::F32, "F32", 1, 4},          {GgmlType::F16, "F16", 1, 2},
    {GgmlType::Q4_0, "Q4_0", 32, 18},      {GgmlType::Q4_1, "Q4_1", 32, 20},
    {GgmlType::Q5_0, "Q5_0", 32, 22},      {GgmlType::Q5_1, "Q5_1", 32, 24},
    {GgmlType::Q8_0, "Q8_0", 32, 34},      {GgmlType::Q8_1, "Q8_1", 32, 36},
    {GgmlType::Q2_K, "Q2_K", 256, 84},     {GgmlType::Q3_K, "Q3_K", 256, 110},
    {GgmlType::Q4_K, "Q4_K", 256, 144},    {GgmlType::Q5_K, "Q5_K", 256, 176},
    {GgmlType::Q6_K, "Q6_K", 256, 210},    {GgmlType::Q8_K, "Q8_K", 256, 292},
    {GgmlType::IQ2_XXS, "IQ2_XXS", 256, 66}, {GgmlType::IQ2_XS, "IQ2_XS", 256, 74},
    {GgmlType::IQ3_XXS, "IQ3_XXS", 256, 98}, {GgmlType::IQ1_S, "IQ1_S", 256, 50},
    {GgmlType::IQ4_NL, "IQ4_NL", 32, 18},  {GgmlType::IQ3_S, "IQ3_S", 256, 110},
    {GgmlType::IQ2_S, "IQ2_S", 256, 82},   {GgmlType::IQ4_XS, "IQ4_XS", 256, 136},
    {GgmlType::I8, "I8", 1, 1},            {GgmlType::I16, "I16", 1, 2},
    {GgmlType::I32, "I32", 1, 4},          {GgmlType::I64, "I64", 1, 8},
    {GgmlType::F64, "F64", 1, 8},          {GgmlType::IQ1_M, "IQ1_M", 256, 56},
    {GgmlType::BF16, "BF16", 1, 2},        {GgmlType::TQ1_0, "TQ1_0", 256, 54},
    {GgmlType::TQ2_0, "TQ2_0", 256, 66},   {GgmlType::MXFP4, "MXFP4", 32, 17},
    {GgmlType::NVFP4, "NVFP4", 64, 36},    {GgmlType::Q1_0, "Q1_0", 128, 18},
    {GgmlType::Q2_0, "Q2_0", 64, 18},
};

constexpr const char* kValueTypeNames[] = {"UINT8", "INT8",   "UINT16", "INT16",  "UINT32",
                                           "INT32", "FLOAT32", "BOOL",  "STRING", "ARRAY",
                                           "UINT64", "INT64",  "FLOAT64"};
constexpr std::size_t kValueTypeSizes[] = {1, 1, 2, 2, 4, 4, 4, 1, 0, 0, 8, 8, 8};

}  // namespace

bool is_value_type(uint32_t id) { return id <= static_cast<uint32_t>(ValueType::FLOAT64); }

const char* value_type_name(ValueType t) {
  const auto id = static_cast<uint32_t>(t);
  PTFT_CHECK(is_value_type(id), "invalid gguf::ValueType " + std::to_string(id));
  return kValueTypeNames[id];
}

std::size_t value_type_size(ValueType t) {
  const auto id = static_cast<uint32_t>(t);
  PTFT_CHECK(is_value_type(id), "invalid gguf::ValueType " + std::to_string(id));
  return kValueTypeSizes[id];
}

const GgmlTypeInfo* find_ggml_type(uint32_t id) {
  for (const auto& t : kGgmlTypes)
    if (static_cast<uint32_t>(t.type) == id) return &t;
  return nullptr;
}

const GgmlTypeInfo& ggml_type_info(GgmlType type) {
  const GgmlTypeInfo* t = find_ggml_type(static_cast<uint32_t>(type));
  PTFT_CHECK(t != nullptr, "invalid gguf::GgmlType " + std::to_string(static_cast<uint32_t>(type)));
  return *t;
}

const char* ggml_type_name(GgmlType type) { return ggml_type_info(type).name; }

uint64_t ggml_nbytes(GgmlType type, int64_t numel, int64_t row) {
  const GgmlTypeInfo& t = ggml_type_info(type);
  PTFT_CHECK(numel >= 0 && row > 0 && numel % row == 0, "ggml_nbytes: bad numel/row");
  if (row % t.block_size != 0)
    throw UserError("a " + std::string(t.name) + " tensor's innermost dimension must be a multiple of " +
                        std::to_string(t.block_size) + " (its block size); it is " + std::to_string(row),
                    "quantised types store whole blocks along the innermost (last row-major) dimension");
  const uint64_t blocks = static_cast<uint64_t>(numel) / t.block_size;
  if (blocks > std::numeric_limits<uint64_t>::max() / t.block_bytes)
    throw UserError("a " + std::string(t.name) + " tensor of " + std::to_string(numel) +
                        " elements would need more than 2^64 bytes",
                    "check the shape");
  return blocks * t.block_bytes;
}

}  // namespace ptft::gguf

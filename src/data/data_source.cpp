#include "ptft/data/data_source.h"

#include <filesystem>

#include "ptft/core/error.h"
#include "ptft/data/synthetic.h"

namespace ptft {

std::unique_ptr<DataSource> open_data_source(const std::string& spec, const std::string& split,
                                             const DataContext& ctx, const std::string& key) {
  const std::string synth = "synthetic:";
  if (spec.rfind(synth, 0) == 0) return make_synthetic(spec.substr(synth.size()), split, ctx, key);
  if (spec.empty())
    throw UserError("'" + key + "' is not set", "set it in the config or with --set " + key + "=PATH");
  std::error_code ec;
  if (!std::filesystem::exists(spec, ec))
    throw UserError(key + ": '" + spec + "' does not exist", "check the path (relative paths are relative to the current directory)");
  throw UserError(key + ": no reader recognises '" + spec + "'",
                  "supported sources: synthetic:spirals (more formats arrive with the model families)");
}

}  // namespace ptft

// ptft/models/presets.h — where `model: {preset: NAME}` finds NAME.yaml.
//
// Presets are data (configs/models/*.yaml in the source tree). The directories searched, first
// match wins:
//   1. $PTFT_CONFIG_DIR/models                       the user's override
//   2. <dir of the binary>/../share/ptft/configs/models   an installed ptft (`cmake --install`,
//                                                     any prefix; relocatable, PATH and symlinks
//                                                     resolved through /proc/self/exe)
//   3. <dir of the binary>/../configs/models           build/ptft inside the source tree
//   4. the source tree's configs/models, compiled in  a build directory anywhere
//   5. ./configs/models                               the working directory
//
//   const std::string path = find_preset("gpt-tiny", "run.yaml:2");  // UserError lists known ones
#pragma once

#include <string>
#include <vector>

namespace ptft {

// The preset directories in search order (they need not exist).
std::vector<std::string> preset_dirs();
// The file of preset `name`; UserError at `where` naming the nearest known preset, or the
// directories searched when none holds any preset.
std::string find_preset(const std::string& name, const std::string& where);

}  // namespace ptft

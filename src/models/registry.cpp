// The model registry: one line per architecture.
#include "ptft/models/mlp.h"

namespace ptft {

const std::vector<ModelFamily>& model_families() {
  static const std::vector<ModelFamily> families = {
      mlp_family(),
  };
  return families;
}

}  // namespace ptft

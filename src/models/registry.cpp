// The model registry: one line per architecture.
#include "ptft/models/bert.h"
#include "ptft/models/detector.h"
#include "ptft/models/gpt.h"
#include "ptft/models/llama.h"
#include "ptft/models/mlp.h"
#include "ptft/models/resnet.h"

namespace ptft {

const std::vector<ModelFamily>& model_families() {
  static const std::vector<ModelFamily> families = {
      mlp_family(),
      gpt_family(),
      resnet_family(),
      bert_family(),
      detector_family(),
      llama_family(),
  };
  return families;
}

}  // namespace ptft

// ptft/nn/skip_init.h — while a SkipInit lives on this thread, ptft's modules leave their weights
// as allocated instead of drawing random initial values: for a model whose every tensor a strict
// load overwrites next (inference from a checkpoint). Drawing them is most of a large model's
// construction: skipping it took `ptft generate --max-new-tokens 1` of GPT-2 124M from 2.0 s to
// 1.13 s (docs/results.md).
// libtorch's own modules (Embedding, Conv2d) still initialise themselves.
//
//   { nn::SkipInit skip; model = model_from_checkpoint(c); }   // load_into(..., strict) follows
#pragma once

namespace ptft::nn {

class SkipInit {
 public:
  SkipInit();
  ~SkipInit();
  SkipInit(const SkipInit&) = delete;
  SkipInit& operator=(const SkipInit&) = delete;
  // Whether modules constructed now should skip their random initialisation.
  static bool active();

 private:
  bool previous_;
};

}  // namespace ptft::nn

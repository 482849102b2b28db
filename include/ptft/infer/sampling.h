// ptft/infer/sampling.h — choosing the next token from a model's logits.
//
// Temperature 0 is greedy (argmax). Otherwise the logits are divided by the temperature, cut to
// the top_k most likely tokens and to the smallest set whose probability reaches top_p
// (nucleus), and one token is drawn with the sampler's own generator: the same seed gives the
// same tokens, whatever else draws random numbers in the process.
//
//   SamplingOptions o;  o.temperature = 0.7;  o.top_k = 40;  o.seed = 7;
//   Sampler s(o);
//   int64_t next = s.sample(logits);   // logits: (V) for the next position
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace ptft {

struct SamplingOptions {
  int64_t max_new_tokens = 128;    // generated tokens at most (>= 1)
  double temperature = 0.8;        // 0 = greedy (argmax)
  int64_t top_k = 0;               // keep the k most likely tokens; 0 = off
  double top_p = 1.0;              // keep the smallest set with probability >= p; 1 = off
  uint64_t seed = 1337;            // the sampler's generator (same seed -> same text)
  std::vector<std::string> stop;   // generation ends when one appears (it is not emitted)
  bool truncate_prompt = false;    // a prompt longer than the context keeps its last tokens
  // UserError naming the option (as the CLI spells it) and the allowed range.
  void validate() const;
};

class Sampler {
 public:
  explicit Sampler(const SamplingOptions& opt);
  // The next token id from `logits` (V) of one position. Ids >= `allowed` (tokens the
  // tokenizer cannot decode, when the model's vocabulary is larger) are never chosen.
  int64_t sample(const torch::Tensor& logits, int64_t allowed);

 private:
  SamplingOptions opt_;
  at::Generator gen_;
};

}  // namespace ptft

// ptft/train/train_config.h — the `train:` section of a run config (defaults commented here and
// shown by `ptft pretrain --help-config`).
#pragma once

#include <cstdint>
#include <string>

namespace ptft {

struct TrainConfig {
  int64_t steps = 2000;            // optimizer steps in the run
  double epochs = 0;               // > 0: passes over the training data instead; the run sets steps from it
  int64_t batch_size = 16;         // examples per micro-batch per process
  int64_t grad_accum = 1;          // micro-batches per optimizer step
  double lr = 3.0e-4;              // peak learning rate
  int64_t warmup = 100;            // linear warmup steps
  std::string schedule = "cosine"; // after warmup: cosine | linear | constant
  double lr_min_ratio = 0.1;       // cosine/linear decay down to lr * lr_min_ratio
  std::string optimizer = "adamw"; // adamw | sgd
  double weight_decay = 0.1;       // decoupled (AdamW) / L2 (SGD); none on biases, norms, embeddings
  double beta1 = 0.9;              // AdamW
  double beta2 = 0.95;             // AdamW
  double eps = 1e-8;               // AdamW
  double momentum = 0.9;           // SGD
  double grad_clip = 1.0;          // max global gradient norm; 0 = no clipping (norm still logged)
  int64_t log_every = 10;          // train events in metrics.jsonl / plain progress lines
  int64_t eval_every = 200;        // evaluate every N steps (and at the end); 0 = only at the end
  int64_t eval_batches = 0;        // batches (of batch_size x processes) per evaluation; 0 = whole split
  int64_t save_every = 500;        // checkpoints/last every N steps (and at the end); 0 = only at the end
  int64_t keep_checkpoints = 3;    // step checkpoints kept (plus the ones last/best point to)
  int64_t patience = 0;            // early stopping: evaluations without improvement; 0 = off
  double min_delta = 0.0;          // smallest change that counts as an improvement
  std::string metric = "val_loss"; // monitored metric for best checkpoint and early stopping
  std::string mode = "auto";       // min | max | auto (max for accuracy/f1/map, else min)
  int64_t overfit_patience = 3;    // overfitting alarm (train/overfit_watch.h): evaluations of rising val_loss
                                   // while the training loss falls; 0 = off
  double overfit_margin = 0.01;    // relative: val_loss counts as risen above best x (1 + margin), the training
                                   // loss as fallen below its value then x (1 - margin)
  int64_t seed = 1337;             // weights init, dropout and data order
  std::string device = "auto";     // auto | cpu | cuda | cuda:N
  std::string precision = "auto";  // auto | fp32 | bf16 (autocast, fp32 master weights)
  int64_t threads = 0;             // intra-op threads; 0 = OMP_NUM_THREADS or every usable CPU
  double peak_tflops = 0.0;        // device peak for MFU in logs; 0 = not reported
  std::string phase_times = "auto";  // time each phase of a step (train/phase_clock.h): auto | on | off
  int64_t profile_steps = 0;       // op-by-op profile of this many steps from the process's third (train/op_profile.h)
  double ema = 0.0;                // EMA of the weights (train/ema.h): decay, e.g. 0.9999; 0 = off
  double ema_tau = 2000.0;         // EMA warm-up: decay * (1 - exp(-updates / ema_tau))
  double bucket_mb = 25.0;         // data-parallel: gradient all-reduce bucket size (MiB)
  double dist_timeout = 1800.0;    // data-parallel: seconds a rank waits for the others

  template <class V> void visit(V& v) {
    v("steps", steps, "optimizer steps in the run");
    v("epochs", epochs, "passes over the training data (may be fractional); > 0 sets steps = ceil(epochs x "
      "examples / examples per step); 0 = use steps");
    v("batch_size", batch_size, "examples per micro-batch per process");
    v("grad_accum", grad_accum, "micro-batches per optimizer step");
    v("lr", lr, "peak learning rate");
    v("warmup", warmup, "linear warmup steps");
    v.choice("schedule", schedule, {"cosine", "linear", "constant"}, "LR schedule after warmup");
    v("lr_min_ratio", lr_min_ratio, "decay down to lr * lr_min_ratio");
    v.choice("optimizer", optimizer, {"adamw", "sgd"}, "optimizer");
    v("weight_decay", weight_decay, "weight decay (not on biases, norms, embeddings)");
    v("beta1", beta1, "AdamW beta1");
    v("beta2", beta2, "AdamW beta2");
    v("eps", eps, "AdamW epsilon");
    v("momentum", momentum, "SGD momentum");
    v("grad_clip", grad_clip, "max global gradient norm; 0 = off");
    v("log_every", log_every, "steps between train log events");
    v("eval_every", eval_every, "steps between evaluations; 0 = only at the end");
    v("eval_batches", eval_batches, "batches per evaluation (of batch_size x processes); 0 = whole split");
    v("save_every", save_every, "steps between checkpoints; 0 = only at the end");
    v("keep_checkpoints", keep_checkpoints, "step checkpoints kept");
    v("patience", patience, "early stopping patience in evaluations; 0 = off");
    v("min_delta", min_delta, "minimum improvement for early stopping");
    v("metric", metric, "monitored metric (val_loss, val_accuracy, ...)");
    v.choice("mode", mode, {"auto", "min", "max"}, "whether the metric should go down or up");
    v("overfit_patience", overfit_patience, "overfitting alarm: warn after N evaluations of val_loss above its best "
      "while the training loss falls (val_loss whatever train.metric is); 0 = off");
    v("overfit_margin", overfit_margin, "overfitting alarm: relative margin; risen = above best x (1 + margin), "
      "fallen = below x (1 - margin)");
    v("seed", seed, "random seed");
    v("device", device, "auto | cpu | cuda | cuda:N");
    v.choice("precision", precision, {"auto", "fp32", "bf16"},
             "numeric precision; auto = bf16 autocast where the device has it fast (a CPU with avx512_bf16/AMX, "
             "a GPU), fp32 elsewhere; a convolutional model on such a CPU is timed in both when the run starts and "
             "keeps fp32 where that is >= 10% faster (the run's config.yaml records the choice)");
    v("threads", threads, "intra-op threads; 0 = OMP_NUM_THREADS or every usable CPU");
    v("peak_tflops", peak_tflops, "device peak TFLOP/s for MFU; 0 = not reported");
    v.choice("phase_times", phase_times, {"auto", "on", "off"}, "time each phase of a step (data, forward, backward, "
      "optimizer, eval, ...: metrics.jsonl phase_s, summary.json phase_seconds); auto = on the CPU, where it costs "
      "nothing, off on CUDA, where each phase boundary waits for the device");
    v("profile_steps", profile_steps, "profile this many optimizer steps, from the third this process takes, op by op "
      "with libtorch's profiler: RUN/profile.md, each op's self time per step by name and by input shapes "
      "(those steps run slower); 0 = off");
    v("ema", ema, "EMA of the weights for evaluation and checkpoints: decay, e.g. 0.9999; 0 = off");
    v("ema_tau", ema_tau, "EMA warm-up in updates: decay * (1 - exp(-updates / ema_tau))");
    v("bucket_mb", bucket_mb, "data-parallel: gradient all-reduce bucket size in MiB");
    v("dist_timeout", dist_timeout, "data-parallel: seconds a rank waits for the others (rendezvous, "
      "collectives) before it gives up");
  }
  void validate() const;
  // "min" or "max" for the monitored metric.
  std::string resolved_mode() const;
};

}  // namespace ptft

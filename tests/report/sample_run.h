// tests/report/sample_run.h — a hand-written run directory for the report's unit tests.
//
//   test::TempDir tmp("report");
//   const std::string run = report_test::write_sample_run(tmp.path + "/run-a");
//
// metrics.jsonl holds: start (mlp classifier, metric val_loss), train events at steps 10, 20,
// 30, an eval + best at 20 (confusion [[3,1],[0,4]]), a resume at 20 that logs step 30 again
// (loss 0.7 instead of 0.75), an unfreeze at 25, an overfit event with two pieces of advice, a
// strategy_search event and an early_stop at 40 after a second eval. No summary.json;
// checkpoints/last/config.json names the classes "cat <1>" and "dog".
#pragma once

#include <filesystem>
#include <string>

#include "../common/files.h"

namespace report_test {

inline std::string sample_metrics() {
  return R"({"event":"start","command":"pretrain","parameters":1234,"trainable_parameters":1000,"device":"cpu","precision":"fp32","config":{"model":{"family":"mlp"},"task":"classification","train":{"metric":"val_loss"}}}
{"event":"strategy_search","metric":"val_loss","mode":"min","chosen":"lora","candidates":[{"strategy":"head","trial_steps":50,"value":2.31,"trainable_parameters":1234,"wall_seconds":3.2},{"strategy":"lora","trial_steps":50,"value":1.9,"trainable_parameters":4321,"wall_seconds":4.1}]}
{"event":"train","step":10,"loss":1.0,"lr":0.01,"grad_norm":1.5,"examples_per_s":500.0,"elapsed_s":1.0}
{"event":"train","step":20,"loss":0.8,"lr":0.008,"grad_norm":1.2,"examples_per_s":520.0,"elapsed_s":2.0}
{"event":"eval","step":20,"val_loss":0.9,"val_accuracy":0.875,"val_examples":8,"val_confusion":[[3,1],[0,4]],"val_per_class":{"precision":[1.0,0.8],"recall":[0.75,1.0],"support":[4,4]}}
{"event":"best","step":20,"val_loss":0.9}
{"event":"train","step":30,"loss":0.75,"lr":0.006,"grad_norm":1.1,"examples_per_s":510.0,"elapsed_s":3.0}
{"event":"resume","step":20,"from":"run/checkpoints/step-00000020"}
{"event":"unfreeze","step":25,"message":"unfreezing block 1"}
{"event":"train","step":30,"loss":0.7,"lr":0.006,"grad_norm":1.0,"examples_per_s":505.0,"elapsed_s":3.5}
{"event":"eval","step":40,"val_loss":0.95,"val_accuracy":0.75,"val_examples":8,"val_confusion":[[2,2],[0,4]],"val_per_class":{"precision":[1.0,0.667],"recall":[0.5,1.0],"support":[4,4]}}
{"event":"overfit","step":40,"metric":"val_loss","values":[0.9,0.95],"train_losses":[0.8,0.7],"advice":["raise train.weight_decay <now 0>","use more data & augmentation"]}
{"event":"early_stop","step":40,"best_step":20,"val_loss":0.9}
)";
}

inline std::string write_sample_run(const std::string& dir) {
  std::filesystem::create_directories(dir + "/checkpoints/last");
  ptft::test::write_text(dir + "/metrics.jsonl", sample_metrics());
  ptft::test::write_text(dir + "/checkpoints/last/config.json",
                         R"({"id2label":{"0":"cat <1>","1":"dog"},"label2id":{"cat <1>":0,"dog":1}})");
  return dir;
}

}  // namespace report_test

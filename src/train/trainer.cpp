#include "ptft/train/trainer.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>
#include <mutex>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <optional>

#include "ptft/core/base64.h"
#include "ptft/core/compat.h"
#include "ptft/core/error.h"
#include "ptft/core/memory.h"
#include "ptft/core/progress.h"
#include "ptft/core/signals.h"
#include "ptft/data/prefetcher.h"
#include "ptft/dist/grad_sync.h"
#include "ptft/train/ema.h"
#include "ptft/train/grad_norm.h"
#include "ptft/train/op_profile.h"
#include "ptft/train/overfit_watch.h"
#include "ptft/train/results_csv.h"
#include "ptft/train/schedule.h"

namespace ptft {
namespace {

std::string fmt(double v, const char* f = "%.4g") {
  char buf[64];
  std::snprintf(buf, sizeof buf, f, v);
  return buf;
}

std::string rng_state_b64() {
  auto state = at::detail::getDefaultCPUGenerator().get_state();  // uint8 tensor
  return base64_encode(std::string(reinterpret_cast<const char*>(state.data_ptr<uint8_t>()),
                                   static_cast<size_t>(state.numel())));
}

void set_rng_state_b64(const std::string& b64, const std::string& source) {
  std::string bytes = base64_decode(b64, source);
  auto t = torch::empty({static_cast<int64_t>(bytes.size())}, torch::kUInt8);
  std::memcpy(t.data_ptr<uint8_t>(), bytes.data(), bytes.size());
  try {
    at::Generator gen = at::detail::getDefaultCPUGenerator();  // a handle to the global generator
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(t);
  } catch (const c10::Error& e) {
    throw UserError(source + ": the saved RNG state is invalid", "the file is corrupt");
  }
}

bool improved(double value, double best, const std::string& mode, double min_delta) {
  if (std::isnan(best)) return true;
  return mode == "min" ? value < best - min_delta : value > best + min_delta;
}

// "eval step 200: val_loss 2.31 val_perplexity 10.1 ..."
std::string eval_line(const nlohmann::json& ev) {
  std::string line = "eval step " + std::to_string(ev.value("step", int64_t{0})) + ":";
  for (auto& [k, v] : ev.items())
    if (v.is_number_float()) line += " " + k + " " + fmt(v.get<double>());
  return line;
}

// "0.31, 0.35, 0.42" (NaN: "-").
std::string fmt_list(const std::vector<double>& values) {
  std::string s;
  for (double v : values) s += (s.empty() ? "" : ", ") + (std::isnan(v) ? std::string("-") : fmt(v));
  return s;
}

// The metrics.jsonl event of an overfitting alarm (docs/formats.md; the HTML report reads it).
nlohmann::json overfit_event(const OverfitAlarm& a, const std::vector<std::string>& advice) {
  nlohmann::json train = nlohmann::json::array();
  for (double v : a.train_losses) train.push_back(std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr));
  return {{"event", "overfit"}, {"step", a.step},      {"metric", "val_loss"},
          {"values", a.val_losses}, {"train_losses", train}, {"advice", advice}};
}

std::string overfit_message(const OverfitAlarm& a, const std::vector<std::string>& advice) {
  std::string s = "overfitting at step " + std::to_string(a.step) + ": over the evaluations at steps " +
                  std::to_string(a.steps.front()) + "-" + std::to_string(a.steps.back()) + " val_loss went " +
                  fmt_list(a.val_losses) + " (best " + fmt(a.best_val_loss) + " at step " + std::to_string(a.best_step) +
                  ") while the training loss fell: " + fmt_list(a.train_losses) + ". What helps:";
  for (const auto& line : advice) s += "\n  - " + line;
  return s;
}

}  // namespace

Trainer::Trainer(TrainConfig cfg, TrainerContext ctx) : cfg_(std::move(cfg)), ctx_(std::move(ctx)) {
  cfg_.validate();
}

Batch Trainer::to_device(Batch b) const {
  if (ctx_.device.is_cpu()) return b;
  for (auto& kv : b.data) kv.second = kv.second.to(ctx_.device, /*non_blocking=*/true);
  return b;
}

double Trainer::accumulate_gradients(ModelImpl& model, Task& task, const std::vector<Batch>& micro,
                                     int64_t total_units) {
  int64_t units = total_units;
  if (units == 0)
    for (const auto& b : micro) units += b.weight;
  PTFT_CHECK(units > 0, "a training step with no loss-contributing units (empty batch or all targets masked)");
  double loss_total = 0;
  for (const auto& b : micro) {
    torch::Tensor loss_sum;
    {
      compat::AutocastGuard amp(ctx_.device.type(), ctx_.precision.dtype, ctx_.precision.autocast);
      loss_sum = task.loss_sum(model, b);
    }
    if (clock_) clock_->lap(Phase::Forward);
    // Normalised over the whole effective batch, not per micro-batch: accumulating k
    // micro-batches gives exactly the gradient of one k-times batch.
    (loss_sum / static_cast<double>(units)).backward();
    loss_total += loss_sum.item<double>();
    if (clock_) clock_->lap(Phase::Backward);
  }
  return loss_total / static_cast<double>(units);
}

nlohmann::json Trainer::evaluate(ModelImpl& model, Task& task, DataSource& src) {
  const bool was_training = model.is_training();
  model.eval();
  torch::NoGradGuard ng;
  auto acc = task.new_eval();
  int64_t n = src.eval_batches(cfg_.batch_size);
  // train.eval_batches counts batches of the whole (all-rank) batch: rank 0 evaluates the same
  // examples whatever the number of processes.
  const int64_t world = ctx_.group ? ctx_.group->world_size() : 1;
  if (cfg_.eval_batches > 0) n = std::min(n, cfg_.eval_batches * world);
  for (int64_t i = 0; i < n; ++i) {
    compat::AutocastGuard amp(ctx_.device.type(), ctx_.precision.dtype, ctx_.precision.autocast);
    acc->add(model, to_device(src.eval_batch(i, cfg_.batch_size)));
  }
  model.train(was_training);
  return acc->result();
}

nlohmann::json Trainer::trainer_state(int64_t step, const FitResult& r, int64_t bad_evals, const ModelEma* ema,
                                      double elapsed_s) const {
  const int64_t world = ctx_.group ? ctx_.group->world_size() : 1;
  const int64_t per_step = cfg_.batch_size * cfg_.grad_accum * world;  // all ranks
  nlohmann::json st = {{"step", step},
          {"samples_seen", step * per_step},
          {"data_position", {{"step", step}, {"micro_batch", cfg_.batch_size}, {"grad_accum", cfg_.grad_accum},
                             {"world_size", world}}},
          {"best_metric", std::isnan(r.best_metric) ? nlohmann::json(nullptr) : nlohmann::json(r.best_metric)},
          {"best_step", r.best_step},
          {"metric", cfg_.metric},
          {"bad_evals", bad_evals},
          {"rng", {{"torch_cpu", rng_state_b64()}}},
          {"seed", cfg_.seed},
          {"precision", ctx_.precision.name},  // what precision: auto chose, kept on resume
          {"elapsed_s", elapsed_s},
          {"units_seen", r.units_seen}};
  if (ema) st["ema"] = {{"decay", ema->decay()}, {"tau", ema->tau()}, {"updates", ema->updates()}};
  return st;
}

void Trainer::save(CheckpointSet& set, int64_t step, ModelImpl& model, Optimizer& opt, const FitResult& r,
                   int64_t bad_evals, const ModelEma* ema, double elapsed_s) {
  set.save(step, [&](const std::string& dir) {
    Checkpoint c;
    c.config = ctx_.checkpoint_config;
    // Under EMA, model.safetensors is the average (what eval/predict/--from use) and the raw
    // weights that --resume continues from go next to it.
    c.model = ema ? ema->state() : state_dict(model);
    if (ema) c.training_model = state_dict(model);
    c.optimizer = opt.state();
    c.trainer_state = trainer_state(step, r, bad_evals, ema, elapsed_s);
    write_checkpoint_files(dir, c);
    if (ctx_.checkpoint_extras) {
      std::optional<EmaSwap> in;  // extras (LoRA adapter files) see the weights model.safetensors holds
      if (ema) in.emplace(*ema, model);
      ctx_.checkpoint_extras(dir, model);
    }
  });
}

FitResult Trainer::fit(ModelImpl& model, Task& task, DataSource& train, DataSource* val, Optimizer& opt,
                       const Checkpoint* resume) {
  FitResult r;
  r.best_metric = std::numeric_limits<double>::quiet_NaN();
  const std::string mode = cfg_.resolved_mode();
  int64_t start = 0, bad_evals = 0;
  int64_t ema_updates = -1;  // from the checkpoint; -1 = it has no EMA state
  double elapsed_before = 0;  // training seconds of the processes before a resume
  if (resume) {
    const std::string src = resume->dir + "/trainer_state.json";
    const auto& st = resume->trainer_state;
    if (st.is_null() || !st.contains("step"))
      throw UserError("'" + resume->dir + "' has no trainer_state.json",
                      "it is a weights-only checkpoint: fine-tune from it with --from instead of resuming");
    try {
      start = st.at("step").get<int64_t>();
      if (!st.at("best_metric").is_null()) r.best_metric = st.at("best_metric").get<double>();
      r.best_step = st.at("best_step").get<int64_t>();
      bad_evals = st.value("bad_evals", int64_t{0});
      elapsed_before = st.value("elapsed_s", 0.0);
      r.units_seen = st.value("units_seen", int64_t{0});  // (checkpoints before this key: counted from here)
      if (st.contains("ema")) ema_updates = st.at("ema").at("updates").get<int64_t>();
      opt.load_state(resume->optimizer, resume->dir + "/optimizer.safetensors");
      set_rng_state_b64(st.at("rng").at("torch_cpu").get<std::string>(), src);
    } catch (const nlohmann::json::exception& e) {
      throw UserError(src + ": " + e.what(), "the file is corrupt; resume from an earlier step-* checkpoint");
    }
    if (st.contains("data_position") && main_rank()) {
      // Step s reads the same examples whenever micro_batch x grad_accum x world_size is the
      // same (data/sampling.h): a resume on another number of processes is exact when the
      // batch per process or the accumulation makes up for it.
      const auto& dp = st["data_position"];
      const int64_t world = ctx_.group ? ctx_.group->world_size() : 1;
      const int64_t was_micro = dp.value("micro_batch", cfg_.batch_size), was_accum = dp.value("grad_accum", cfg_.grad_accum),
                    was_world = dp.value("world_size", int64_t{1});
      if (was_micro * was_accum * was_world != cfg_.batch_size * cfg_.grad_accum * world)
        log_warn("resuming with " + std::to_string(cfg_.batch_size * cfg_.grad_accum * world) + " examples per step (" +
                 "train.batch_size " + std::to_string(cfg_.batch_size) + " x grad_accum " + std::to_string(cfg_.grad_accum) +
                 " x " + std::to_string(world) + " processes) but the checkpoint was written with " +
                 std::to_string(was_micro * was_accum * was_world) + " (" + std::to_string(was_micro) + " x " +
                 std::to_string(was_accum) + " x " + std::to_string(was_world) +
                 "): the run continues, but it will not reproduce an uninterrupted run");
    }
    r.step = start;  // a resume of a finished run trains no step but has completed `start`
    if (ctx_.metrics)
      ctx_.metrics->write({{"event", "resume"}, {"step", start}, {"from", resume->dir},
                           {"world_size", ctx_.group ? ctx_.group->world_size() : 1}});
    if (!ctx_.quiet) log_info("resumed from " + resume->dir + " at step " + std::to_string(start));
  }

  ProcessGroup* const group = ctx_.group;
  const bool main = main_rank();
  const std::string rank_note = group ? " (rank " + std::to_string(group->rank()) + ")" : "";
  std::optional<CheckpointSet> ckpts;  // rank 0 writes checkpoints
  if (main) ckpts.emplace(ctx_.run_dir + "/checkpoints", static_cast<int>(cfg_.keep_checkpoints));
  // A kill between saving a new best checkpoint (which moves `last`) and moving `best` leaves
  // `best` one improvement behind the resumed state: point it where the state says.
  if (main && resume && r.best_step >= 0 && std::filesystem::is_directory(ckpts->step_dir(r.best_step)))
    ckpts->mark_best(r.best_step);
  LrSchedule sched{cfg_.schedule, cfg_.lr, cfg_.warmup, cfg_.steps, cfg_.lr_min_ratio};
  Progress progress(cfg_.steps, cfg_.log_every, ctx_.quiet ? false : ::isatty(2) != 0);
  const bool show = !ctx_.quiet;
  std::vector<torch::Tensor> params = opt.params();

  model.train();
  model.to(ctx_.device);
  // A checkpoint written under EMA holds the average in model.safetensors (what the caller
  // loaded) and the weights training continues from in training_model.safetensors.
  if (resume && !resume->training_model.empty())
    load_into(model, resume->training_model, resume->dir + "/training_model.safetensors");
  std::optional<GradSync> sync;
  if (group) {
    // Every rank must continue from the same step: a run directory that some host does not
    // see (or sees an older copy of) would silently train different models.
    torch::Tensor at = torch::tensor({start}, torch::kLong).to(ctx_.device);
    group->broadcast(at, 0, "the start of training");
    const int64_t main_start = at.item<int64_t>();
    if (main_start != start)
      throw UserError("rank " + std::to_string(group->rank()) + " would " +
                          (start ? "resume at step " + std::to_string(start) : std::string("start at step 0")) +
                          " but rank 0 at step " + std::to_string(main_start),
                      "every process must see the same run directory (--out): put it on a filesystem that all "
                      "hosts share");
    broadcast_module(model, *group);  // the same weights everywhere (the same seed gives them anyway)
    sync.emplace(params, *group, cfg_.bucket_mb);
  }
  std::optional<ModelEma> ema;
  if (cfg_.ema > 0) {
    ema.emplace(model, cfg_.ema, cfg_.ema_tau);
    if (resume && ema_updates >= 0 && !resume->training_model.empty())
      ema->load(resume->model, ema_updates, resume->dir + "/model.safetensors");
    else if (resume)
      log_warn("train.ema is " + fmt(cfg_.ema) + " but '" + resume->dir + "' was trained without EMA: the average "
               "starts from its weights at step " + std::to_string(start));
  } else if (resume && !resume->training_model.empty()) {
    log_warn("train.ema is 0 but '" + resume->dir + "' was trained with EMA: training continues from its raw "
             "weights, without the average (set train.ema to continue it)");
  }
  const ModelEma* ema_ptr = ema ? &*ema : nullptr;

  retain_freed_memory();  // every step allocates the same large tensors: keep them in the heap
  const double t0 = now_seconds();
  auto elapsed = [&] { return elapsed_before + (now_seconds() - t0); };
  PhaseClock clock(ctx_.device, cfg_.phase_times == "on" || (cfg_.phase_times == "auto" && !ctx_.device.is_cuda()));
  clock_ = &clock;
  struct ClockOff {
    PhaseClock*& p;
    ~ClockOff() { p = nullptr; }
  } clock_off{clock_};
  // From the third step this process takes (the first ones allocate and build kernels; a resumed
  // run: the third after resuming); rank 0 only.
  OpProfile op_profile(ctx_.run_dir + "/profile.md", start + 3, main && !ctx_.run_dir.empty() ? cfg_.profile_steps : 0);
  const int64_t world = group ? group->world_size() : 1;
  std::optional<ResultsCsv> results;  // rank 0 writes results.csv
  if (main) results.emplace(ctx_.run_dir + "/results.csv", cfg_.batch_size * cfg_.grad_accum * world, train.size());
  if (main && resume) results->resume(start);
  auto save_ckpt = [&](int64_t at_step) {
    clock.lap(Phase::Other);
    if (main) save(*ckpts, at_step, model, opt, r, bad_evals, ema_ptr, elapsed());
    clock.lap(Phase::Checkpoint);
  };
  double interval_t = t0, interval_loss = 0;
  int64_t interval_steps = 0, interval_units = 0;
  // Data-parallel: each rank holds its share of a step's mean loss; the sum is the mean.
  auto sum_over_ranks = [&](double v, const std::string& purpose) {
    if (!group) return v;
    torch::Tensor t = torch::tensor({v}, torch::kDouble).to(ctx_.device);
    group->all_reduce_sum(t, purpose);
    return t.cpu().item<double>();
  };

  // Overfitting alarm: fed with val_loss and the mean training loss since the last evaluation.
  OverfitWatch overfit(cfg_.overfit_patience, cfg_.overfit_margin);
  double since_eval_loss = 0;
  int64_t since_eval_steps = 0;
  auto watch_overfit = [&](const nlohmann::json& ev, double train_loss) {
    if (!overfit.enabled() || !ev.contains("val_loss") || !ev["val_loss"].is_number()) return;
    const auto alarm = overfit.add(ev["step"].get<int64_t>(), ev["val_loss"].get<double>(), train_loss);
    if (!alarm) return;
    const OverfitState state{cfg_.batch_size * cfg_.grad_accum * world, r.best_step, ckpts->root()};
    const std::vector<std::string> advice = overfit_advice(*alarm, ctx_.overfit, cfg_, state);
    r.overfit_steps.push_back(alarm->step);
    if (ctx_.metrics) ctx_.metrics->write(overfit_event(*alarm, advice));
    log_warn(overfit_message(*alarm, advice));
  };

  // Evaluates the EMA weights when there are any (the raw ones are back in the model after),
  // and adds the row to results.csv.
  auto run_eval = [&](int64_t step) -> nlohmann::json {
    clock.lap(Phase::Other);
    nlohmann::json ev = {{"event", "eval"}, {"step", step}};
    {
      std::optional<EmaSwap> in;
      if (ema) in.emplace(*ema, model);
      if (val) {
        const nlohmann::json m = evaluate(model, task, *val);
        for (auto& [k, v] : m.items()) ev["val_" + k] = v;
      }
      for (auto& [name, src] : ctx_.extra_evals) {
        const nlohmann::json m = evaluate(model, task, *src);
        for (auto& [k, v] : m.items()) ev[name + "_" + k] = v;
      }
    }
    results->add_eval(ev, elapsed(), sched.at(step));
    clock.lap(Phase::Eval);
    return ev;
  };

  if (ctx_.before_step) {
    const std::string msg = ctx_.before_step(model, start + 1);
    if (show && !msg.empty()) progress.message(msg);
  }
  if (main && ctx_.eval_at_start && start == 0 && (val || !ctx_.extra_evals.empty())) {
    r.first_eval = run_eval(0);
    if (ctx_.metrics) ctx_.metrics->write(r.first_eval);
    if (show) progress.message(eval_line(r.first_eval));
    watch_overfit(r.first_eval, std::numeric_limits<double>::quiet_NaN());  // no training loss yet
  }

  // The last step of this call: cfg.steps, or ctx.stop_after_step (same schedule, stops early).
  const int64_t end_step = ctx_.stop_after_step > 0 ? std::min(ctx_.stop_after_step, cfg_.steps) : cfg_.steps;
  Prefetcher prefetch(train, start, end_step, cfg_.batch_size, cfg_.grad_accum);
  int64_t step = start;
  while (step < end_step) {
    const int64_t s = step + 1;  // the step being taken (1-based)
    clock.lap(Phase::Other);
    op_profile.before_step(s);
    if (ctx_.before_step && s > start + 1) {
      const std::string msg = ctx_.before_step(model, s);
      if (!msg.empty()) {
        if (show) progress.message(msg);
        if (ctx_.metrics) ctx_.metrics->write({{"event", "unfreeze"}, {"step", s}, {"message", msg}});
      }
    }
    const double lr = sched.at(s);
    std::vector<Batch> micro;
    micro.reserve(cfg_.grad_accum);
    int64_t units = 0;
    for (int64_t m = 0; m < cfg_.grad_accum; ++m) {
      micro.push_back(to_device(prefetch.next()));
      units += micro.back().weight;
    }
    clock.lap(Phase::Data);
    // Data-parallel: the units of every rank's micro-batches (the loss's denominator), and
    // whether any rank was asked to stop (all stop after this step).
    bool stop_requested = StopSignals::requested();
    if (group) {
      torch::Tensor t = torch::tensor({static_cast<double>(units), stop_requested ? 1.0 : 0.0}, torch::kDouble)
                            .to(ctx_.device);
      group->all_reduce_sum(t, "step " + std::to_string(s));
      t = t.cpu();
      units = static_cast<int64_t>(std::llround(t[0].item<double>()));
      stop_requested = t[1].item<double>() > 0;
      clock.lap(Phase::Sync);
    }
    const double loss = accumulate_gradients(model, task, micro, units);
    if (sync) {
      sync->all_reduce("step " + std::to_string(s));
      clock.lap(Phase::Sync);
    }
    const double grad_norm = ptft::grad_norm(params);
    if (!std::isfinite(loss) || !std::isfinite(grad_norm)) {
      progress.finish();
      if (ctx_.metrics)
        ctx_.metrics->write({{"event", "error"}, {"step", s}, {"loss", std::isfinite(loss) ? loss : -1.0},
                             {"message", "non-finite loss or gradient"}});
      auto last = main ? ckpts->last_dir() : std::nullopt;
      throw TrainingDiverged("training diverged at step " + std::to_string(s) + rank_note + ": loss " + fmt(loss) +
                                 ", gradient norm " + fmt(grad_norm) + " (not finite); stopped without saving",
                             "lower train.lr (now " + fmt(cfg_.lr) + "), keep train.grad_clip > 0 or use more "
                             "warmup; the last good checkpoint is " + (last ? *last : std::string("(none yet)")));
    }
    opt.step(lr, clip_coefficient(grad_norm, cfg_.grad_clip));  // clipping scales while AdamW reads
    opt.zero_grad();
    if (ema) ema->update(model);
    clock.lap(Phase::Optimizer);
    op_profile.after_step(s);
    step = s;
    r.step = step;
    r.units_seen += units;
    interval_loss += loss;
    interval_units += units;
    ++interval_steps;
    since_eval_loss += loss;
    ++since_eval_steps;

    if (step % cfg_.log_every == 0 || step == end_step) {
      interval_loss = sum_over_ranks(interval_loss, "the loss of step " + std::to_string(step));
      const double now = now_seconds();
      const double ups = interval_units / std::max(1e-9, now - interval_t);
      nlohmann::json ev = {{"event", "train"},    {"step", step},         {"loss", interval_loss / interval_steps},
                           {"lr", lr},            {"grad_norm", grad_norm}, {task.unit() + "_per_s", ups},
                           {"elapsed_s", now - t0}};
      if (clock.on()) ev["phase_s"] = clock.interval();
      std::string parts;
      const std::map<std::string, double> components = task.take_loss_components();
      for (const auto& [name, value] : components) {
        ev[name] = value;
        parts += " | " + name + " " + fmt(value);
      }
      if (main) results->add_train(interval_loss / interval_steps, components);
      if (ema) ev["ema_decay"] = ema->current_decay();
      if (model.flops_per_unit() > 0) {
        const double tflops = 3.0 * model.flops_per_unit() * ups / 1e12;  // forward + backward
        ev["tflops"] = tflops;
        if (cfg_.peak_tflops > 0) ev["mfu"] = tflops / (cfg_.peak_tflops * static_cast<double>(world));
      }
      if (ctx_.metrics) ctx_.metrics->write(ev);
      if (show)
        progress.update(step, "loss " + fmt(interval_loss / interval_steps) + parts + " | lr " + fmt(lr, "%.2e") +
                                  " | gnorm " + fmt(grad_norm, "%.3f") + " | " + fmt(ups, "%.0f") + " " +
                                  task.unit() + "/s" +
                                  (ev.contains("mfu") ? " | MFU " + fmt(100 * ev["mfu"].get<double>(), "%.1f") + "%" : ""));
      interval_t = now;
      interval_loss = 0;
      interval_steps = 0;
      interval_units = 0;
    }

    bool stop_early = false;
    const bool eval_now = (cfg_.eval_every > 0 && step % cfg_.eval_every == 0) || step == end_step;
    double train_since_eval = std::numeric_limits<double>::quiet_NaN();  // every rank takes part
    if (eval_now && val && overfit.enabled()) {
      train_since_eval = sum_over_ranks(since_eval_loss, "the training loss before the evaluation at step " +
                                                             std::to_string(step)) / static_cast<double>(since_eval_steps);
      since_eval_loss = 0;
      since_eval_steps = 0;
    }
    if (main && eval_now && (val || !ctx_.extra_evals.empty())) {
      auto ev = run_eval(step);
      r.last_eval = ev;
      if (ctx_.metrics) ctx_.metrics->write(ev);
      if (show) progress.message(eval_line(ev));
      if (ev.contains(cfg_.metric) && ev[cfg_.metric].is_number()) {
        const double value = ev[cfg_.metric].get<double>();
        if (improved(value, r.best_metric, mode, cfg_.min_delta)) {
          r.best_metric = value;
          r.best_step = step;
          bad_evals = 0;
          save_ckpt(step);
          ckpts->mark_best(step);
          if (ctx_.metrics)
            ctx_.metrics->write({{"event", "best"}, {"step", step}, {cfg_.metric, value}});
        } else {
          ++bad_evals;
          if (cfg_.patience > 0 && bad_evals >= cfg_.patience) stop_early = true;
        }
      } else if (val && !ev.contains(cfg_.metric)) {
        // Without data.val only the extra evaluations run (a fine-tune's general_*): no best
        // checkpoint is kept then, and that is no error.
        throw UserError("train.metric '" + cfg_.metric + "' is not among the evaluation metrics",
                        "available: " + [&] {
                          std::string s;
                          for (auto& [k, v] : ev.items())
                            if (v.is_number()) s += k + " ";
                          return s;
                        }());
      }
      watch_overfit(ev, train_since_eval);
    }

    if (group && eval_now && (val || !ctx_.extra_evals.empty())) {  // rank 0 decided
      torch::Tensor t = torch::tensor({stop_early ? 1.0 : 0.0}, torch::kDouble).to(ctx_.device);
      group->broadcast(t, 0, "the evaluation at step " + std::to_string(step));
      stop_early = t.cpu().item<double>() > 0;
    }
    const bool stop_signal = group ? stop_requested : StopSignals::requested();
    const bool save_now = (cfg_.save_every > 0 && step % cfg_.save_every == 0) || step == end_step;
    if (save_now || stop_early || stop_signal) save_ckpt(step);

    if (stop_early) {
      r.early_stopped = true;
      if (ctx_.metrics)
        ctx_.metrics->write({{"event", "early_stop"}, {"step", step}, {"best_step", r.best_step},
                             {cfg_.metric, r.best_metric}});
      if (show)
        progress.message("early stop at step " + std::to_string(step) + ": " + cfg_.metric + " has not improved for " +
                         std::to_string(bad_evals) + " evaluations (best " + fmt(r.best_metric) + " at step " +
                         std::to_string(r.best_step) + ")");
      break;
    }
    if (stop_signal) {
      r.interrupted = true;
      if (ctx_.metrics)
        ctx_.metrics->write({{"event", "interrupted"}, {"step", step}, {"signal", StopSignals::signal()}});
      if (main)
        progress.message("interrupted at step " + std::to_string(step) + "; checkpoint written to " +
                         ckpts->root() + "/last\nresume with: " + ctx_.resume_command);
      break;
    }
  }
  op_profile.finish();
  progress.finish();
  // No rank leaves before rank 0 has written the last checkpoint (a failure there reaches all).
  if (group) group->barrier("the end of training");
  clock.lap(Phase::Other);
  r.wall_seconds = now_seconds() - t0;
  r.elapsed_seconds = elapsed();
  if (clock.on()) r.phase_seconds = clock.totals();
  return r;
}

}  // namespace ptft

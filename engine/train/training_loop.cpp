#include "engine/train/training_loop.h"

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <map>

#include "engine/checkpoint.h"
#include "kernels/base/error.h"

namespace locdet {
namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

std::map<std::string, std::string> checkpoint_metadata(const TrainingTask& task, int epoch, double best,
                                                       int best_epoch, double train_seconds) {
  return {{kMetaTask, task.task_name()},
          {kMetaRun, task.run_json().dump()},
          {kMetaEpoch, std::to_string(epoch)},
          {kMetaBest, std::to_string(best)},
          {kMetaBestEpoch, std::to_string(best_epoch)},
          {kMetaTrainSeconds, std::to_string(train_seconds)}};
}

RunProgress progress_from_metadata(const std::map<std::string, std::string>& meta, const std::string& path) {
  RunProgress progress;
  try {
    progress.epochs_done = std::stoi(meta.at(kMetaEpoch));
    // Checkpoints from before early stopping lack the best epoch: count from the resume point;
    // those from before the time was kept count it from zero.
    progress.best_epoch =
        std::stoi(meta.count(kMetaBestEpoch) ? meta.at(kMetaBestEpoch) : meta.at(kMetaEpoch));
    if (meta.count(kMetaTrainSeconds)) progress.train_seconds = std::stod(meta.at(kMetaTrainSeconds));
  } catch (const std::exception& e) {
    fail("'", path, "' lacks readable training metadata (", e.what(),
         "); is it a checkpoint written by train_gpu?");
  }
  return progress;
}

}  // namespace

bool RunProgress::stopped_early(int patience, int epochs) const {
  return patience > 0 && epochs_done < epochs && epochs_done - best_epoch >= patience;
}

RunProgress read_run_progress(const RunDir& dir) {
  return progress_from_metadata(read_safetensors(dir.last_checkpoint()).metadata, dir.last_checkpoint());
}

TrainingResult run_training_loop(TrainingTask& task, RunDir& dir, const TrainingLoopOptions& options) {
  const auto started = std::chrono::steady_clock::now();
  const int64_t epoch_steps = task.epoch_steps();
  int start_epoch = 0;
  int64_t first_step = 0;  // within start_epoch
  double best = -1.0;
  int best_epoch = 0;         // 1-based; 0: none yet
  double seconds_before = 0;  // training time of the run's earlier sessions
  if (options.resume) {
    auto meta = load_checkpoint(dir.last_checkpoint(), task.executor(), /*strict=*/true);
    best = std::stod(meta.at(kMetaBest));
    const RunProgress progress = progress_from_metadata(meta, dir.last_checkpoint());
    best_epoch = progress.best_epoch;
    seconds_before = progress.train_seconds;
    // The epochs validated and the step counter (restored with the data cursor and the
    // schedule) say where the run stopped, also mid-epoch or between an epoch's last step
    // and its validation: the resumed run takes exactly the remaining steps.
    const int64_t done = task.steps_done();
    dir.log_resume(done);
    start_epoch = progress.epochs_done;
    first_step = done - start_epoch * epoch_steps;
    LOCDET_CHECK(first_step >= 0 && first_step <= epoch_steps, "'", dir.last_checkpoint(), "' is at step ",
                 done, " but says ", start_epoch, " epochs of ", epoch_steps,
                 " steps are done; it does not belong to ", dir.file("config.json"));
    if (start_epoch < task.epochs())
      std::fprintf(stderr, "training: resuming %s at epoch %d/%d, step %lld of %lld\n", dir.path().c_str(),
                   start_epoch + 1, task.epochs(),
                   static_cast<long long>(std::min(first_step + 1, epoch_steps)),
                   static_cast<long long>(epoch_steps));
  } else if (!options.init_from.empty()) {
    // Not strict: the optimizer's moments, step and data cursor stay fresh; every model
    // tensor must be there with its shape, or the load fails listing each mismatch.
    load_checkpoint(options.init_from, task.executor(), /*strict=*/false);
    std::fprintf(stderr, "training: starting from the weights of %s (optimizer state fresh)\n",
                 options.init_from.c_str());
  }
  // The run's configuration: written when the run starts (which creates its folder, so a
  // start that fails before here leaves nothing), rewritten when a resumed run changed (more
  // epochs).
  const nlohmann::json config = task.run_json();
  if (!options.resume || dir.read_json("config.json") != config) dir.write_json("config.json", config);
  auto train_seconds = [&] { return seconds_before + seconds_since(started); };
  // Stops the run when the loss or any gradient went NaN/Inf (the device flag accumulates, so
  // a bad step between two reads is caught). Called at every log step and before every
  // checkpoint write, so a blown-up model never replaces the last good checkpoint.
  auto stop_if_nonfinite = [&](double loss) {
    const std::string what = task.nonfinite_what();
    if (std::isfinite(loss) && what.empty()) return;
    fail("the loss became non-finite (", what.empty() ? "loss" : what, " went NaN/Inf; last loss read ", loss,
         ") at or before step ", task.steps_done(), "; training stopped. The last good checkpoint is ",
         std::filesystem::exists(dir.last_checkpoint()) ? dir.last_checkpoint() : "(none yet)",
         "; lower --lr or check the data");
  };
  // Whether `patience` epochs have passed since the best one (after `epochs_done` epochs).
  auto patience_ran_out = [&](int epochs_done) {
    return RunProgress{epochs_done, best_epoch, 0}.stopped_early(options.patience, task.epochs());
  };
  if (options.resume && first_step == 0 && patience_ran_out(start_epoch)) {
    std::fprintf(stderr,
                 "training: this run stopped early after epoch %d (best: epoch %d); nothing left to train\n",
                 start_epoch, best_epoch);
    return {TrainingEnd::kFinished, train_seconds()};
  }
  for (int epoch = start_epoch; epoch < task.epochs(); ++epoch) {
    ProgressLine progress;
    auto window_start = std::chrono::steady_clock::now();
    int64_t window_steps = 0;
    for (int64_t s = epoch == start_epoch ? first_step : 0; s < epoch_steps; ++s) {
      task.step();
      ++window_steps;
      if ((s + 1) % options.log_every == 0 || s + 1 == epoch_steps) {
        nlohmann::json record = task.train_record();
        stop_if_nonfinite(record["loss"]);
        const double ips = window_steps * task.batch() / seconds_since(window_start);
        record.update({{"kind", "train"},
                       {"epoch", epoch + 1},
                       {"step", task.steps_done()},
                       {"images_per_second", ips},
                       {"elapsed_s", train_seconds()},
                       {"executor", task.executor().mode()}});  // "cuda graph (captured)", ...
        dir.log_metrics(record);
        char text[64];
        std::snprintf(text, sizeof(text), "epoch %d/%d ", epoch + 1, task.epochs());
        progress.update(s + 1, epoch_steps, text + task.progress_text(record), ips);
        window_start = std::chrono::steady_clock::now();
        window_steps = 0;
      }
      const std::string stop = options.stop_requested ? options.stop_requested() : "";
      if (!stop.empty()) {
        progress.finish();
        stop_if_nonfinite(0.0);
        save_checkpoint(dir.last_checkpoint(), task.executor(),
                        checkpoint_metadata(task, epoch, best, best_epoch, train_seconds()));
        std::fprintf(stderr, "training: stopped by %s at step %lld; saved %s\n", stop.c_str(),
                     static_cast<long long>(task.steps_done()), dir.last_checkpoint().c_str());
        if (!options.resume_command.empty())
          std::fprintf(stderr, "  continue exactly where it stopped with: %s\n",
                       options.resume_command.c_str());
        return {TrainingEnd::kStopped, train_seconds()};
      }
    }
    progress.finish();

    stop_if_nonfinite(0.0);
    const auto val_start = std::chrono::steady_clock::now();
    Validation val = task.validate();
    const double score = val.record.at("score");
    const bool improved = score > best;
    if (improved) {
      best = score;
      best_epoch = epoch + 1;
    }
    val.record.update({{"kind", "val"},
                       {"epoch", epoch + 1},
                       {"step", task.steps_done()},
                       {"seconds", seconds_since(val_start)},
                       {"elapsed_s", train_seconds()}});
    dir.log_metrics(val.record);
    if (val.write_overlay) {
      val.write_overlay(dir.file("overlays/val.png"));
      dir.log_image("val/overlay", dir.file("overlays/val.png"), task.steps_done());
    }
    std::fprintf(stderr, "epoch %d/%d: val %s%s\n", epoch + 1, task.epochs(), val.summary.c_str(),
                 improved ? " (best)" : "");
    const auto meta = checkpoint_metadata(task, epoch + 1, best, best_epoch, train_seconds());
    if (improved) save_checkpoint(dir.best_checkpoint(), task.executor(), meta);
    // The resume point is written after the best model, so a resumed run never lacks it.
    save_checkpoint(dir.last_checkpoint(), task.executor(), meta);
    if (patience_ran_out(epoch + 1)) {
      dir.log_metrics({{"kind", "early_stop"},
                       {"epoch", epoch + 1},
                       {"step", task.steps_done()},
                       {"best_epoch", best_epoch},
                       {"best_score", best},
                       {"patience", options.patience}});
      std::fprintf(stderr,
                   "training: early stop after epoch %d of %d: the validation score has not improved for %d "
                   "epoch(s) (patience %d); keeping the best model, epoch %d (score %.4f)\n",
                   epoch + 1, task.epochs(), epoch + 1 - best_epoch, options.patience, best_epoch, best);
      break;
    }
  }
  return {TrainingEnd::kFinished, train_seconds()};
}

}  // namespace locdet

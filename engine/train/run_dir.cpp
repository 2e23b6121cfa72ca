#include "engine/train/run_dir.h"

#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>

#include "kernels/base/atomic_file.h"
#include "kernels/base/error.h"

namespace locdet {

namespace fs = std::filesystem;

RunDir::RunDir(const std::string& path, bool resume) : path_(path) {
  const bool has_run = fs::exists(file("config.json"));
  if (resume) {
    if (!has_run)
      fail("cannot resume: '", path, "' holds no run (no config.json); start a new run without --resume");
    if (!fs::exists(last_checkpoint()))
      fail("cannot resume: '", last_checkpoint(), "' is missing; start a new run or pick the right --out");
  } else if (has_run) {
    fail("'", path, "' already holds a run; pass --resume to continue it, or choose another --out");
  }
  check_dir_creatable(path);
}

RunDir::~RunDir() {
  if (metrics_) std::fclose(metrics_);
}

void RunDir::create() {
  if (created_) return;
  ensure_writable_dir(path_);
  ensure_writable_dir(file("overlays"));
  metrics_ = std::fopen(file("metrics.jsonl").c_str(), "a");
  if (!metrics_)
    fail("cannot open '", file("metrics.jsonl"), "' for appending; check the folder's permissions");
  events_ = std::make_unique<EventFileWriter>(path_);
  created_ = true;
}

void RunDir::write_json(const std::string& name, const nlohmann::json& value) {
  create();
  write_file_atomic(file(name), value.dump(2) + "\n");
}

nlohmann::json RunDir::read_json(const std::string& name) const {
  std::ifstream in(file(name));
  if (!in) fail("cannot read '", file(name), "'");
  try {
    return nlohmann::json::parse(in);
  } catch (const nlohmann::json::exception& e) {
    fail("'", file(name), "' is not valid JSON (", e.what(), ")");
  }
}

void RunDir::log_metrics(const nlohmann::json& record) {
  create();
  const std::string line = record.dump() + "\n";
  if (std::fwrite(line.data(), 1, line.size(), metrics_) != line.size() || std::fflush(metrics_) != 0)
    fail("cannot append to '", file("metrics.jsonl"), "' (disk full?)");
  const std::string kind = record.value("kind", std::string("metrics"));
  const int64_t step = record.value("step", int64_t{0});
  std::vector<std::pair<std::string, float>> scalars;
  for (const auto& [key, value] : record.items())
    if (value.is_number() && key != "step") scalars.emplace_back(kind + "/" + key, value.get<float>());
  if (!scalars.empty()) events_->write_event(encode_scalars_event(wall_time_now(), step, scalars));
}

void RunDir::log_image(const std::string& tag, const std::string& png_path, int64_t step) {
  create();
  std::ifstream in(png_path, std::ios::binary);
  const std::string png((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  // The PNG header: signature, IHDR length and name, width and height (big-endian), bit depth,
  // colour type (0 gray, 2 RGB, 4 gray + alpha, 6 RGBA).
  auto be32 = [&](size_t at) {
    uint32_t v = 0;
    for (size_t k = 0; k < 4; ++k) v = (v << 8) | static_cast<unsigned char>(png[at + k]);
    return static_cast<int>(v);
  };
  if (png.size() < 26 || png.compare(12, 4, "IHDR") != 0)
    fail("cannot log '", png_path, "' to TensorBoard: not a PNG file");
  const int channels[7] = {1, 0, 3, 0, 2, 0, 4};
  const int type = static_cast<unsigned char>(png[25]);
  events_->write_event(encode_image_event(wall_time_now(), step, tag, png, be32(20), be32(16),
                                          type <= 6 ? channels[type] : 3));
}

void RunDir::log_resume(int64_t step) {
  create();
  // SessionLog START at step + 1: TensorBoard's EventAccumulator then purges every value at
  // that step or later from what it has read so far (the earlier files).
  events_->write_event(encode_session_start_event(wall_time_now(), step + 1));
}

namespace {
double now_s() {
  using namespace std::chrono;
  return duration<double>(steady_clock::now().time_since_epoch()).count();
}
std::string format_duration(double seconds) {
  char text[32];
  const long s = static_cast<long>(seconds + 0.5);
  if (s >= 3600) {
    std::snprintf(text, sizeof(text), "%ldh%02ldm", s / 3600, (s / 60) % 60);
  } else {
    std::snprintf(text, sizeof(text), "%ldm%02lds", s / 60, s % 60);
  }
  return text;
}
}  // namespace

ProgressLine::ProgressLine(double interval_s) : tty_(::isatty(STDERR_FILENO)), interval_s_(interval_s) {}

void ProgressLine::update(long done, long total, const std::string& text, double items_per_second) {
  const double now = now_s();
  if (!tty_ && now - last_print_ < interval_s_ && done < total) return;
  if (tty_ && now - last_print_ < 0.2 && done < total) return;
  last_print_ = now;
  const double fraction = total > 0 ? static_cast<double>(done) / total : 0.0;
  constexpr int kWidth = 24;
  const int filled = static_cast<int>(fraction * kWidth);
  std::string bar(filled, '#');
  bar.resize(kWidth, '.');
  std::fprintf(stderr, "%s[%s] %3.0f%% %ld/%ld %s | %.0f img/s", tty_ ? "\r" : "", bar.c_str(),
               fraction * 100.0, done, total, text.c_str(), items_per_second);
  if (rate_start_ < 0) {
    rate_start_ = now;
    rate_done_ = done;
  } else if (done > rate_done_) {
    const double eta = (now - rate_start_) / (done - rate_done_) * (total - done);
    std::fprintf(stderr, " | ETA %s", format_duration(eta).c_str());
  }
  std::fprintf(stderr, tty_ ? "\033[K" : "\n");
  dirty_ = tty_;
}

void ProgressLine::finish() {
  if (dirty_) std::fprintf(stderr, "\n");
  dirty_ = false;
  rate_start_ = -1;
}

}  // namespace locdet

#include "pipeline.h"

#include <ATen/Functions.h>
#include <spdlog/spdlog.h>
#include <sys/resource.h>

#include <chrono>
#include <cmath>
#include <numeric>

#include "audio/decode.h"
#include "audio/stream_resampler.h"
#include "features/log_mel.h"
#include "streaming/level_meter.h"

namespace escd::daemon {
namespace {

using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

}  // namespace

struct Pipeline::State {
  FrontEndConfig front_end;
  StreamResampler resampler;
  StreamingLogMel log_mel;
  int64_t hop_frames;
  size_t hop_samples;
  uint64_t samples = 0;                // 16 kHz samples consumed: the stream clock
  std::vector<float> level_block;      // samples of the current level hop
  std::vector<float> frames, mono, resampled, raw;
  Clock::time_point started = Clock::now(), last_health = Clock::now();
  double cpu_at_last_health = cpu_seconds();
  double cpu_percent = 0.0;

  State(int source_rate, ResampleQuality quality, int64_t hop)
      : resampler(source_rate, 16000, quality), log_mel(front_end), hop_frames(hop), hop_samples(hop * 512) {}
  double now() const { return static_cast<double>(samples) / front_end.sample_rate; }
};

Pipeline::Pipeline(DaemonOptions options, std::unique_ptr<AudioSource> source, Publisher& publisher)
    : options_(std::move(options)), source_(std::move(source)), publisher_(publisher) {
  const auto hop_frames = std::max<int64_t>(1, std::llround(options_.hop_ms / 32.0));
  for (const std::string& model : options_.models) {
    const std::string path = resolve_checkpoint(model, options_);
    runners_.push_back(std::make_unique<ModelRunner>(model, path, hop_frames, options_.events));
    spdlog::info("model {}: {} ({})", model, path, runners_.back()->health()["mode"].get<std::string>());
  }
  // Files and stdin get the offline (best) converter, so that a file through escd gives the same
  // frames as esc-train's decoding; a live microphone gets the 3x cheaper medium one.
  const ResampleQuality quality = options_.input.empty() ? ResampleQuality::Medium : ResampleQuality::Best;
  state_ = std::make_unique<State>(source_->sample_rate(), quality, hop_frames);
  spdlog::info("input {}: {} Hz, {} channel(s); hop {} frames ({} ms); publishing on {}", source_->stats().device,
               source_->sample_rate(), source_->channels(), hop_frames, hop_frames * 32, publisher_.endpoint());
}

Pipeline::~Pipeline() = default;

void Pipeline::process_frame(const float* frame) {
  for (auto& runner : runners_) {
    const std::optional<WindowResult> result = runner->push(frame);
    if (!result) continue;
    // Stream times of the window's first and last samples (frame j covers [512 j, 512 j + 1024)).
    const double end_t = static_cast<double>((result->end_frame - 1) * 512 + 1024) / 16000.0;
    const double start_t = static_cast<double>((result->end_frame - result->frames) * 512) / 16000.0;
    const at::Tensor probabilities = at::softmax(result->logits, 0);
    const std::vector<float> p(probabilities.data_ptr<float>(), probabilities.data_ptr<float>() + probabilities.numel());
    const auto& names = runner->checkpoint().class_names;
    std::vector<size_t> order(p.size());
    std::iota(order.begin(), order.end(), 0);
    const size_t k = std::min<size_t>(options_.top_k, p.size());
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
    nlohmann::json top = nlohmann::json::array();
    for (size_t i = 0; i < k; ++i) top.push_back({{"label", names[order[i]]}, {"p", p[order[i]]}});
    nlohmann::json body = {{"model", runner->name()},
                           {"window", {{"start", start_t}, {"end", end_t}, {"frames", result->frames}}},
                           {"warming_up", result->warming_up},
                           {"top", top}};
    if (options_.full_scores) body["scores"] = p;
    publisher_.publish("esc.scores." + runner->name(), std::move(body), end_t);
    if (result->warming_up) continue;  // events only from full windows
    for (const DetectionEvent& e : runner->events().update(p, end_t)) {
      publisher_.publish("esc.event." + runner->name(),
                         {{"model", runner->name()}, {"type", e.kind == DetectionEvent::Kind::kStart ? "start" : "end"},
                          {"label", e.label}, {"class", e.class_index}, {"score", e.score}, {"started_at", e.started_at}},
                         e.t);
    }
  }
}

void Pipeline::process_samples(const float* samples, size_t n) {
  State& s = *state_;
  s.frames.clear();
  s.log_mel.push(samples, n, s.frames);
  // Levels per hop, aligned with the stream clock.
  for (size_t i = 0; i < n; ++i) {
    s.level_block.push_back(samples[i]);
    ++s.samples;
    if (s.level_block.size() == s.hop_samples) {
      const Level level = measure_level(s.level_block.data(), s.level_block.size());
      publisher_.publish("esc.level", {{"rms", level.rms}, {"dbfs", level.dbfs}, {"peak", level.peak}}, s.now());
      s.level_block.clear();
    }
  }
  const auto n_mels = static_cast<size_t>(s.front_end.n_mels);
  for (size_t f = 0; f * n_mels < s.frames.size(); ++f) process_frame(s.frames.data() + f * n_mels);
}

void Pipeline::publish_health() {
  State& s = *state_;
  const auto now = Clock::now();
  const double wall = std::chrono::duration<double>(now - s.last_health).count();
  const double cpu = cpu_seconds();
  if (wall > 0) s.cpu_percent = 100.0 * (cpu - s.cpu_at_last_health) / wall;
  s.cpu_at_last_health = cpu;
  s.last_health = now;
  const SourceStats in = source_->stats();
  nlohmann::json models = nlohmann::json::object();
  for (const auto& r : runners_) models[r->name()] = r->health();
  nlohmann::json body = {
      {"uptime_s", std::chrono::duration<double>(now - s.started).count()},
      {"input", {{"device", in.device}, {"rate", source_->sample_rate()}, {"channels", source_->channels()},
                 {"connected", in.connected}, {"device_overflows", in.device_overflows},
                 {"ring_overflows", in.ring_overflows}, {"reconnects", in.reconnects}, {"last_error", in.last_error},
                 {"frames", in.frames_delivered}, {"non_finite_replaced", in.non_finite_replaced},
                 {"out_of_range_clamped", in.out_of_range_clamped}}},
      {"publisher", {{"sent", publisher_.sent()}, {"send_failures", publisher_.send_failures()}}},
      {"models", models},
      {"cpu_percent", s.cpu_percent}};
  publisher_.publish("esc.health", std::move(body), s.now());
  if (on_health) {
    on_health(fmt::format("{} Hz from {}{}, {} model(s), cpu {:.1f}%", source_->sample_rate(), in.device,
                          in.connected ? "" : " (DISCONNECTED)", runners_.size(), s.cpu_percent));
  }
}

void Pipeline::reload_config() {
  if (options_.config_path.empty()) {
    spdlog::warn("SIGHUP: no config file to reload");
    return;
  }
  DaemonOptions fresh = options_;
  try {
    apply_config_file(fresh, options_.config_path);
    validate(fresh);
  } catch (const std::exception& e) {
    spdlog::error("SIGHUP: keeping the current settings, the config does not load: {}", e.what());
    return;
  }
  options_.events = fresh.events;
  options_.top_k = fresh.top_k;
  options_.full_scores = fresh.full_scores;
  for (auto& runner : runners_) {
    for (const DetectionEvent& e : runner->events().reconfigure(options_.events, state_->now())) {
      publisher_.publish("esc.event." + runner->name(),
                         {{"model", runner->name()}, {"type", "end"}, {"label", e.label}, {"class", e.class_index},
                          {"score", e.score}, {"started_at", e.started_at}, {"reason", "reconfigured"}},
                         e.t);
    }
  }
  spdlog::info("SIGHUP: reloaded thresholds and filters from {}", options_.config_path);
}

int Pipeline::run(PipelineSignals& signals) {
  State& s = *state_;
  const auto health_every = std::chrono::duration<double>(options_.health_interval_s);
  const size_t block = 1024;
  if (on_ready) on_ready("listening");
  publish_health();
  while (!signals.stop.load()) {
    if (signals.reload.exchange(false)) reload_config();
    s.raw.clear();
    const size_t got = source_->read(s.raw, block, std::chrono::milliseconds(100));
    if (got > 0) {
      s.mono = mix_to_mono(s.raw.data(), got, source_->channels());
      s.resampled.clear();
      s.resampler.process(s.mono.data(), s.mono.size(), s.resampled);
      process_samples(s.resampled.data(), s.resampled.size());
    } else if (source_->finished()) {
      s.resampled.clear();
      s.resampler.flush(s.resampled);
      process_samples(s.resampled.data(), s.resampled.size());
      break;
    }
    if (Clock::now() - s.last_health >= health_every) publish_health();
  }
  // An event always ends: close what is open at the current stream time.
  for (auto& runner : runners_) {
    for (const DetectionEvent& e : runner->events().finish(s.now())) {
      publisher_.publish("esc.event." + runner->name(),
                         {{"model", runner->name()}, {"type", "end"}, {"label", e.label}, {"class", e.class_index},
                          {"score", e.score}, {"started_at", e.started_at}, {"reason", "shutdown"}},
                         e.t);
    }
  }
  publish_health();
  spdlog::info("stopped after {:.1f} s of audio", s.now());
  return 0;
}

}  // namespace escd::daemon

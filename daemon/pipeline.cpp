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
#include "models/common/label_set.h"
#include "silence_watch.h"
#include "streaming/level_meter.h"

namespace escd::daemon {
namespace {

using Clock = std::chrono::steady_clock;

double cpu_seconds() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_utime.tv_sec + usage.ru_stime.tv_sec + 1e-6 * (usage.ru_utime.tv_usec + usage.ru_stime.tv_usec);
}

// hop_ms in whole frames (32 ms each), at least one.
int64_t frames_per_hop(const DaemonOptions& options) {
  const FrontEndConfig f;
  const double frame_ms = 1000.0 * f.hop / f.sample_rate;
  return std::max<int64_t>(1, std::llround(options.hop_ms / frame_ms));
}

}  // namespace

struct Pipeline::State {
  FrontEndConfig front_end;
  StreamResampler resampler;
  StreamingLogMel log_mel;
  size_t hop_samples;
  uint64_t samples = 0;                // 16 kHz samples consumed: the stream clock
  uint64_t segment_start = 0;          // stream clock at the last restart (frame 0 of the windows)
  uint64_t segment_frames = 0;         // frames computed since then
  SilenceWatch silence;
  bool connected = true;               // the source's state when the loop last looked
  uint64_t discontinuities = 0;        // the source's count when the loop last looked
  uint64_t stream_restarts = 0;
  std::vector<float> level_block;      // samples of the current level hop
  std::vector<float> frames, mono, resampled, raw;
  Clock::time_point started = Clock::now(), last_health = Clock::now();
  double cpu_at_last_health = cpu_seconds();
  double cpu_percent = 0.0;

  State(int source_rate, ResampleQuality quality, int64_t hop)
      : resampler(source_rate, front_end.sample_rate, quality),
        log_mel(front_end),
        hop_samples(static_cast<size_t>(hop * front_end.hop)) {}
  double now() const { return static_cast<double>(samples) / front_end.sample_rate; }
};

Pipeline::Pipeline(DaemonOptions options, MessageSink& publisher)
    : options_(std::move(options)), hop_frames_(frames_per_hop(options_)), publisher_(publisher) {
  for (const std::string& model : options_.models) {
    const std::string path = resolve_checkpoint(model, options_);
    runners_.push_back(std::make_unique<ModelRunner>(model, path, hop_frames_, options_.events));
    spdlog::info("model {}: {} ({})", model, path, runners_.back()->mode());
  }
  if (options_.ensemble) {
    std::vector<std::vector<std::string>> label_sets;
    std::vector<std::string> names;
    for (const auto& runner : runners_) {
      label_sets.push_back(runner->checkpoint().class_names);
      names.push_back("model " + runner->name());
    }
    try {
      ensemble_labels_ = ensemble_labels(label_sets, names);
    } catch (const std::invalid_argument& e) {
      throw std::runtime_error(std::string("--ensemble: ") + e.what());
    }
    ensemble_ = std::make_unique<EnsembleWindow>(runners_.size(), ensemble_labels_);
    ensemble_events_ = std::make_unique<EventDetector>(options_.events, ensemble_labels_);
    spdlog::info("ensemble of {} models: combined probabilities on esc.scores.ensemble", runners_.size());
  }
  const RecordingOptions& r = options_.recordings;
  if (r.enabled) {
    const RetentionLimits limits{r.max_age_days * 86400.0, static_cast<uint64_t>(r.max_total_mb * 1e6),
                                 r.max_files_per_class};
    // At most two minutes of 48 kHz audio waits for the disk; beyond that recordings are dropped.
    recording_writer_ = std::make_unique<RecordingWriter>(recordings_directory(r), limits, 120 * 48000);
    spdlog::info("recordings: into {} ({} s before and {} s after each event, {} rate)", recording_writer_->directory(),
                 r.pre_roll_s, r.post_roll_s, r.sample_rate);
  }
}

Pipeline::~Pipeline() = default;

void Pipeline::publish_window(const std::string& model, const std::vector<std::string>& names,
                              const WindowResult& window, const std::vector<float>& p, EventDetector& events) {
  // Stream times of the window's first and last samples (frame j of the current segment covers
  // [hop j, hop j + n_fft) after the segment's start).
  const FrontEndConfig& f = state_->front_end;
  const auto segment = static_cast<double>(state_->segment_start);
  const double end_t = (segment + static_cast<double>((window.end_frame - 1) * f.hop + f.n_fft)) / f.sample_rate;
  const double start_t = (segment + static_cast<double>((window.end_frame - window.frames) * f.hop)) / f.sample_rate;
  std::vector<size_t> order(p.size());
  std::iota(order.begin(), order.end(), 0);
  const size_t k = std::min<size_t>(options_.top_k, p.size());
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
  nlohmann::json top = nlohmann::json::array();
  for (size_t i = 0; i < k; ++i) top.push_back({{"label", names[order[i]]}, {"p", p[order[i]]}});
  nlohmann::json body = {{"model", model},
                         {"window", {{"start", start_t}, {"end", end_t}, {"frames", window.frames}}},
                         {"warming_up", window.warming_up},
                         {"top", top}};
  if (const std::optional<size_t> b = background_index(names)) {
    body["background"] = events.is_background(p);
    body["background_p"] = p[*b];
  }
  if (options_.full_scores) body["scores"] = p;
  publisher_.publish("esc.scores." + model, std::move(body), end_t);
  if (window.warming_up) return;  // events only from full windows
  for (const DetectionEvent& e : events.update(p, end_t)) publish_event(model, e);
}

void Pipeline::publish_event(const std::string& model, const DetectionEvent& e, const std::string& reason,
                             bool more_audio) {
  const bool start = e.kind == DetectionEvent::Kind::kStart;
  nlohmann::json body = {{"model", model},   {"type", start ? "start" : "end"},
                         {"label", e.label}, {"class", e.class_index},
                         {"score", e.score}, {"started_at", e.started_at}};
  if (!reason.empty()) body["reason"] = reason;
  if (recorder_ && start) {
    recorder_->start(model, e.class_index, e.label, e.score, e.t, std::chrono::system_clock::now());
  } else if (recorder_) {
    if (const std::optional<RecordingSpan> span = recorder_->end(model, e.class_index, e.t, more_audio)) {
      body["recording"] = {{"file", span->file}, {"start", span->start}, {"end", span->end},
                           {"truncated", span->truncated}};
    }
  }
  publisher_.publish("esc.event." + model, std::move(body), e.t);
}

void Pipeline::process_frame(const float* frame) {
  if (ensemble_) ensemble_->begin_frame();
  for (auto& runner : runners_) {
    const std::optional<WindowResult> result = runner->push(frame);
    if (!result) continue;
    const at::Tensor probabilities = at::softmax(result->logits, 0);
    const std::vector<float> p(probabilities.data_ptr<float>(), probabilities.data_ptr<float>() + probabilities.numel());
    publish_window(runner->name(), runner->checkpoint().class_names, *result, p, runner->events());
    if (ensemble_) ensemble_->add(*result, p, runner->checkpoint().class_names);
  }
  if (!ensemble_) return;
  if (const std::optional<std::vector<float>> mean = ensemble_->finish_frame()) {
    publish_window("ensemble", ensemble_labels_, ensemble_->window(), *mean,
                   *ensemble_events_);
  }
}

std::vector<std::pair<std::string, EventDetector*>> Pipeline::event_detectors() {
  std::vector<std::pair<std::string, EventDetector*>> out;
  for (auto& runner : runners_) out.emplace_back(runner->name(), &runner->events());
  if (ensemble_events_) out.emplace_back("ensemble", ensemble_events_.get());
  return out;
}

void Pipeline::process_samples(const float* samples, size_t n) {
  State& s = *state_;
  if (recorder_ && !recording_input_rate_) recorder_->push(samples, n);
  s.frames.clear();
  s.log_mel.push(samples, n, s.frames);
  switch (s.silence.feed(samples, n)) {
    case SilenceWatch::Change::kStarted:
      spdlog::warn("input '{}': digital silence for {:.1f} s (muted, or the capture moved to another source?)",
                   source_->stats().device, s.silence.silent_seconds());
      break;
    case SilenceWatch::Change::kEnded:
      spdlog::info("input '{}': sound again after digital silence", source_->stats().device);
      break;
    case SilenceWatch::Change::kNone:
      break;
  }
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
  for (size_t f = 0; f * n_mels < s.frames.size(); ++f) {
    process_frame(s.frames.data() + f * n_mels);
    // Frame j of the segment covers [hop j, hop j + n_fft) after its start.
    const double frame_end = static_cast<double>(s.segment_start + s.segment_frames * s.front_end.hop + s.front_end.n_fft) /
                             s.front_end.sample_rate;
    ++s.segment_frames;
    if (!spectrogram_) continue;
    if (std::optional<nlohmann::json> columns = spectrogram_->push(s.frames.data() + f * n_mels, frame_end)) {
      publisher_.publish("esc.spectrogram", std::move(*columns), frame_end);
    }
  }
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
  if (ensemble_) {
    models["ensemble"] = {{"windows", ensemble_->windows()},
                          {"mismatched_windows", ensemble_->mismatched()},
                          {"labels", ensemble_labels_}};
  }
  nlohmann::json body = {
      {"uptime_s", std::chrono::duration<double>(now - s.started).count()},
      {"input", {{"device", in.device}, {"rate", source_->sample_rate()}, {"channels", source_->channels()},
                 {"connected", in.connected}, {"device_overflows", in.device_overflows},
                 {"ring_overflows", in.ring_overflows}, {"reconnects", in.reconnects},
                 {"reconnect_attempts", in.reconnect_attempts}, {"discontinuities", in.discontinuities},
                 {"last_error", in.last_error}, {"frames", in.frames_delivered}, {"silent", s.silence.silent()},
                 {"silent_s", s.silence.silent_seconds()}, {"silences", s.silence.silences()},
                 {"stream_restarts", s.stream_restarts}, {"non_finite_replaced", in.non_finite_replaced},
                 {"out_of_range_clamped", in.out_of_range_clamped}}},
      {"publisher", publisher_.stats()},
      {"models", models},
      {"cpu_percent", s.cpu_percent}};
  if (recorder_) body["recordings"] = recorder_->stats();
  publisher_.publish("esc.health", std::move(body), s.now());
  if (on_health) {
    on_health(fmt::format("{} Hz from {}{}, {} model(s), cpu {:.1f}%", source_->sample_rate(), in.device,
                          in.connected ? (s.silence.silent() ? " (SILENT)" : "") : " (DISCONNECTED)", runners_.size(),
                          s.cpu_percent));
  }
}

void Pipeline::publish_recordings() {
  for (auto& [model, body] : recorder_->finished()) publisher_.publish("esc.recording." + model, std::move(body), state_->now());
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
  for (auto& [model, events] : event_detectors()) {
    for (const DetectionEvent& e : events->reconfigure(options_.events, state_->now())) {
      publish_event(model, e, "reconfigured");
    }
  }
  spdlog::info("SIGHUP: reloaded thresholds and filters from {}", options_.config_path);
}

void Pipeline::end_events(const std::string& reason) {
  for (auto& [model, events] : event_detectors()) {
    for (const DetectionEvent& e : events->finish(state_->now())) publish_event(model, e, reason, false);
  }
}

// Forgets everything heard so far: the resampler's and the front end's buffered samples, the level
// block and every model's windows. The next window starts with the next sample and warms up again,
// so no prediction after a gap covers audio from before it (which would be stale, and spliced).
void Pipeline::restart_stream(const std::string& why) {
  State& s = *state_;
  s.resampled.clear();
  s.resampler.flush(s.resampled);  // drops the held-back tail; the next process() starts afresh
  s.resampled.clear();
  s.log_mel.reset();
  s.level_block.clear();
  for (auto& runner : runners_) runner->restart();
  if (recorder_) recorder_->realign(s.now());
  if (spectrogram_) spectrogram_->reset();
  s.segment_start = s.samples;
  s.segment_frames = 0;
  ++s.stream_restarts;
  spdlog::info("{}: predictions restart at stream time {:.2f} s (warming up for 5 s)", why, s.now());
}

// Acts on what the source reports: a lost device ends open events at once (nothing is heard any
// more, so nothing is going on as far as escd can tell); any gap restarts the windows.
void Pipeline::watch_input() {
  State& s = *state_;
  const SourceStats in = source_->stats();
  if (s.connected && !in.connected) {
    end_events("input_lost");
    publish_health();  // subscribers learn of the loss now, not at the next report
  }
  s.connected = in.connected;
  if (in.discontinuities != s.discontinuities) {
    s.discontinuities = in.discontinuities;
    restart_stream(fmt::format("input '{}': gap in the audio ({} so far; {} reconnects, {} ring / {} device overflows)",
                               in.device, in.discontinuities, in.reconnects, in.ring_overflows, in.device_overflows));
  }
}

void Pipeline::attach(std::unique_ptr<AudioSource> source) {
  source_ = std::move(source);
  const int64_t hop = hop_frames_;
  // Files and stdin get the offline (best) converter, so that a file through escd gives the same
  // frames as esc-train's decoding; a live microphone gets the 3x cheaper medium one.
  const ResampleQuality quality = options_.input.empty() ? ResampleQuality::Medium : ResampleQuality::Best;
  state_ = std::make_unique<State>(source_->sample_rate(), quality, hop);
  const FrontEndConfig& f = state_->front_end;
  if (options_.spectrogram) {
    spectrogram_ = std::make_unique<SpectrogramStream>(f.n_mels, static_cast<double>(f.hop) / f.sample_rate,
                                                       options_.spectrogram_frames_per_column, 4);
  }
  if (recording_writer_) {
    recording_input_rate_ = options_.recordings.sample_rate == "input";
    const int rate = recording_input_rate_ ? source_->sample_rate() : f.sample_rate;
    recorder_ = std::make_unique<EventRecorder>(options_.recordings, rate, *recording_writer_);
  }
  spdlog::info("input {}: {} Hz, {} channel(s); hop {} frames ({} ms); publishing on {}", source_->stats().device,
               source_->sample_rate(), source_->channels(), hop, hop * 1000 * f.hop / f.sample_rate,
               publisher_.endpoint());
}

int Pipeline::run(std::unique_ptr<AudioSource> source, PipelineSignals& signals) {
  attach(std::move(source));
  State& s = *state_;
  const auto health_every = std::chrono::duration<double>(options_.health_interval_s);
  const size_t block = 1024;
  if (on_ready) on_ready("listening");
  publish_health();
  while (!signals.stop.load()) {
    if (signals.reload.exchange(false)) reload_config();
    s.raw.clear();
    const size_t got = source_->read(s.raw, block, std::chrono::milliseconds(100));
    watch_input();  // before processing: a gap the source reported precedes the frames it returned
    if (got > 0) {
      s.mono = mix_to_mono(s.raw.data(), got, source_->channels());
      if (recorder_ && recording_input_rate_) recorder_->push(s.mono.data(), s.mono.size());
      s.resampled.clear();
      s.resampler.process(s.mono.data(), s.mono.size(), s.resampled);
      process_samples(s.resampled.data(), s.resampled.size());
    } else if (source_->finished()) {
      s.resampled.clear();
      s.resampler.flush(s.resampled);
      process_samples(s.resampled.data(), s.resampled.size());
      break;
    }
    if (recorder_) publish_recordings();
    if (Clock::now() - s.last_health >= health_every) publish_health();
    if (on_loop) on_loop();
  }
  // An event always ends: close what is open at the current stream time.
  end_events("shutdown");
  if (recorder_) {
    recorder_->finish_all();
    recording_writer_->drain();
    publish_recordings();
  }
  publish_health();
  spdlog::info("stopped after {:.1f} s of audio", s.now());
  return 0;
}

}  // namespace escd::daemon

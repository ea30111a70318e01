// The daemon's processing loop: source -> mono -> 16 kHz -> log-mel frames -> every model's window
// scheduler -> scores, events, levels and health on ZeroMQ. It runs on escd's main thread, the only
// one that touches the models, the windows and the PUB socket; files and stdin are read on it too.
// The other threads, none of which calls into the pipeline:
//   - with a microphone (PortAudioSource): PortAudio's callback thread, which only fills a
//     lock-free ring, and the source's monitor thread, which checks the stream's health and
//     reopens a lost device with backoff;
//   - with [recordings] on: the RecordingWriter's thread, which alone touches the disk;
//   - the publisher's ConnectionMonitor thread, which reads the PUB socket's monitor events;
//   - with a CURVE client allowlist (curve_client_keys): the ZapHandler thread, which answers
//     libzmq's authentication requests;
//   - libzmq's own I/O threads, and with [daemon] threads > 1 the ATen/OpenBLAS worker threads,
//     which only run inside a model call made by the loop.
#pragma once

#include <atomic>
#include <memory>
#include <vector>

#include "audio/audio_source.h"
#include "daemon_options.h"
#include "ensemble_window.h"
#include "event_recorder.h"
#include "spectrogram_stream.h"
#include "model_runner.h"
#include "message_sink.h"

namespace escd::daemon {

struct PipelineSignals {
  std::atomic<bool> stop{false};    // SIGTERM/SIGINT
  std::atomic<bool> reload{false};  // SIGHUP
};

class Pipeline {
 public:
  // Loads and checks every model (and the ensemble's classes): a model that does not load is a
  // start-up error here, before any audio input is opened or waited for.
  Pipeline(DaemonOptions options, MessageSink& publisher);
  ~Pipeline();
  // Runs on `source` until it finishes (files, stdin) or stop is set; ends open events; returns the
  // exit code.
  int run(std::unique_ptr<AudioSource> source, PipelineSignals& signals);

  // Called (from the loop) once models and source are up, and on each health report: for sd_notify.
  std::function<void(const std::string& status)> on_ready, on_health;
  // Called on every pass of the processing loop (at least every 100 ms while it is alive, whatever
  // the audio does): the watchdog keep-alive, so that only a hung loop stops it.
  std::function<void()> on_loop;

 private:
  struct State;
  // Takes the source and sets up the stream state for its rate.
  void attach(std::unique_ptr<AudioSource> source);
  void process_samples(const float* samples, size_t n);
  void process_frame(const float* frame);
  // Scores on esc.scores.<model>, and the events they trigger on esc.event.<model>.
  void publish_window(const std::string& model, const std::vector<std::string>& class_names,
                      const WindowResult& window, const std::vector<float>& probabilities, EventDetector& events);
  // One event's message on esc.event.<model>; `reason`, if any, says why it ended outside the scores.
  // `more_audio` is false when no audio follows the end (shutdown, a lost input): its recording then
  // has no post-roll.
  void publish_event(const std::string& model, const DetectionEvent& e, const std::string& reason = "",
                     bool more_audio = true);
  // Every event detector with the model name it publishes under (the runners', then the ensemble's).
  std::vector<std::pair<std::string, EventDetector*>> event_detectors();
  // esc.recording.<model> for each recording the writer finished.
  void publish_recordings();
  void publish_health();
  void reload_config();
  void watch_input();
  // Ends every open event now: no more audio is coming for them (shutdown, a lost input).
  void end_events(const std::string& reason);
  void restart_stream(const std::string& why);

  DaemonOptions options_;
  int64_t hop_frames_;  // the prediction interval in frames (options_.hop_ms rounded)
  std::unique_ptr<AudioSource> source_;
  MessageSink& publisher_;
  std::vector<std::unique_ptr<ModelRunner>> runners_;
  std::unique_ptr<EnsembleWindow> ensemble_;         // with --ensemble
  std::unique_ptr<EventDetector> ensemble_events_;
  std::vector<std::string> ensemble_labels_;         // the members' classes (label_set.h)
  std::unique_ptr<State> state_;
  std::unique_ptr<RecordingWriter> recording_writer_;  // with [recordings] on; outlives the recorder
  std::unique_ptr<EventRecorder> recorder_;
  bool recording_input_rate_ = false;                 // recorder_ hears the input before resampling
  std::unique_ptr<SpectrogramStream> spectrogram_;    // with [spectrogram] on
};

}  // namespace escd::daemon

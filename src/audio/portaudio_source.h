// Microphone capture with PortAudio, for a daemon that must outlive its microphone: a lost device
// (unplugged, sound server restarted) is reported in stats() and reopened by name with backoff,
// while read() keeps returning (empty) on time.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "audio/audio_source.h"

namespace escd {
namespace detail {
struct CaptureShared;  // what the audio callback may touch: the ring and atomic counters
}

struct AudioDeviceInfo {
  int index = -1;
  std::string name;
  std::string host_api;
  int max_input_channels = 0;
  double default_sample_rate = 0.0;
};

// The input-capable devices PortAudio sees now (`escd --list-devices`). Initialises PortAudio for the
// call; throws std::runtime_error if it cannot. What ALSA and JACK say while PortAudio probes goes to
// the log at debug level (audio/sound_library_log.h).
std::vector<AudioDeviceInfo> list_audio_devices();

struct PortAudioOptions {
  // Open min(device max, this) input channels. Two, because the devices that report more are mostly
  // virtual: ALSA's "pulse" and "default" claim 32 and hand a mono microphone back upmixed to 7.1 with
  // a silent LFE, so the mean of 8 channels is 7/8 of the signal (measured, -1.2 dB). Raise it for a
  // true multichannel input whose channels all carry the sound.
  int max_channels = 2;
  double ring_seconds = 2.0;                            // audio the ring holds if read() stalls
  std::chrono::milliseconds stall_timeout{2000};        // a live stream silent this long is lost
  std::chrono::milliseconds backoff_min{500};           // first reconnect attempt after a loss
  std::chrono::milliseconds backoff_max{10000};         // the delay doubles up to this
  std::chrono::milliseconds monitor_interval{50};       // how often the stream's health is checked
};

class PortAudioSource : public AudioSource {
 public:
  // device: "" for the default input device, a decimal device index, or a case-insensitive substring
  // of a device name (an exact name wins over substrings). Opens the device at its default sample
  // rate with min(its input channels, options.max_channels) channels as float32 (PortAudio converts
  // S16/S24 devices).
  // Throws std::runtime_error when no device matches (the message lists the input devices) or the
  // device cannot be opened.
  explicit PortAudioSource(const std::string& device = "", PortAudioOptions options = {});
  ~PortAudioSource() override;
  PortAudioSource(const PortAudioSource&) = delete;
  PortAudioSource& operator=(const PortAudioSource&) = delete;

  // Fixed for the source's life: a reconnect reopens at the same rate and channel count.
  int sample_rate() const override { return rate_; }
  int channels() const override { return channels_; }
  // Pops whole frames from the ring, polling every few ms until data or the timeout. While the device
  // is lost it simply times out (returns 0); the daemon keeps running and reports stats().
  // After a loss or an overflow the ring's backlog is dropped (it is late or precedes a gap) and
  // stats().discontinuities grows before the first frames that follow the gap are returned.
  // interrupt() makes the current (or next) read return at once.
  size_t read(std::vector<float>& out, size_t max_frames, std::chrono::milliseconds timeout) override;
  bool finished() const override { return false; }
  SourceStats stats() const override;
  void interrupt() override;

  const std::string& device_name() const { return device_name_; }
  // The stream's input latency as PortAudio reports it (buffering between the ADC and the callback).
  double input_latency_seconds() const { return input_latency_.load(); }

 private:
  bool open_stream(int device_index, std::string& error);
  void close_stream();
  void monitor_loop();
  std::string check_stream(uint64_t& last_callbacks, std::chrono::steady_clock::time_point& last_change);
  void reconnect_with_backoff();
  struct OverflowLog {
    uint64_t device = 0, ring = 0;
    std::optional<std::chrono::steady_clock::time_point> warned_at;
  };
  void warn_about_new_overflows(OverflowLog& log);
  void set_connected(bool connected, const std::string& error);

  PortAudioOptions options_;
  std::string device_name_;
  std::string host_api_;
  int rate_ = 0;
  int channels_ = 0;
  std::unique_ptr<detail::CaptureShared> shared_;
  void* stream_ = nullptr;  // PaStream*, touched only under the PortAudio lock
  bool pa_initialized_ = false;
  std::atomic<double> input_latency_{0.0};

  std::atomic<bool> interrupted_{false};
  std::atomic<uint64_t> frames_delivered_{0};
  // Bumped by the monitor when the device is lost; with the overflow counters it tells read() that
  // what follows in the ring is not contiguous with what it delivered before.
  std::atomic<uint64_t> losses_{0};
  uint64_t gap_marker_ = 0;  // read() only: gaps_so_far() when it last looked
  uint64_t gaps_so_far() const;  // device losses + device overflows + frames the ring could not take
  std::atomic<uint64_t> discontinuities_{0};
  std::vector<float> discard_;  // read() only: scratch for a dropped backlog

  std::mutex stop_mutex_;  // with stop_wake_: lets the destructor cut a backoff wait short
  std::condition_variable stop_wake_;
  bool stopping_ = false;
  std::thread monitor_;

  mutable std::mutex stats_mutex_;  // connected, last_error, reconnects (monitor thread vs stats())
  bool connected_ = true;
  std::string last_error_;
  uint64_t reconnects_ = 0;
  uint64_t reconnect_attempts_ = 0;
};

}  // namespace escd

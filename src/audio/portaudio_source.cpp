#include "audio/portaudio_source.h"

#include <portaudio.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <stdexcept>

#include "audio/sound_library_log.h"
#include "audio/spsc_ring.h"

namespace escd {
namespace detail {

struct CaptureShared {
  CaptureShared(size_t capacity, int channels) : ring(capacity), channels(static_cast<size_t>(channels)) {}
  SpscRing ring;
  const size_t channels;
  std::atomic<uint64_t> callbacks{0};         // the monitor's evidence that audio still flows
  std::atomic<uint64_t> device_overflows{0};  // callbacks flagged paInputOverflow
  std::atomic<uint64_t> ring_overflows{0};    // frames dropped because the ring was full
};

}  // namespace detail

namespace {

using Clock = std::chrono::steady_clock;

// PortAudio's global state (initialise/terminate, device lists, open/close) is not thread-safe; every
// call outside the audio callback goes through this lock, so list_audio_devices() can run beside a source.
std::mutex& portaudio_lock() {
  static std::mutex m;
  return m;
}

// Runs on PortAudio's real-time thread: copies into the ring and counts, nothing else. No locks,
// allocation, logging or system calls, so it can never wait on the rest of the daemon.
int capture_callback(const void* input, void*, unsigned long frames, const PaStreamCallbackTimeInfo*,
                     PaStreamCallbackFlags flags, void* user) {
  auto* shared = static_cast<detail::CaptureShared*>(user);
  shared->callbacks.fetch_add(1, std::memory_order_relaxed);
  if (flags & paInputOverflow) shared->device_overflows.fetch_add(1, std::memory_order_relaxed);
  if (!input) return paContinue;
  // Whole frames only, so the interleaving survives an overflow.
  const size_t fit = std::min<size_t>(frames, shared->ring.writable() / shared->channels);
  shared->ring.push(static_cast<const float*>(input), fit * shared->channels);
  if (fit < frames) shared->ring_overflows.fetch_add(frames - fit, std::memory_order_relaxed);
  return paContinue;
}

// Every Pa_Initialize goes through here: the ALSA and JACK messages its device probing produces go to
// the log at debug level, not to stderr.
PaError initialize_portaudio() {
  route_sound_library_messages_to_log();
  return Pa_Initialize();
}

std::string pa_error_text(PaError err) {
  std::string text = Pa_GetErrorText(err);
  if (err == paUnanticipatedHostError) {
    if (const PaHostErrorInfo* host = Pa_GetLastHostErrorInfo(); host && host->errorText && *host->errorText) {
      text += std::string(" (") + host->errorText + ")";
    }
  }
  return text;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// ALSA device names end in "(hw:2,0)", whose card number can change when a USB device comes back;
// reconnecting compares names without it.
std::string stable_name(const std::string& name) {
  const size_t at = name.rfind(" (hw:");
  return at != std::string::npos && name.back() == ')' ? name.substr(0, at) : name;
}

// Needs PortAudio initialised and portaudio_lock() held.
std::vector<AudioDeviceInfo> enumerate_inputs() {
  std::vector<AudioDeviceInfo> devices;
  const PaDeviceIndex count = Pa_GetDeviceCount();
  for (PaDeviceIndex i = 0; i < count; ++i) {
    const PaDeviceInfo* info = Pa_GetDeviceInfo(i);
    if (!info || info->maxInputChannels <= 0) continue;
    const PaHostApiInfo* api = Pa_GetHostApiInfo(info->hostApi);
    devices.push_back({i, info->name ? info->name : "", api && api->name ? api->name : "?", info->maxInputChannels,
                       info->defaultSampleRate});
  }
  return devices;
}

std::string describe(const std::vector<AudioDeviceInfo>& devices) {
  if (devices.empty()) return "PortAudio lists no input devices";
  std::string text = "input devices:";
  for (const AudioDeviceInfo& d : devices) {
    text += "\n  [" + std::to_string(d.index) + "] " + d.name + " (" + d.host_api + ", " +
            std::to_string(d.max_input_channels) + " ch, " + std::to_string(std::lround(d.default_sample_rate)) + " Hz)";
  }
  return text;
}

// "" -> the default input, digits -> that index, anything else -> a name: exact (any case) first,
// then the first name containing it. Throws with the device list when nothing fits.
int resolve_device(const std::string& spec) {
  const std::vector<AudioDeviceInfo> devices = enumerate_inputs();
  if (spec.empty()) {
    const PaDeviceIndex index = Pa_GetDefaultInputDevice();
    if (index == paNoDevice) throw std::runtime_error("audio input: no default input device; " + describe(devices));
    return index;
  }
  if (std::all_of(spec.begin(), spec.end(), [](unsigned char c) { return std::isdigit(c); })) {
    const int index = std::stoi(spec);
    for (const AudioDeviceInfo& d : devices) {
      if (d.index == index) return index;
    }
    throw std::runtime_error("audio input: device index " + spec + " is not an input device; " + describe(devices));
  }
  const std::string wanted = lower(spec);
  for (const AudioDeviceInfo& d : devices) {
    if (lower(d.name) == wanted) return d.index;
  }
  for (const AudioDeviceInfo& d : devices) {
    if (lower(d.name).find(wanted) != std::string::npos) return d.index;
  }
  throw std::runtime_error("audio input: no input device matches '" + spec + "'; " + describe(devices));
}

// After a reconnect the device's index may have changed; find it by name. -1 when it is not back.
int find_by_name(const std::string& name) {
  const std::vector<AudioDeviceInfo> devices = enumerate_inputs();
  for (const AudioDeviceInfo& d : devices) {
    if (d.name == name) return d.index;
  }
  for (const AudioDeviceInfo& d : devices) {
    if (stable_name(d.name) == stable_name(name)) return d.index;
  }
  return -1;
}

}  // namespace

std::vector<AudioDeviceInfo> list_audio_devices() {
  std::lock_guard<std::mutex> lock(portaudio_lock());
  if (PaError err = initialize_portaudio(); err != paNoError) {
    throw std::runtime_error("audio input: cannot initialise PortAudio: " + pa_error_text(err));
  }
  std::vector<AudioDeviceInfo> devices = enumerate_inputs();
  Pa_Terminate();
  return devices;
}

PortAudioSource::PortAudioSource(const std::string& device, PortAudioOptions options) : options_(options) {
  {
    std::lock_guard<std::mutex> lock(portaudio_lock());
    if (PaError err = initialize_portaudio(); err != paNoError) {
      throw std::runtime_error("audio input: cannot initialise PortAudio: " + pa_error_text(err));
    }
    pa_initialized_ = true;
    int index = -1;
    try {
      index = resolve_device(device);
    } catch (...) {
      Pa_Terminate();
      pa_initialized_ = false;
      throw;
    }
    const PaDeviceInfo* info = Pa_GetDeviceInfo(index);
    device_name_ = info->name;
    host_api_ = Pa_GetHostApiInfo(info->hostApi)->name;
    rate_ = static_cast<int>(std::lround(info->defaultSampleRate));
    channels_ = std::clamp(info->maxInputChannels, 1, std::max(options_.max_channels, 1));
    shared_ = std::make_unique<detail::CaptureShared>(
        static_cast<size_t>(std::max(options_.ring_seconds, 0.1) * rate_ * channels_), channels_);
    std::string error;
    if (!open_stream(index, error)) {
      Pa_Terminate();
      pa_initialized_ = false;
      throw std::runtime_error(error);
    }
  }
  spdlog::info("audio input '{}' ({}, chosen by '{}'): {} Hz, {} channel(s), input latency {:.0f} ms", device_name_,
               host_api_, device.empty() ? "default input" : device, rate_, channels_, 1000.0 * input_latency_.load());
  monitor_ = std::thread([this] { monitor_loop(); });
}

PortAudioSource::~PortAudioSource() {
  {
    std::lock_guard<std::mutex> lock(stop_mutex_);
    stopping_ = true;
  }
  stop_wake_.notify_all();
  if (monitor_.joinable()) monitor_.join();
  close_stream();
}

// Needs portaudio_lock() held and PortAudio initialised. Opens and starts device_index at rate_ and
// channels_; on failure leaves no stream behind and explains why in `error`.
bool PortAudioSource::open_stream(int device_index, std::string& error) {
  const PaDeviceInfo* info = Pa_GetDeviceInfo(device_index);
  const std::string where = "audio input '" + device_name_ + "'";
  if (!info) {
    error = where + ": device index " + std::to_string(device_index) + " no longer exists";
    return false;
  }
  if (info->maxInputChannels < channels_) {
    error = where + ": came back with " + std::to_string(info->maxInputChannels) + " input channels, " +
            std::to_string(channels_) + " expected";
    return false;
  }
  PaStreamParameters params{};
  params.device = device_index;
  params.channelCount = channels_;
  params.sampleFormat = paFloat32;
  // The high-latency default buffers more in the driver: a loaded machine (inference on both cores)
  // then causes no overflows, and an environmental-sound classifier has no use for a few ms less.
  params.suggestedLatency = info->defaultHighInputLatency;
  PaStream* stream = nullptr;
  PaError err = Pa_OpenStream(&stream, &params, nullptr, rate_, paFramesPerBufferUnspecified, paNoFlag,
                              capture_callback, shared_.get());
  if (err != paNoError) {
    error = where + ": cannot open at " + std::to_string(rate_) + " Hz, " + std::to_string(channels_) +
            " channel(s), float32: " + pa_error_text(err);
    return false;
  }
  if (err = Pa_StartStream(stream); err != paNoError) {
    error = where + ": cannot start capture: " + pa_error_text(err);
    Pa_CloseStream(stream);
    return false;
  }
  if (const PaStreamInfo* stream_info = Pa_GetStreamInfo(stream)) input_latency_.store(stream_info->inputLatency);
  stream_ = stream;
  return true;
}

void PortAudioSource::close_stream() {
  std::lock_guard<std::mutex> lock(portaudio_lock());
  if (stream_) {
    // Abort rather than stop: a lost device may never drain the buffers a stop waits for.
    Pa_AbortStream(static_cast<PaStream*>(stream_));
    Pa_CloseStream(static_cast<PaStream*>(stream_));
    stream_ = nullptr;
  }
  if (pa_initialized_) {
    Pa_Terminate();
    pa_initialized_ = false;
  }
}

std::string PortAudioSource::check_stream(uint64_t& last_callbacks, Clock::time_point& last_change) {
  PaError active;
  {
    std::lock_guard<std::mutex> lock(portaudio_lock());
    active = Pa_IsStreamActive(static_cast<PaStream*>(stream_));
  }
  // Seen with PulseAudio killed: the callback simply stops and the stream turns inactive, no error.
  if (active < 0) return "stream error: " + pa_error_text(active);
  if (active == 0) return "capture stopped (device lost?)";
  const uint64_t callbacks = shared_->callbacks.load(std::memory_order_relaxed);
  const Clock::time_point now = Clock::now();
  if (callbacks != last_callbacks) {
    last_callbacks = callbacks;
    last_change = now;
  } else if (now - last_change > options_.stall_timeout) {
    const double seconds = std::chrono::duration<double>(now - last_change).count();
    return fmt::format("no audio from the device for {:.1f} s", seconds);
  }
  return "";
}

void PortAudioSource::set_connected(bool connected, const std::string& error) {
  std::lock_guard<std::mutex> lock(stats_mutex_);
  connected_ = connected;
  if (!error.empty()) last_error_ = error;
}

void PortAudioSource::warn_about_new_overflows(OverflowLog& log) {
  const uint64_t device = shared_->device_overflows.load(std::memory_order_relaxed);
  const uint64_t ring = shared_->ring_overflows.load(std::memory_order_relaxed);
  if (device == log.device && ring == log.ring) return;
  // The callback cannot log; this does it for it, at most every 10 s so a struggling machine is not
  // also flooded with log lines. The counters themselves are exact, in stats().
  const Clock::time_point now = Clock::now();
  if (log.warned_at && now - *log.warned_at < std::chrono::seconds(10)) return;
  spdlog::warn("audio input '{}': {} device overflow(s), {} frame(s) dropped because the ring was full (so far)",
               device_name_, device, ring);
  log = {device, ring, now};
}

void PortAudioSource::monitor_loop() {
  uint64_t last_callbacks = shared_->callbacks.load();
  Clock::time_point last_change = Clock::now();
  OverflowLog overflow_log;
  std::unique_lock<std::mutex> lock(stop_mutex_);
  while (!stopping_) {
    if (stop_wake_.wait_for(lock, options_.monitor_interval, [this] { return stopping_; })) break;
    lock.unlock();
    warn_about_new_overflows(overflow_log);
    if (const std::string problem = check_stream(last_callbacks, last_change); !problem.empty()) {
      spdlog::warn("audio input '{}' lost: {}; reconnecting", device_name_, problem);
      losses_.fetch_add(1);
      set_connected(false, "audio input '" + device_name_ + "': " + problem);
      close_stream();
      reconnect_with_backoff();
      last_callbacks = shared_->callbacks.load();
      last_change = Clock::now();
    }
    lock.lock();
  }
}

// Re-initialises PortAudio on every attempt: its device list is fixed at Pa_Initialize, so a device
// (or sound server) that returns is invisible without it. Gives up only when the source is destroyed.
void PortAudioSource::reconnect_with_backoff() {
  const Clock::time_point lost_at = Clock::now();
  std::chrono::milliseconds backoff = options_.backoff_min;
  for (;;) {
    {
      std::unique_lock<std::mutex> lock(stop_mutex_);
      if (stop_wake_.wait_for(lock, backoff, [this] { return stopping_; })) return;
    }
    std::string error;
    bool opened = false;
    {
      std::lock_guard<std::mutex> lock(portaudio_lock());
      if (PaError err = initialize_portaudio(); err != paNoError) {
        error = "audio input '" + device_name_ + "': cannot initialise PortAudio: " + pa_error_text(err);
      } else {
        pa_initialized_ = true;
        const int index = find_by_name(device_name_);
        if (index < 0) {
          error = "audio input '" + device_name_ + "': not present; " + describe(enumerate_inputs());
        } else {
          opened = open_stream(index, error);
        }
        if (!opened) {
          Pa_Terminate();
          pa_initialized_ = false;
        }
      }
    }
    if (opened) {
      {
        std::lock_guard<std::mutex> lock(stats_mutex_);
        connected_ = true;
        ++reconnects_;
        reconnect_attempts_ = 0;
      }
      spdlog::info("audio input '{}' reconnected after {:.1f} s", device_name_,
                   std::chrono::duration<double>(Clock::now() - lost_at).count());
      return;
    }
    set_connected(false, error);
    {
      std::lock_guard<std::mutex> lock(stats_mutex_);
      ++reconnect_attempts_;
    }
    backoff = std::min(backoff * 2, options_.backoff_max);
    spdlog::warn("{}; retrying in {:.1f} s", error, backoff.count() / 1000.0);
  }
}

uint64_t PortAudioSource::gaps_so_far() const {
  return losses_.load() + shared_->ring_overflows.load(std::memory_order_relaxed) +
         shared_->device_overflows.load(std::memory_order_relaxed);
}

size_t PortAudioSource::read(std::vector<float>& out, size_t max_frames, std::chrono::milliseconds timeout) {
  const Clock::time_point deadline = Clock::now() + timeout;
  const auto channels = static_cast<size_t>(channels_);
  for (;;) {
    // A loss or an overflow since the last look: what the ring holds is either late (a full ring is
    // ring_seconds behind) or from before the gap. Drop it, so everything returned from here on is
    // one contiguous, current stream, and say so through stats() before returning any of it.
    if (gaps_so_far() != gap_marker_) {
      discard_.resize(4096 * channels);
      while (shared_->ring.pop(discard_.data(), discard_.size()) > 0) {
      }
      // Read after the ring is empty: frames the callback could not fit while it was still full are
      // part of this same gap, not a second one.
      gap_marker_ = gaps_so_far();
      discontinuities_.fetch_add(1);
    }
    const size_t frames = std::min(shared_->ring.size() / channels, max_frames);
    if (frames > 0) {
      const size_t at = out.size();
      out.resize(at + frames * channels);
      shared_->ring.pop(out.data() + at, frames * channels);
      frames_delivered_.fetch_add(frames, std::memory_order_relaxed);
      return frames;
    }
    if (interrupted_.exchange(false) || max_frames == 0) return 0;
    const Clock::time_point now = Clock::now();
    if (now >= deadline) return 0;
    // Polling, not a condition variable: waking a waiter would need a lock or a system call in the
    // audio callback. 5 ms is well under one callback period of the devices seen (10-100 ms).
    std::this_thread::sleep_for(std::min<Clock::duration>(std::chrono::milliseconds(5), deadline - now));
  }
}

SourceStats PortAudioSource::stats() const {
  SourceStats s;
  s.frames_delivered = frames_delivered_.load();
  s.device_overflows = shared_->device_overflows.load();
  s.ring_overflows = shared_->ring_overflows.load();
  s.discontinuities = discontinuities_.load();
  s.device = device_name_;
  std::lock_guard<std::mutex> lock(stats_mutex_);
  s.reconnects = reconnects_;
  s.reconnect_attempts = reconnect_attempts_;
  s.connected = connected_;
  s.last_error = last_error_;
  return s;
}

void PortAudioSource::interrupt() { interrupted_.store(true); }

}  // namespace escd

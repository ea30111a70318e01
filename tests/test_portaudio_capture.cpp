// Real microphone capture through PortAudio, on a machine without a sound card: a private PulseAudio
// server with a virtual microphone (tests/pulse_test_server.h) receives a tone from paplay, and the
// PortAudioSource must hand it back intact; killing and restarting the server must be survived.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <thread>

#include "audio/decode.h"
#include "audio/portaudio_source.h"
#include "audio/stream_resampler.h"
#include "pulse_test_server.h"
#include "test_support.h"

namespace escd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr double kPi = 3.14159265358979323846;
// PortAudio's ALSA host API reaches PulseAudio through the ALSA pulse plugin's "pulse" PCM.
constexpr const char* kDevice = "pulse";

double seconds_since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

// A mono 16-bit WAV of a sine tone, for paplay.
std::string write_tone(const std::string& path, double hz, double amplitude, double seconds) {
  const int rate = 44100;
  std::vector<float> x(static_cast<size_t>(seconds * rate));
  for (size_t i = 0; i < x.size(); ++i) x[i] = static_cast<float>(amplitude * std::sin(2 * kPi * hz * i / rate));
  test::write_audio(path, x, rate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  return path;
}

// What the daemon's pipeline does with a source: read blocks, mix to mono, resample to 16 kHz.
struct Recorder {
  explicit Recorder(AudioSource& s) : source(s), resampler(s.sample_rate()) {}

  // Reads for `seconds`; remembers when the first block louder than `loud` arrived.
  void record(double seconds, float loud = 0.05f) {
    const auto until = Clock::now() + std::chrono::duration<double>(seconds);
    std::vector<float> block;
    while (Clock::now() < until) {
      block.clear();
      const size_t frames = source.read(block, 1024, 100ms);
      if (frames == 0) continue;
      const std::vector<float> mono = mix_to_mono(block.data(), frames, source.channels());
      resampler.process(mono.data(), mono.size(), audio);
      for (float v : mono) {
        if (std::fabs(v) > loud && !first_loud) first_loud = Clock::now();
      }
    }
  }
  // Waits (at most timeout_s) until the source delivers anything: the stream is running.
  bool wait_for_audio(double timeout_s) {
    const auto until = Clock::now() + std::chrono::duration<double>(timeout_s);
    std::vector<float> block;
    while (Clock::now() < until) {
      if (source.read(block, 1024, 100ms) > 0) return true;
    }
    return false;
  }

  AudioSource& source;
  StreamResampler resampler;
  std::vector<float> audio;  // 16 kHz mono
  std::optional<Clock::time_point> first_loud;
};

// The span of `x` (16 kHz) where the played tone is: from the first to the last sample above `loud`.
std::pair<size_t, size_t> loud_span(const std::vector<float>& x, float loud = 0.05f) {
  size_t first = x.size(), last = 0;
  for (size_t i = 0; i < x.size(); ++i) {
    if (std::fabs(x[i]) > loud) {
      first = std::min(first, i);
      last = i;
    }
  }
  return {first, last};
}

double rms(const float* x, size_t n) {
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += double(x[i]) * x[i];
  return std::sqrt(sum / n);
}

// Frequency from upward zero crossings, interpolated between samples.
double frequency(const float* x, size_t n, int rate) {
  double first = -1, last = -1;
  int crossings = 0;
  for (size_t i = 1; i < n; ++i) {
    if (x[i - 1] < 0 && x[i] >= 0) {
      const double t = (i - 1) + x[i - 1] / (x[i - 1] - x[i]);
      if (first < 0) first = t;
      last = t;
      ++crossings;
    }
  }
  return crossings > 1 ? (crossings - 1) * rate / (last - first) : 0.0;
}

class PortAudioCapture : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_PULSEAUDIO();
    server_ = std::make_unique<test::PulseTestServer>(dir_.str());
    server_->export_environment();  // before any Pa_Initialize in this process
    std::string error;
    ASSERT_TRUE(server_->start(error)) << error;
  }
  void TearDown() override { server_.reset(); }  // stops the server by its PID, restores the env

  test::TempDir dir_;
  std::unique_ptr<test::PulseTestServer> server_;
};

TEST_F(PortAudioCapture, ListsThePulseDeviceWithItsHostApiAndRate) {
  const std::vector<AudioDeviceInfo> devices = list_audio_devices();
  bool found = false;
  for (const AudioDeviceInfo& d : devices) {
    std::printf("[%d] %s (%s, %d ch, %.0f Hz)\n", d.index, d.name.c_str(), d.host_api.c_str(), d.max_input_channels,
                d.default_sample_rate);
    if (d.name == kDevice) {
      found = true;
      EXPECT_EQ(d.host_api, "ALSA");
      EXPECT_GT(d.max_input_channels, 0);
      EXPECT_GT(d.default_sample_rate, 0.0);
    }
  }
  EXPECT_TRUE(found) << "PortAudio does not list '" << kDevice << "' (is libasound2-plugins installed?)";
}

TEST_F(PortAudioCapture, SelectsADeviceByIndexOrByAnyCaseNameSubstring) {
  int index = -1;
  for (const AudioDeviceInfo& d : list_audio_devices()) {
    if (d.name == kDevice) index = d.index;
  }
  ASSERT_GE(index, 0);
  EXPECT_EQ(PortAudioSource(std::to_string(index)).device_name(), kDevice);
  EXPECT_EQ(PortAudioSource("PULS").device_name(), kDevice);
}

TEST_F(PortAudioCapture, NoMatchingDeviceIsAnErrorThatListsTheDevices) {
  try {
    PortAudioSource source("no-such-microphone");
    ADD_FAILURE() << "opened a device for 'no-such-microphone'";
  } catch (const std::runtime_error& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find("no input device matches 'no-such-microphone'"), std::string::npos) << message;
    EXPECT_NE(message.find("] pulse (ALSA"), std::string::npos) << message;
  }
  EXPECT_THROW(PortAudioSource("9999"), std::runtime_error);
}

// A 440 Hz tone at -9 dBFS played into the virtual microphone comes back through PortAudio, the
// mono mix and the 16 kHz resampler with its frequency, level and duration intact.
TEST_F(PortAudioCapture, CapturesAToneThroughTheVirtualMicrophone) {
  const std::string wav = write_tone(dir_.path("tone.wav"), 440.0, 0.5, 1.5);
  const auto opened = Clock::now();
  PortAudioSource source(kDevice);
  EXPECT_EQ(source.sample_rate(), 44100);
  EXPECT_EQ(source.channels(), 2);  // "pulse" claims 32 channels; the default cap keeps two
  Recorder recorder(source);
  ASSERT_TRUE(recorder.wait_for_audio(3.0)) << "no audio from '" << kDevice << "' within 3 s";
  const double first_audio_s = seconds_since(opened);
  EXPECT_TRUE(server_->has_recording_client());

  const auto played = Clock::now();
  const pid_t player = server_->play_async(wav);
  recorder.record(2.3);
  EXPECT_EQ(test::PulseTestServer::wait_for(player, 3.0), 0) << "paplay failed";

  ASSERT_TRUE(recorder.first_loud) << "the tone never arrived";
  const double latency_s = std::chrono::duration<double>(*recorder.first_loud - played).count();
  const auto [first, last] = loud_span(recorder.audio);
  ASSERT_LT(first, last);
  const double duration_s = (last - first) / 16000.0;
  // The middle second of the tone: away from the onset and the end.
  const float* middle = recorder.audio.data() + first + 4000;
  const double level = rms(middle, 16000);
  const double hz = frequency(middle, 16000, 16000);
  const SourceStats stats = source.stats();
  std::printf("device %s: %d Hz, %d ch, PortAudio input latency %.0f ms; first audio %.0f ms after opening; "
              "tone heard %.0f ms after paplay started; tone %.3f s, RMS %.4f, %.2f Hz; overflows device %llu ring %llu\n",
              source.device_name().c_str(), source.sample_rate(), source.channels(),
              1e3 * source.input_latency_seconds(), 1e3 * first_audio_s, 1e3 * latency_s, duration_s, level, hz,
              static_cast<unsigned long long>(stats.device_overflows),
              static_cast<unsigned long long>(stats.ring_overflows));
  RecordProperty("tone_latency_ms", std::to_string(1e3 * latency_s));
  EXPECT_NEAR(hz, 440.0, 1.0);
  EXPECT_NEAR(level, 0.5 / std::sqrt(2.0), 0.05 * 0.5 / std::sqrt(2.0));  // within 5% (0.4 dB)
  EXPECT_NEAR(duration_s, 1.5, 0.05);
  EXPECT_LT(latency_s, 1.0);
  EXPECT_TRUE(stats.connected);
  EXPECT_EQ(stats.ring_overflows, 0u);
  EXPECT_GT(stats.frames_delivered, 44100u * 2);
}

// A consumer that stalls (inference hogging the CPU) must cost counted frames, never a blocked
// callback or a silent gap: with a 0.19 s ring and 0.6 s without reading, about 0.4 s is dropped.
TEST_F(PortAudioCapture, FramesTheConsumerCannotTakeAreDroppedAndCounted) {
  PortAudioOptions options;
  options.ring_seconds = 0.1;  // 8820 frames, rounded up to a 16384-sample (8192-frame) ring
  PortAudioSource source(kDevice, options);
  Recorder recorder(source);
  ASSERT_TRUE(recorder.wait_for_audio(3.0));
  std::this_thread::sleep_for(600ms);
  const SourceStats stats = source.stats();
  std::printf("0.6 s stall with a 8192-frame ring: %llu frames dropped\n",
              static_cast<unsigned long long>(stats.ring_overflows));
  EXPECT_GT(stats.ring_overflows, 44100u * 2 / 10);  // > 0.2 s
  EXPECT_LT(stats.ring_overflows, 44100u * 6 / 10);  // < 0.6 s
  EXPECT_TRUE(stats.connected);
  EXPECT_EQ(stats.discontinuities, 0u) << "counted before the consumer looked";
  // The full ring is 0.19 s behind and precedes a gap: the next read drops it and counts the gap, so
  // what is read right away is only what arrived since (well under the 8192-frame backlog).
  std::vector<float> block;
  size_t backlog = 0;
  while (const size_t n = source.read(block, 1024, 1ms)) backlog += n;
  std::printf("after the stall: %zu frames readable at once (ring holds 8192)\n", backlog);
  EXPECT_LT(backlog, 4096u);
  EXPECT_EQ(source.stats().discontinuities, 1u);
  EXPECT_TRUE(recorder.wait_for_audio(1.0));  // and capture goes on
}

// The sound server dies mid-capture (as when PulseAudio crashes or the USB microphone is pulled):
// the source reports it (connected = false, last_error) while read() keeps returning on time; when
// the server is back, the source reopens the same device by itself and audio flows again.
TEST_F(PortAudioCapture, SurvivesTheServerBeingKilledAndRestarted) {
  const std::string wav = write_tone(dir_.path("tone.wav"), 440.0, 0.5, 1.0);
  PortAudioSource source(kDevice);
  Recorder recorder(source);
  ASSERT_TRUE(recorder.wait_for_audio(3.0));

  server_->kill_now();
  const auto killed = Clock::now();
  while (source.stats().connected && seconds_since(killed) < 3.0) recorder.record(0.01);
  const double detect_s = seconds_since(killed);
  SourceStats stats = source.stats();
  ASSERT_FALSE(stats.connected) << "the loss of the server went unnoticed for 3 s";
  EXPECT_NE(stats.last_error.find("pulse"), std::string::npos) << stats.last_error;
  EXPECT_EQ(stats.reconnects, 0u);

  // While the device is gone, read() times out on time, empty (after whatever was already buffered).
  std::vector<float> block;
  while (source.read(block, 1024, 1ms) > 0) block.clear();
  auto t = Clock::now();
  EXPECT_EQ(source.read(block, 1024, 200ms), 0u);
  EXPECT_NEAR(seconds_since(t), 0.2, 0.1);

  std::string error;
  ASSERT_TRUE(server_->start(error)) << error;
  const auto restarted = Clock::now();
  while (source.stats().reconnects == 0 && seconds_since(restarted) < 8.0) recorder.record(0.02);
  const double reconnect_s = seconds_since(restarted);
  stats = source.stats();
  ASSERT_EQ(stats.reconnects, 1u) << "no reconnect within 8 s of the server's return; last error: " << stats.last_error;
  EXPECT_TRUE(stats.connected);

  recorder.audio.clear();
  ASSERT_TRUE(recorder.wait_for_audio(3.0)) << "reconnected, but no audio";
  const pid_t player = server_->play_async(wav);
  recorder.record(1.6);
  EXPECT_EQ(test::PulseTestServer::wait_for(player, 3.0), 0);
  const auto [first, last] = loud_span(recorder.audio);
  ASSERT_LT(first, last) << "no tone after the reconnect";
  const double level = rms(recorder.audio.data() + first + 2000, 8000);
  std::printf("server killed: noticed after %.0f ms; server restarted: reconnected after %.0f ms; "
              "tone RMS after reconnect %.4f\n",
              1e3 * detect_s, 1e3 * reconnect_s, level);
  RecordProperty("loss_detected_ms", std::to_string(1e3 * detect_s));
  RecordProperty("reconnect_ms", std::to_string(1e3 * reconnect_s));
  EXPECT_NEAR(level, 0.5 / std::sqrt(2.0), 0.05 * 0.5 / std::sqrt(2.0));
  EXPECT_TRUE(source.stats().connected);
}

// A hung server (frozen, connections open) is neither an error nor an inactive stream: only the
// silence of the callback gives it away, and the watchdog must turn it into a reconnect.
TEST_F(PortAudioCapture, AHungServerIsNoticedByTheWatchdogAndRecoveredFrom) {
  PortAudioOptions options;
  options.stall_timeout = 1000ms;
  PortAudioSource source(kDevice, options);
  Recorder recorder(source);
  ASSERT_TRUE(recorder.wait_for_audio(3.0));

  server_->freeze();
  const auto frozen = Clock::now();
  while (source.stats().connected && seconds_since(frozen) < 4.0) recorder.record(0.02);
  const double detect_s = seconds_since(frozen);
  EXPECT_FALSE(source.stats().connected) << "a frozen server went unnoticed for 4 s";
  EXPECT_NE(source.stats().last_error.find("no audio from the device"), std::string::npos) << source.stats().last_error;
  server_->thaw();
  const auto thawed = Clock::now();
  while (source.stats().reconnects == 0 && seconds_since(thawed) < 8.0) recorder.record(0.02);
  const double reconnect_s = seconds_since(thawed);
  std::printf("server frozen: noticed after %.0f ms; thawed: reconnected after %.0f ms (%s)\n", 1e3 * detect_s,
              1e3 * reconnect_s, source.stats().last_error.c_str());
  EXPECT_EQ(source.stats().reconnects, 1u);
  EXPECT_TRUE(recorder.wait_for_audio(3.0));
}

}  // namespace
}  // namespace escd

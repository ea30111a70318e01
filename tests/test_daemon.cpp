// escd end to end, as a user runs it: a real process, real ZeroMQ subscribers, real signals.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <fstream>
#include <map>
#include <optional>
#include <nlohmann/json.hpp>
#include <thread>
#include <zmq.hpp>

#include "audio/decode.h"
#include "features/log_mel_tensor.h"
#include "model_fixtures.h"
#include "models/common/checkpoint.h"
#include "models/common/registry.h"
#include "escd_process.h"
#include "test_support.h"

namespace escd {
namespace {

using namespace std::chrono_literals;

using test::Escd;
using test::Message;
using test::Subscriber;

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::manual_seed(5);
    model_ = create_model("mamba", test::tiny_hyperparameters("mamba"));
    model_->set_input_statistics(at::full({128}, -6.0), at::full({128}, 3.0));
    model_->eval();
    for (int i = 0; i < 50; ++i) class_names_.push_back("class" + std::to_string(i));
    save_checkpoint(dir_.path("mamba.ckpt"), *model_, FrontEndConfig{}, class_names_);
    std::ofstream(dir_.path("escd.toml")) << "[scores]\nfull = true\ntop_k = 3\n";
    endpoint_ = "ipc://" + dir_.path("pub.sock");
  }
  std::vector<std::string> args(std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"--model", "mamba", "--checkpoint", dir_.path("mamba.ckpt"), "--config",
                               dir_.path("escd.toml"), "--pub", endpoint_, "--input", "-", "--fast",
                               "--format", "s16le", "--rate", "16000", "--channels", "1"};
    a.insert(a.end(), extra.begin(), extra.end());
    return a;
  }
  // An untrained V-JEPA2 with the fixture's classes: a second, different ensemble member.
  void save_tiny_vjepa2(const std::string& path) const {
    auto vjepa2 = create_model("vjepa2", test::tiny_hyperparameters("vjepa2"));
    vjepa2->set_input_statistics(at::full({128}, -6.0), at::full({128}, 3.0));
    save_checkpoint(path, *vjepa2, FrontEndConfig{}, class_names_);
  }
  std::string log() const {
    std::ifstream in(dir_.path("escd.log"));
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  // Until escd logs that it is set up (signal handlers installed, models loaded): a fixed sleep is
  // too short when the machine is busy and libtorch takes seconds to load.
  bool wait_until_running(std::chrono::seconds timeout = 60s) const {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      if (log().find("publishing on") != std::string::npos) return true;
      std::this_thread::sleep_for(50ms);
    }
    return false;
  }

  // Runs escd with `escd_args` on the whole of `samples` and returns what a subscriber saw, from
  // the first health message to escd's exit. Audio goes in only once a health message shows the
  // subscription is live (ZeroMQ's slow joiner): escd publishes health every second while it waits.
  // Failures are reported here; the caller checks HasFatalFailure().
  std::vector<Message> run_on_samples(const std::vector<std::string>& escd_args, const std::vector<float>& samples) {
    Escd escd(escd_args, dir_.path("escd.log"));
    Subscriber sub(endpoint_);
    auto messages = sub.collect(30s, [](const Message& m) { return m.topic == "esc.health"; });
    if (messages.empty()) {
      ADD_FAILURE() << "no health message within 30 s: " << log();
      return messages;
    }
    escd.write_samples(samples);
    escd.close_stdin();
    for (const auto& m : sub.collect(5s)) messages.push_back(m);
    const int code = escd.wait(10s);
    if (code != 0) ADD_FAILURE() << "escd exited with " << code << ": " << log();
    return messages;
  }

  test::TempDir dir_;
  std::vector<std::string> class_names_;
  std::shared_ptr<SequenceClassifier> model_;
  std::string endpoint_;
};

TEST_F(DaemonTest, WholeClipWindowEqualsTheParallelForwardAndSeqHasNoGaps) {
  const DecodedAudio clip = decode_audio_file(test::fixture("synthetic_16k.wav"));
  const std::vector<Message> messages = run_on_samples(args({"--hop-ms", "512"}), clip.samples);
  ASSERT_FALSE(HasFailure());

  std::map<std::string, std::vector<uint64_t>> seqs;
  const nlohmann::json* full_window = nullptr;
  int scores = 0, warming = 0, levels = 0, health = 0;
  for (const auto& m : messages) {
    for (const char* key : {"seq", "t", "wall"}) ASSERT_TRUE(m.body.contains(key)) << m.topic << " lacks " << key;
    seqs[m.topic].push_back(m.body["seq"].get<uint64_t>());
    if (m.topic == "esc.scores.mamba") {
      ++scores;
      warming += m.body["warming_up"].get<bool>();
      EXPECT_EQ(m.body["top"].size(), 3u);
      EXPECT_EQ(m.body["scores"].size(), 50u);
      if (!m.body["warming_up"].get<bool>()) full_window = &m.body;
    }
    levels += m.topic == "esc.level";
    health += m.topic == "esc.health";
  }
  for (const auto& [topic, s] : seqs) {
    // Consecutive from the first message this subscriber saw (it may have joined after the first health).
    for (size_t i = 0; i < s.size(); ++i) ASSERT_EQ(s[i], s[0] + i) << topic << ": a gap in seq";
    if (topic.rfind("esc.scores", 0) == 0) {
      EXPECT_EQ(s[0], 0u);
    }
  }
  // 155 frames with a 16-frame hop: 9 warming-up predictions (16..144 frames), then the full window.
  EXPECT_EQ(warming, 9);
  EXPECT_EQ(scores, 10);
  EXPECT_GE(levels, 9);
  EXPECT_GE(health, 2);
  ASSERT_NE(full_window, nullptr);
  EXPECT_NEAR((*full_window)["window"]["start"].get<double>(), 0.0, 1e-9);
  // The last frame, 154, ends at sample 154 * 512 + 1024 = 79872.
  EXPECT_NEAR((*full_window)["window"]["end"].get<double>(), 79872.0 / 16000.0, 1e-9);

  at::NoGradGuard no_grad;
  const at::Tensor expected = at::softmax(model_->forward(log_mel_tensor(clip.samples).unsqueeze(0))[0], 0);
  const auto got = (*full_window)["scores"].get<std::vector<float>>();
  const at::Tensor streamed = at::tensor(got);
  EXPECT_LT((streamed - expected).abs().max().item<double>(), 1e-4 * expected.abs().max().item<double>() + 1e-6);
}

// --ensemble publishes, for every window that all models close, the geometric mean of their
// probabilities (renormalised) under model "ensemble", next to each model's own scores; its events
// come from that mean.
TEST_F(DaemonTest, EnsembleScoresAreTheMeanOfTheModelsForTheSameWindow) {
  save_tiny_vjepa2(dir_.path("vjepa2.ckpt"));
  std::ofstream(dir_.path("ensemble.toml")) << "[daemon]\nmodels = [\"mamba\", \"vjepa2\"]\nensemble = true\n"
                                               "[scores]\nfull = true\ntop_k = 3\n"
                                               "[models.mamba]\ncheckpoint = \"" << dir_.path("mamba.ckpt") << "\"\n"
                                               "[models.vjepa2]\ncheckpoint = \"" << dir_.path("vjepa2.ckpt") << "\"\n";
  const DecodedAudio clip = decode_audio_file(test::fixture("synthetic_16k.wav"));
  const std::vector<Message> messages =
      run_on_samples({"--config", dir_.path("ensemble.toml"), "--pub", endpoint_, "--input", "-", "--fast", "--format",
                      "s16le", "--rate", "16000", "--channels", "1", "--hop-ms", "512"},
                     clip.samples);
  ASSERT_FALSE(HasFailure());

  // Window end time -> scores, per model.
  std::map<std::string, std::map<double, nlohmann::json>> by_model;
  const nlohmann::json* last_health = nullptr;
  for (const auto& m : messages) {
    if (m.topic.rfind("esc.scores.", 0) == 0) by_model[m.body["model"].get<std::string>()][m.body["window"]["end"].get<double>()] = m.body;
    if (m.topic == "esc.health") last_health = &m.body;
  }
  ASSERT_EQ(by_model["mamba"].size(), 10u) << log();
  ASSERT_EQ(by_model["vjepa2"].size(), 10u);
  ASSERT_EQ(by_model["ensemble"].size(), 10u);
  for (const auto& [end, body] : by_model["ensemble"]) {
    ASSERT_TRUE(by_model["mamba"].count(end) && by_model["vjepa2"].count(end)) << "no member window ending at " << end;
    const auto& a = by_model["mamba"][end];
    const auto& b = by_model["vjepa2"][end];
    EXPECT_EQ(body["window"], a["window"]);
    EXPECT_EQ(body["warming_up"], a["warming_up"]);
    const auto mean = body["scores"].get<std::vector<float>>();
    const auto pa = a["scores"].get<std::vector<float>>(), pb = b["scores"].get<std::vector<float>>();
    ASSERT_EQ(mean.size(), 50u);
    double total = 0, largest_difference = 0, members_differ = 0;
    for (size_t c = 0; c < 50; ++c) total += std::sqrt(static_cast<double>(pa[c]) * pb[c]);
    for (size_t c = 0; c < 50; ++c) {
      const double geometric = std::sqrt(static_cast<double>(pa[c]) * pb[c]) / total;
      largest_difference = std::max(largest_difference, std::abs(mean[c] - geometric));
      members_differ = std::max<double>(members_differ, std::abs(pa[c] - pb[c]));
    }
    EXPECT_LT(largest_difference, 1e-6) << "window ending at " << end;
    EXPECT_GT(members_differ, 1e-4) << "the two models agree exactly: the test would not see a wrong mean";
    EXPECT_EQ(body["top"][0]["label"], "class" + std::to_string(std::max_element(mean.begin(), mean.end()) - mean.begin()));
  }
  ASSERT_NE(last_health, nullptr);
  EXPECT_EQ((*last_health)["models"]["ensemble"]["windows"].get<int>(), 10);
  EXPECT_EQ((*last_health)["models"]["ensemble"]["mismatched_windows"].get<int>(), 0);
}

// A model with a "background" output (models/common/label_set.h) whose head is biased so that
// class0 sits over its on-threshold while background is top-1: the windows are marked background and
// no event starts. The same model without the background bias starts class0 events, so the test
// would see a detector that ignored background. An ensemble with a 50-class model gets the union.
TEST_F(DaemonTest, BackgroundWindowsAreMarkedAndStartNoEvent) {
  std::vector<std::string> names = class_names_;
  names.push_back("background");
  auto save_biased = [&](const std::string& path, float background_bias) {
    at::manual_seed(5);
    auto model = create_model("mamba", test::tiny_hyperparameters("mamba"), 128, 51);
    model->set_input_statistics(at::full({128}, -6.0), at::full({128}, 3.0));
    at::NoGradGuard no_grad;
    for (auto& p : model->named_parameters()) {
      if (p.key() == "head.weight") p.value().zero_();
      if (p.key() == "head.bias") {
        p.value().zero_();
        p.value()[0] = 20.0f;
        p.value()[50] = background_bias;
      }
    }
    save_checkpoint(path, *model, FrontEndConfig{}, names);
  };
  save_biased(dir_.path("quiet.ckpt"), 21.0f);   // p(background) 0.73, p(class0) 0.27
  save_biased(dir_.path("loud.ckpt"), -20.0f);   // p(class0) ~1
  std::ofstream(dir_.path("events.toml")) << "[scores]\nfull = true\n[events]\nthreshold = 0.2\nmin_hits = 1\n";
  const DecodedAudio clip = decode_audio_file(test::fixture("synthetic_16k.wav"));
  auto run = [&](const std::string& checkpoint) {
    return run_on_samples({"--model", "mamba", "--checkpoint", checkpoint, "--config", dir_.path("events.toml"), "--pub",
                           endpoint_, "--input", "-", "--fast", "--format", "s16le", "--rate", "16000", "--channels", "1",
                           "--hop-ms", "512"},
                          clip.samples);
  };
  auto count = [](const std::vector<Message>& messages, const std::string& topic_prefix) {
    return std::count_if(messages.begin(), messages.end(),
                         [&](const Message& m) { return m.topic.rfind(topic_prefix, 0) == 0; });
  };

  const std::vector<Message> quiet = run(dir_.path("quiet.ckpt"));
  ASSERT_FALSE(HasFailure());
  int full_windows = 0;
  for (const auto& m : quiet) {
    if (m.topic != "esc.scores.mamba" || m.body["warming_up"].get<bool>()) continue;
    ++full_windows;
    EXPECT_TRUE(m.body["background"].get<bool>());
    EXPECT_NEAR(m.body["background_p"].get<double>(), 0.731, 0.01);
    EXPECT_EQ(m.body["top"][0]["label"], "background");
  }
  EXPECT_GT(full_windows, 0) << log();
  EXPECT_EQ(count(quiet, "esc.event."), 0) << "an event started on background windows";

  const std::vector<Message> loud = run(dir_.path("loud.ckpt"));
  ASSERT_FALSE(HasFailure());
  EXPECT_GT(count(loud, "esc.event.mamba"), 0) << "the control model starts no event: the test cannot fail";

  // An ensemble of the background model with a 50-class one: 51 scores, and background judged by the
  // member that has the output (models/common/ensemble_mean.h), so the ensemble's windows are
  // background too and start no event. Its probability is the judging member's 0.73 or more: members
  // that disagree on which sound it would be only add to it.
  save_tiny_vjepa2(dir_.path("vjepa2.ckpt"));
  std::ofstream(dir_.path("ensemble.toml")) << "[daemon]\nmodels = [\"mamba\", \"vjepa2\"]\nensemble = true\n"
                                               "[scores]\nfull = true\n[events]\nthreshold = 0.1\nmin_hits = 1\n"
                                               "[models.mamba]\ncheckpoint = \"" << dir_.path("quiet.ckpt") << "\"\n"
                                               "[models.vjepa2]\ncheckpoint = \"" << dir_.path("vjepa2.ckpt") << "\"\n";
  const std::vector<Message> mixed =
      run_on_samples({"--config", dir_.path("ensemble.toml"), "--pub", endpoint_, "--input", "-", "--fast", "--format",
                      "s16le", "--rate", "16000", "--channels", "1", "--hop-ms", "512"},
                     clip.samples);
  ASSERT_FALSE(HasFailure());
  int ensemble_windows = 0;
  for (const auto& m : mixed) {
    if (m.topic != "esc.scores.ensemble") continue;
    ++ensemble_windows;
    ASSERT_EQ(m.body["scores"].size(), 51u);
    EXPECT_GT(m.body["background_p"].get<double>(), 0.72);
    EXPECT_TRUE(m.body["background"].get<bool>()) << "a plain mean would give background 0.37";
  }
  EXPECT_GT(ensemble_windows, 0) << log();
  EXPECT_EQ(count(mixed, "esc.event.ensemble"), 0) << "the ensemble started an event on background windows";
}

// How fast is for bench/: on a loaded machine libtorch's teardown alone takes seconds (measured
// 1.5-3.4 s, the loop itself stops within milliseconds; docs/RELIABILITY.md).
TEST_F(DaemonTest, SigtermStopsAndExitsCleanly) {
  Escd escd(args(), dir_.path("escd.log"));
  Subscriber sub(endpoint_);
  // Health means models loaded and waiting for audio (a fixed sleep is too short on a busy machine).
  ASSERT_FALSE(sub.collect(30s, [](const Message& m) { return m.topic == "esc.health"; }).empty()) << log();
  const auto t0 = std::chrono::steady_clock::now();
  escd.signal(SIGTERM);
  EXPECT_EQ(escd.wait(20s), 0) << log();
  std::printf("SIGTERM to exit: %.2f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  EXPECT_NE(log().find("stopped after"), std::string::npos) << log();
}

TEST_F(DaemonTest, SighupWithABrokenConfigKeepsRunningOnTheOldOne) {
  Escd escd(args(), dir_.path("escd.log"));
  Subscriber sub(endpoint_);
  ASSERT_FALSE(sub.collect(30s, [](const Message& m) { return m.topic == "esc.health"; }).empty()) << log();
  std::ofstream(dir_.path("escd.toml")) << "[scores\nfull = maybe\n";
  escd.signal(SIGHUP);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(escd.wait(0ms), -1) << "escd exited on SIGHUP: " << log();
  escd.signal(SIGTERM);
  EXPECT_EQ(escd.wait(20s), 0);
  EXPECT_NE(log().find("keeping the current settings"), std::string::npos) << log();
}

// systemd's end of sd_notify(): a datagram socket whose path goes in NOTIFY_SOCKET.
class NotifySocket {
 public:
  explicit NotifySocket(const std::string& path) : path_(path), fd_(socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0)) {
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    std::snprintf(addr.sun_path, sizeof(addr.sun_path), "%s", path.c_str());
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
      throw std::runtime_error("cannot bind " + path);
    }
    timeval timeout{0, 100000};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  }
  ~NotifySocket() { close(fd_); }
  // Every datagram received during `duration`, or until one contains `until` (when not empty).
  std::vector<std::string> collect(std::chrono::milliseconds duration, const std::string& until = "") {
    std::vector<std::string> out;
    const auto end = std::chrono::steady_clock::now() + duration;
    char buf[4096];
    while (std::chrono::steady_clock::now() < end) {
      const ssize_t n = recv(fd_, buf, sizeof(buf), 0);
      if (n <= 0) continue;
      out.emplace_back(buf, static_cast<size_t>(n));
      if (!until.empty() && out.back().find(until) != std::string::npos) break;
    }
    return out;
  }

 private:
  std::string path_;
  int fd_;
};

int count_containing(const std::vector<std::string>& messages, const std::string& what) {
  return static_cast<int>(std::count_if(messages.begin(), messages.end(),
                                        [&](const std::string& m) { return m.find(what) != std::string::npos; }));
}

// Type=notify with WatchdogSec=: READY once, STATUS summaries, and keep-alives from the processing
// loop itself. Health reports are made rare (30 s) so that only the loop can explain the keep-alives.
TEST_F(DaemonTest, SystemdGetsReadyStatusAndAWatchdogFedByTheProcessingLoop) {
  std::ofstream(dir_.path("escd.toml")) << "[daemon]\nhealth_interval_s = 30.0\n";
  NotifySocket notify(dir_.path("notify.sock"));
  Escd escd(args(), dir_.path("escd.log"), "", {"NOTIFY_SOCKET=" + dir_.path("notify.sock"), "WATCHDOG_USEC=400000"});
  std::vector<std::string> messages = notify.collect(30s, "READY=1");
  for (const auto& m : notify.collect(2s)) messages.push_back(m);
  escd.signal(SIGTERM);
  EXPECT_EQ(escd.wait(3s), 0) << log();
  EXPECT_EQ(count_containing(messages, "READY=1"), 1) << log();
  EXPECT_GE(count_containing(messages, "STATUS=listening"), 1);
  EXPECT_GE(count_containing(messages, "1 model(s)"), 1) << "no health summary in STATUS=";
  // 2 s after READY at one keep-alive per 100 ms (a quarter of 400 ms), loosely: a busy machine.
  EXPECT_GE(count_containing(messages, "WATCHDOG=1"), 8) << log();
}

TEST_F(DaemonTest, NoWatchdogKeepAlivesWhenSystemdDidNotAskForThem) {
  NotifySocket notify(dir_.path("notify.sock"));
  Escd escd(args(), dir_.path("escd.log"), "", {"NOTIFY_SOCKET=" + dir_.path("notify.sock")});
  std::vector<std::string> messages = notify.collect(30s, "READY=1");
  for (const auto& m : notify.collect(2s)) messages.push_back(m);
  escd.signal(SIGTERM);
  EXPECT_EQ(escd.wait(3s), 0) << log();
  EXPECT_EQ(count_containing(messages, "READY=1"), 1) << log();
  EXPECT_EQ(count_containing(messages, "WATCHDOG=1"), 0);
}

TEST_F(DaemonTest, BadSettingsAreClearErrorsAtStart) {
  {
    Escd escd(args({"--hop-ms", "-5"}), dir_.path("escd.log"));
    EXPECT_EQ(escd.wait(10s), 2);
    EXPECT_NE(log().find("hop_ms"), std::string::npos) << log();
  }
  {
    std::ofstream(dir_.path("bad.toml")) << "[daemon]\nhop_ms = \"fast\"\n";
    std::vector<std::string> a = args();
    a[5] = dir_.path("bad.toml");
    Escd escd(a, dir_.path("escd.log"));
    EXPECT_EQ(escd.wait(10s), 2);
    EXPECT_NE(log().find("bad.toml: [daemon] hop_ms: expected a number"), std::string::npos) << log();
  }
  {
    std::vector<std::string> a = args();
    a[1] = "mamba,liquid_s4";
    Escd escd(a, dir_.path("escd.log"));
    EXPECT_EQ(escd.wait(10s), 2);
    EXPECT_NE(log().find("--checkpoint needs exactly one --model"), std::string::npos) << log();
  }
}

// No microphone (a device name that matches nothing, on any machine): escd would wait for one
// forever, so whatever can be checked without it must fail first, naming what is wrong. A unit
// start under systemd then fails at once with the reason instead of "waiting for audio input".
TEST_F(DaemonTest, StartUpErrorsEndEscdBeforeItWaitsForAMicrophone) {
  const std::vector<std::string> no_microphone{"--config", dir_.path("escd.toml"), "--device", "escd-no-such-microphone"};
  const auto run = [&](std::vector<std::string> a, const std::string& log_name) {
    a.insert(a.end(), no_microphone.begin(), no_microphone.end());
    Escd escd(a, dir_.path(log_name));
    return escd.wait(30s);
  };
  EXPECT_EQ(run({"--model", "resnet", "--pub", endpoint_}, "model.log"), 2) << test::read_text(dir_.path("model.log"));
  EXPECT_NE(test::read_text(dir_.path("model.log")).find("model 'resnet': no such model"), std::string::npos)
      << test::read_text(dir_.path("model.log"));

  EXPECT_EQ(run({"--model", "mamba", "--checkpoint", dir_.path("missing.ckpt"), "--pub", endpoint_}, "checkpoint.log"), 1)
      << test::read_text(dir_.path("checkpoint.log"));
  EXPECT_NE(test::read_text(dir_.path("checkpoint.log")).find(dir_.path("missing.ckpt")), std::string::npos)
      << test::read_text(dir_.path("checkpoint.log"));

  const std::string unbindable = "ipc://" + dir_.path("no-such-dir/pub.sock");
  EXPECT_EQ(run({"--model", "mamba", "--checkpoint", dir_.path("mamba.ckpt"), "--pub", unbindable}, "bind.log"), 1)
      << test::read_text(dir_.path("bind.log"));
  EXPECT_NE(test::read_text(dir_.path("bind.log")).find(unbindable), std::string::npos) << test::read_text(dir_.path("bind.log"));
  for (const char* log_name : {"model.log", "checkpoint.log", "bind.log"}) {
    EXPECT_EQ(test::read_text(dir_.path(log_name)).find("retrying"), std::string::npos)
        << log_name << ": escd looked for a microphone before failing:\n" << test::read_text(dir_.path(log_name));
  }
}

// Waiting for a microphone that is not there, PortAudio probes ALSA and JACK on every attempt, and
// both libraries used to print pages of their own errors on stderr per probe. They go to escd's log
// at debug level now; escd's own warning stays. (On a machine with a sound card and a JACK server
// the libraries may have nothing to say, and this passes either way.)
TEST_F(DaemonTest, WaitingForAMicrophoneLogsEscdsWarningWithoutSoundLibraryChatter) {
  Escd escd({"--model", "mamba", "--checkpoint", dir_.path("mamba.ckpt"), "--config", dir_.path("escd.toml"), "--pub",
             endpoint_, "--device", "escd-no-such-microphone"},
            dir_.path("escd.log"));
  ASSERT_TRUE(test::wait_for_text(dir_.path("escd.log"), "(attempt 2)", 60s)) << log();
  escd.signal(SIGTERM);
  EXPECT_EQ(escd.wait(20s), 0) << log();
  const std::string text = log();
  EXPECT_NE(text.find("[warning] audio input: no input device matches 'escd-no-such-microphone'"), std::string::npos)
      << text;
  for (const char* chatter : {"ALSA lib", "Cannot connect to server", "jack server is not running", "JackShm"}) {
    EXPECT_EQ(text.find(chatter), std::string::npos) << "'" << chatter << "' on stderr:\n" << text;
  }
}

}  // namespace
}  // namespace escd

// --- Faults (issue 9): silence, signals mid-stream, SIGKILL and restart, SIGHUP keeping old settings.

namespace escd {
namespace {

bool is_health(const Message& m) { return m.topic == "esc.health"; }

TEST_F(DaemonTest, DigitalSilenceIsReportedInHealthAndClearsWhenSoundReturns) {
  Escd escd(args(), dir_.path("escd.log"));
  Subscriber sub(endpoint_);
  ASSERT_TRUE(sub.until(30s, is_health)) << log();
  escd.write_samples(std::vector<float>(6 * 16000, 0.0f));  // 6 s of exact zeros: more than the 5 s limit
  const auto silent = sub.until(5s, [](const Message& m) { return is_health(m) && m.body["input"]["silent"].get<bool>(); });
  ASSERT_TRUE(silent) << "no health message with input.silent within 5 s: " << log();
  EXPECT_GE(silent->body["input"]["silent_s"].get<double>(), 5.0);
  EXPECT_EQ(silent->body["input"]["silences"].get<uint64_t>(), 1u);
  escd.write_samples(test::analytic_signal(1.0, 16000));
  const auto back = sub.until(5s, [](const Message& m) { return is_health(m) && !m.body["input"]["silent"].get<bool>(); });
  ASSERT_TRUE(back) << "input.silent still true 5 s after sound returned: " << log();
  EXPECT_EQ(back->body["input"]["silences"].get<uint64_t>(), 1u);
  escd.close_stdin();
  EXPECT_EQ(escd.wait(10s), 0) << log();
  EXPECT_NE(log().find("digital silence for"), std::string::npos) << log();
}

TEST_F(DaemonTest, SigtermMidHopEndsTheOpenEventAndExitsZero) {
  // An event that certainly starts: class3 is "on" at any probability above 0.001.
  std::ofstream(dir_.path("escd.toml")) << "[scores]\ntop_k = 3\n[events]\nthreshold = 0.001\nmin_hits = 1\n"
                                        << "include = [\"class3\"]\n";
  Escd escd(args({"--hop-ms", "512"}), dir_.path("escd.log"));
  Subscriber sub(endpoint_);
  ASSERT_TRUE(sub.until(30s, is_health)) << log();
  // 6.3 s: the first full window, two more hops, and part of the next hop.
  escd.write_samples(test::analytic_signal(6.3, 16000));
  const auto started = sub.until(10s, [](const Message& m) { return m.topic == "esc.event.mamba"; });
  ASSERT_TRUE(started) << "no event started: " << log();
  EXPECT_EQ(started->body["type"], "start");
  std::this_thread::sleep_for(500ms);  // the rest of the 6.3 s is processed
  const auto t0 = std::chrono::steady_clock::now();
  escd.signal(SIGTERM);  // stdin stays open: escd is waiting for the rest of the hop
  EXPECT_EQ(escd.wait(20s), 0) << log();
  std::printf("SIGTERM to exit: %.2f s\n", std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  const auto rest = sub.collect(1s);  // what it published on the way out is queued here
  const Message* end = nullptr;
  bool final_health = false;
  for (const auto& m : rest) {
    if (m.topic == "esc.event.mamba" && m.body["type"] == "end") end = &m;
    final_health |= is_health(m) && end != nullptr;  // the last health comes after the events end
  }
  ASSERT_NE(end, nullptr) << "the open event was not ended on SIGTERM";
  EXPECT_EQ(end->body["reason"], "shutdown");
  EXPECT_EQ(end->body["label"], "class3");
  EXPECT_NEAR(end->body["t"].get<double>(), 6.3, 0.01);  // the stream time reached, mid-hop
  EXPECT_TRUE(final_health);
}

TEST_F(DaemonTest, SigkillAndRestartOnTheSameEndpointPublishesAgain) {
  Subscriber sub(endpoint_);  // one subscriber across both lives: ZeroMQ reconnects it
  uint64_t first_life_seq = 0;
  {
    Escd first(args(), dir_.path("escd.log"));
    const auto m = sub.until(30s, [](const Message& m) { return is_health(m) && m.body["seq"].get<uint64_t>() >= 2; });
    ASSERT_TRUE(m) << log();
    first_life_seq = m->body["seq"].get<uint64_t>();
    first.signal(SIGKILL);
    EXPECT_EQ(first.wait(10s), 128 + SIGKILL);
  }
  // The ipc socket file is still there; the new process must bind over it.
  Escd second(args(), dir_.path("escd2.log"));
  const auto m = sub.until(30s, [&](const Message& m) { return is_health(m) && m.body["seq"].get<uint64_t>() < first_life_seq; });
  ASSERT_TRUE(m) << "no health from the restarted escd: " << log();
  // A restart shows as seq starting again (from 0) and a small uptime.
  EXPECT_LT(m->body["uptime_s"].get<double>(), 30.0);
  second.write_samples(test::analytic_signal(1.0, 16000));
  second.close_stdin();
  const auto scores = sub.until(5s, [](const Message& m) { return m.topic == "esc.scores.mamba"; });
  ASSERT_TRUE(scores) << "no scores after the restart";
  EXPECT_EQ(scores->body["seq"].get<uint64_t>(), 0u);
  EXPECT_EQ(second.wait(10s), 0);
}

TEST_F(DaemonTest, SighupWithABrokenConfigKeepsTheOldSettingsInEffectAndAGoodOneApplies) {
  Escd escd(args({"--hop-ms", "512"}), dir_.path("escd.log"));
  Subscriber sub(endpoint_);
  ASSERT_TRUE(sub.until(30s, is_health)) << log();
  // One second of audio gives one or two predictions; the first is taken.
  auto top_size_after = [&](double seconds) {
    escd.write_samples(test::analytic_signal(seconds, 16000));
    const auto m = sub.until(5s, [](const Message& m) { return m.topic == "esc.scores.mamba"; });
    return m ? m->body["top"].size() : size_t{0};
  };
  std::ofstream(dir_.path("escd.toml")) << "[scores]\ntop_k = 7\nfull = \"maybe\"\n";  // one key of the wrong type
  escd.signal(SIGHUP);
  std::this_thread::sleep_for(300ms);  // the loop notices the flag within one 100 ms read
  EXPECT_EQ(top_size_after(1.0), 3u) << "a broken config changed the settings: " << log();
  EXPECT_NE(log().find("SIGHUP: keeping the current settings"), std::string::npos) << log();
  EXPECT_NE(log().find("[scores] full"), std::string::npos) << "the error does not name the bad key: " << log();
  std::ofstream(dir_.path("escd.toml")) << "[scores]\ntop_k = 2\n";
  escd.signal(SIGHUP);
  std::this_thread::sleep_for(300ms);
  EXPECT_EQ(top_size_after(1.0), 2u) << log();
  escd.close_stdin();
  EXPECT_EQ(escd.wait(10s), 0) << log();
}

}  // namespace
}  // namespace escd

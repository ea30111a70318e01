// escd end to end, as a user runs it: a real process, real ZeroMQ subscribers, real signals.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>
#include <zmq.hpp>

#include "audio/decode.h"
#include "features/log_mel_tensor.h"
#include "model_fixtures.h"
#include "models/common/checkpoint.h"
#include "models/common/registry.h"
#include "test_support.h"

namespace escd {
namespace {

using namespace std::chrono_literals;

// escd as a child process with a pipe on its stdin and its stderr captured to a file; `env` adds
// NAME=value entries to the inherited environment.
class Escd {
 public:
  Escd(const std::vector<std::string>& args, const std::string& log_path, const std::vector<std::string>& env = {}) {
    int in[2];
    if (pipe(in) != 0) throw std::runtime_error("pipe");
    // Built before fork(): the child of a multi-threaded process should only exec.
    std::vector<char*> envp;
    for (char** e = environ; *e; ++e) envp.push_back(*e);
    for (const auto& e : env) envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], STDIN_FILENO);
      const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(log, STDERR_FILENO);
      dup2(log, STDOUT_FILENO);
      close(in[1]);
      std::vector<char*> argv{const_cast<char*>(ESCD_BIN)};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execve(ESCD_BIN, argv.data(), envp.data());
      _exit(127);
    }
    close(in[0]);
    stdin_ = in[1];
  }
  ~Escd() {
    close_stdin();
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  void write_samples(const std::vector<float>& samples) {
    std::vector<int16_t> pcm(samples.size());
    for (size_t i = 0; i < samples.size(); ++i) {
      pcm[i] = static_cast<int16_t>(std::lround(std::clamp(samples[i], -1.0f, 32767.0f / 32768.0f) * 32768.0f));
    }
    const char* p = reinterpret_cast<const char*>(pcm.data());
    size_t left = pcm.size() * 2;
    while (left > 0) {
      const ssize_t n = write(stdin_, p, left);
      if (n <= 0) throw std::runtime_error("write to escd failed");
      p += n;
      left -= static_cast<size_t>(n);
    }
  }
  void close_stdin() {
    if (stdin_ >= 0) close(stdin_);
    stdin_ = -1;
  }
  // Exit code, or -1 if it did not exit within `timeout`.
  int wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(10ms);
    }
    return -1;
  }
  void signal(int sig) { kill(pid_, sig); }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  bool exited_ = false;
};

struct Message {
  std::string topic;
  nlohmann::json body;
};

class Subscriber {
 public:
  explicit Subscriber(const std::string& endpoint) : socket_(context_, zmq::socket_type::sub) {
    socket_.set(zmq::sockopt::subscribe, "");
    socket_.set(zmq::sockopt::rcvtimeo, 100);
    socket_.connect(endpoint);
  }
  // Receives until `done` says so or nothing arrives for `quiet`.
  std::vector<Message> collect(std::chrono::milliseconds quiet, const std::function<bool(const Message&)>& done = {}) {
    std::vector<Message> out;
    auto last = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - last < quiet) {
      zmq::message_t topic, body;
      if (!socket_.recv(topic)) continue;
      EXPECT_TRUE(topic.more());
      EXPECT_TRUE(socket_.recv(body));
      out.push_back({topic.to_string(), nlohmann::json::parse(body.to_string())});
      last = std::chrono::steady_clock::now();
      if (done && done(out.back())) break;
    }
    return out;
  }

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

class DaemonTest : public ::testing::Test {
 protected:
  void SetUp() override {
    at::manual_seed(5);
    model_ = create_model("mamba", test::tiny_hyperparameters("mamba"));
    model_->set_input_statistics(at::full({128}, -6.0), at::full({128}, 3.0));
    model_->eval();
    std::vector<std::string> names;
    for (int i = 0; i < 50; ++i) names.push_back("class" + std::to_string(i));
    save_checkpoint(dir_.path("mamba.ckpt"), *model_, FrontEndConfig{}, names);
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

  test::TempDir dir_;
  std::shared_ptr<SequenceClassifier> model_;
  std::string endpoint_;
};

TEST_F(DaemonTest, WholeClipWindowEqualsTheParallelForwardAndSeqHasNoGaps) {
  const DecodedAudio clip = decode_audio_file(test::fixture("synthetic_16k.wav"));
  Escd escd(args({"--hop-ms", "512"}), dir_.path("escd.log"));
  Subscriber sub(endpoint_);
  // Audio goes in only once a health message shows the subscription is live (ZeroMQ's slow
  // joiner): escd publishes health every second while it waits for audio.
  auto messages = sub.collect(30s, [](const Message& m) { return m.topic == "esc.health"; });
  ASSERT_FALSE(messages.empty()) << "no health message within 30 s: " << log();
  escd.write_samples(clip.samples);
  escd.close_stdin();
  for (const auto& m : sub.collect(5s)) messages.push_back(m);
  ASSERT_EQ(escd.wait(10s), 0) << log();

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

TEST_F(DaemonTest, SigtermStopsWithinASecondAndExitsCleanly) {
  Escd escd(args(), dir_.path("escd.log"));
  ASSERT_TRUE(wait_until_running()) << log();  // models loaded, waiting for audio
  const auto t0 = std::chrono::steady_clock::now();
  escd.signal(SIGTERM);
  EXPECT_EQ(escd.wait(3s), 0) << log();
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 1s);
}

TEST_F(DaemonTest, SighupWithABrokenConfigKeepsRunningOnTheOldOne) {
  Escd escd(args(), dir_.path("escd.log"));
  ASSERT_TRUE(wait_until_running()) << log();
  std::ofstream(dir_.path("escd.toml")) << "[scores\nfull = maybe\n";
  escd.signal(SIGHUP);
  std::this_thread::sleep_for(500ms);
  EXPECT_EQ(escd.wait(0ms), -1) << "escd exited on SIGHUP: " << log();
  escd.signal(SIGTERM);
  EXPECT_EQ(escd.wait(3s), 0);
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
  Escd escd(args(), dir_.path("escd.log"), {"NOTIFY_SOCKET=" + dir_.path("notify.sock"), "WATCHDOG_USEC=400000"});
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
  Escd escd(args(), dir_.path("escd.log"), {"NOTIFY_SOCKET=" + dir_.path("notify.sock")});
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

}  // namespace
}  // namespace escd

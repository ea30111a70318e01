#include "escd_process.h"

#include <ATen/Functions.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <fstream>
#include <map>
#include <stdexcept>
#include <thread>

#include "model_fixtures.h"
#include "models/common/checkpoint.h"
#include "models/common/registry.h"
#include "topic.h"

namespace escd::test {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

namespace {

std::vector<int16_t> to_s16(const float* samples, size_t n) {
  std::vector<int16_t> pcm(n);
  for (size_t i = 0; i < n; ++i) {
    pcm[i] = static_cast<int16_t>(std::lround(std::clamp(samples[i], -1.0f, 32767.0f / 32768.0f) * 32768.0f));
  }
  return pcm;
}

}  // namespace

Escd::Escd(const std::vector<std::string>& args, const std::string& log_path, const std::string& cwd,
           const std::vector<std::string>& env, const std::string& program) {
  // argv and the environment are built before fork(): the child of a multi-threaded process
  // should only call async-signal-safe functions until it execs.
  std::vector<std::string> environment;
  for (char** e = environ; *e != nullptr; ++e) environment.emplace_back(*e);
  if (!cwd.empty()) {
    environment.push_back("TMPDIR=" + cwd);
    environment.push_back("HOME=" + cwd);
  }
  environment.insert(environment.end(), env.begin(), env.end());
  std::vector<char*> envp, argv{const_cast<char*>(program.c_str())};
  // glibc's getenv returns the first match: put the overrides first.
  for (auto it = environment.rbegin(); it != environment.rend(); ++it) envp.push_back(it->data());
  envp.push_back(nullptr);
  for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  int in[2];
  if (pipe(in) != 0) throw std::runtime_error("pipe");
  pid_ = fork();
  if (pid_ == 0) {
    dup2(in[0], STDIN_FILENO);
    const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(log, STDERR_FILENO);
    dup2(log, STDOUT_FILENO);
    close(log);
    close(in[0]);
    close(in[1]);
    // escd starts with stdin, stdout and stderr only, as under systemd: descriptors the test
    // runner leaks (ctest's log) would otherwise show up as files escd holds open.
    for (int fd = 3; fd < 1024; ++fd) close(fd);
    if (!cwd.empty() && chdir(cwd.c_str()) != 0) _exit(126);
    execve(program.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(in[0]);
  stdin_ = in[1];
}

Escd::~Escd() {
  close_stdin();
  if (pid_ > 0 && !exited_) {
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
}

void Escd::write_samples(const std::vector<float>& samples) {
  const std::vector<int16_t> pcm = to_s16(samples.data(), samples.size());
  write_bytes(pcm.data(), pcm.size() * sizeof(int16_t));
}

void Escd::write_bytes(const void* data, size_t size) {
  const char* p = static_cast<const char*>(data);
  size_t left = size;
  while (left > 0) {
    const ssize_t n = write(stdin_, p, left);
    if (n < 0 && errno == EAGAIN) {
      pollfd room{stdin_, POLLOUT, 0};
      poll(&room, 1, 100);
      continue;
    }
    if (n <= 0) throw std::runtime_error("write to escd failed");
    p += n;
    left -= static_cast<size_t>(n);
  }
}

void Escd::close_stdin() {
  if (stdin_ >= 0) close(stdin_);
  stdin_ = -1;
}

int Escd::wait(std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  do {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      exited_ = true;
      return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    }
    std::this_thread::sleep_for(10ms);
  } while (Clock::now() < deadline);
  return -1;
}

void Escd::signal(int sig) { kill(pid_, sig); }

RealTimeFeed feed_in_real_time(Escd& escd, const std::vector<float>& samples,
                               const std::function<void(double)>& each_chunk) {
  constexpr size_t kChunk = 512;
  RealTimeFeed feed;
  const int fd = escd.stdin_fd();
  fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
  const auto start = Clock::now();
  for (size_t at = 0; at < samples.size(); at += kChunk) {
    std::this_thread::sleep_until(start + std::chrono::microseconds(static_cast<int64_t>(at * 1e6 / 16000)));
    const size_t n = std::min(kChunk, samples.size() - at);
    const std::vector<int16_t> pcm = to_s16(samples.data() + at, n);
    const char* p = reinterpret_cast<const char*>(pcm.data());
    size_t left = n * 2;
    bool counted = false;
    while (left > 0) {
      const ssize_t w = write(fd, p, left);
      if (w < 0 && errno == EAGAIN) {
        if (!counted) ++feed.pipe_full;
        counted = true;
        pollfd room{fd, POLLOUT, 0};
        poll(&room, 1, 100);
        continue;
      }
      if (w <= 0) throw std::runtime_error("write to escd failed");
      p += w;
      left -= static_cast<size_t>(w);
    }
    ++feed.chunks;
    if (each_chunk) each_chunk(static_cast<double>(at + n) / 16000.0);
  }
  return feed;
}

void write_tiny_checkpoint(const std::string& path) {
  at::manual_seed(5);
  auto model = create_model("mamba", tiny_hyperparameters("mamba"));
  model->set_input_statistics(at::full({128}, -6.0), at::full({128}, 3.0));
  model->eval();
  std::vector<std::string> names;
  for (int i = 0; i < 50; ++i) names.push_back("class" + std::to_string(i));
  save_checkpoint(path, *model, FrontEndConfig{}, names);
}

Subscriber::Subscriber(const std::string& endpoint, int receive_hwm, const CurveClient* curve,
                       const std::vector<std::string>& topics)
    : socket_(context_, zmq::socket_type::sub) {
  socket_.set(zmq::sockopt::rcvhwm, receive_hwm);
  socket_.set(zmq::sockopt::linger, 0);
  if (curve) {
    socket_.set(zmq::sockopt::curve_serverkey, curve->server_public);
    socket_.set(zmq::sockopt::curve_publickey, curve->public_key);
    socket_.set(zmq::sockopt::curve_secretkey, curve->secret_key);
  }
  for (const auto& topic : topics) socket_.set(zmq::sockopt::subscribe, topic);
  socket_.set(zmq::sockopt::rcvtimeo, 100);
  socket_.connect(endpoint);
}

std::vector<Message> Subscriber::collect(std::chrono::milliseconds quiet, const std::function<bool(const Message&)>& done) {
  std::vector<Message> out;
  auto last = Clock::now();
  while (Clock::now() - last < quiet) {
    zmq::message_t topic, body;
    if (!socket_.recv(topic)) continue;
    EXPECT_TRUE(topic.more());
    EXPECT_TRUE(socket_.recv(body));
    out.push_back(split_message(topic.to_string(), body.to_string()));
    last = Clock::now();
    if (done && done(out.back())) break;
  }
  return out;
}

std::optional<Message> Subscriber::until(std::chrono::milliseconds timeout,
                                        const std::function<bool(const Message&)>& done) {
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    zmq::message_t topic, body;
    if (!socket_.recv(topic)) continue;
    EXPECT_TRUE(topic.more());
    EXPECT_TRUE(socket_.recv(body));
    Message m = split_message(topic.to_string(), body.to_string());
    if (done(m)) return m;
  }
  return std::nullopt;
}

Message split_message(const std::string& topic, const std::string& payload) {
  Message m{daemon::stream_of(topic), nlohmann::json::parse(payload), ""};
  if (const auto parsed = daemon::parse_topic(topic)) m.source = parsed->source;
  EXPECT_EQ(m.body.value("source", ""), m.source) << topic << " " << payload;
  return m;
}

std::map<std::string, uint64_t> seq_gaps(const std::vector<Message>& messages) {
  std::map<std::string, uint64_t> next, gaps;
  for (const auto& m : messages) {
    const std::string name = daemon::with_source(m.topic, m.source);
    const uint64_t seq = m.body.at("seq").get<uint64_t>();
    if (const auto it = next.find(name); it != next.end() && seq > it->second) gaps[name] += seq - it->second;
    gaps.emplace(name, 0);
    next[name] = seq + 1;
  }
  return gaps;
}

void EscdFixture::SetUp() {
  write_tiny_checkpoint(dir_.path("mamba.ckpt"));
  endpoint_ = "ipc://" + dir_.path("pub.sock");
  write_config();
}

void EscdFixture::write_config(const std::string& extra) {
  std::ofstream(dir_.path("escd.toml")) << extra << "\n[scores]\nfull = true\n";
}

std::vector<std::string> EscdFixture::args(std::vector<std::string> extra) const {
  std::vector<std::string> a{"--model", "mamba", "--checkpoint", dir_.path("mamba.ckpt"), "--config",
                             dir_.path("escd.toml"), "--input", "-", "--format", "s16le", "--rate", "16000",
                             "--channels", "1"};
  if (std::find(extra.begin(), extra.end(), "--pub") == extra.end()) a.insert(a.end(), {"--pub", endpoint_});
  a.insert(a.end(), extra.begin(), extra.end());
  return a;
}

std::string EscdFixture::log() const { return read_text(log_path()); }

bool EscdFixture::await_health(Subscriber& sub, std::vector<Message>& into) {
  const auto got = sub.collect(30s, [](const Message& m) { return m.topic == "esc.health"; });
  into.insert(into.end(), got.begin(), got.end());
  return !got.empty() && got.back().topic == "esc.health";
}

const nlohmann::json* EscdFixture::last_health(const std::vector<Message>& messages) {
  for (auto it = messages.rbegin(); it != messages.rend(); ++it) {
    if (it->topic == "esc.health") return &it->body;
  }
  return nullptr;
}

std::vector<uint64_t> EscdFixture::seqs(const std::vector<Message>& messages, const std::string& topic) {
  std::vector<uint64_t> out;
  for (const auto& m : messages) {
    if (m.topic == topic) out.push_back(m.body.at("seq").get<uint64_t>());
  }
  return out;
}

}  // namespace escd::test

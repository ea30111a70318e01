// escd as a child process for end-to-end tests: its stdin a pipe the test writes raw PCM into, its
// stdout and stderr a log file, and a ZeroMQ subscriber on its PUB endpoint.
#pragma once

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <functional>
#include <nlohmann/json.hpp>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

namespace escd::test {

class EscdChild {
 public:
  EscdChild(const std::string& binary, const std::vector<std::string>& args, const std::string& log_path) {
    int in[2];
    if (pipe(in) != 0) throw std::runtime_error("pipe");
    pid_ = fork();
    if (pid_ == 0) {
      dup2(in[0], STDIN_FILENO);
      const int log = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      dup2(log, STDERR_FILENO);
      dup2(log, STDOUT_FILENO);
      close(in[1]);
      std::vector<char*> argv{const_cast<char*>(binary.c_str())};
      for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
      argv.push_back(nullptr);
      execv(binary.c_str(), argv.data());
      _exit(127);
    }
    close(in[0]);
    stdin_ = in[1];
  }
  ~EscdChild() {
    close_stdin();
    if (pid_ > 0 && !exited_) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
  }
  EscdChild(const EscdChild&) = delete;
  EscdChild& operator=(const EscdChild&) = delete;

  void write_bytes(const void* data, size_t size) {
    const char* p = static_cast<const char*>(data);
    while (size > 0) {
      const ssize_t n = write(stdin_, p, size);
      if (n <= 0) throw std::runtime_error("write to escd failed");
      p += n;
      size -= static_cast<size_t>(n);
    }
  }
  void close_stdin() {
    if (stdin_ >= 0) close(stdin_);
    stdin_ = -1;
  }
  // Exit code (128 + signal if killed), or -1 if it did not exit within `timeout`.
  int wait(std::chrono::milliseconds timeout) {
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      int status = 0;
      if (waitpid(pid_, &status, WNOHANG) == pid_) {
        exited_ = true;
        return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return -1;
  }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  bool exited_ = false;
};

struct PublishedMessage {
  std::string topic;
  nlohmann::json body;
};

class EscdSubscriber {
 public:
  explicit EscdSubscriber(const std::string& endpoint) : socket_(context_, zmq::socket_type::sub) {
    socket_.set(zmq::sockopt::subscribe, "");
    socket_.set(zmq::sockopt::rcvtimeo, 100);
    socket_.connect(endpoint);
  }
  // Receives until `done` returns true or nothing arrives for `quiet`.
  std::vector<PublishedMessage> collect(std::chrono::milliseconds quiet,
                                        const std::function<bool(const PublishedMessage&)>& done = {}) {
    std::vector<PublishedMessage> out;
    auto last = std::chrono::steady_clock::now();
    while (std::chrono::steady_clock::now() - last < quiet) {
      zmq::message_t topic, body;
      if (!socket_.recv(topic)) continue;
      if (!topic.more() || !socket_.recv(body)) throw std::runtime_error("escd sent a message without a body");
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

}  // namespace escd::test

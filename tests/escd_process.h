// escd as the end-to-end tests run it: a child process with a pipe on its stdin (raw s16le PCM)
// and its output captured to a file, and ZeroMQ subscribers that collect what it publishes.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>
#include <zmq.hpp>

#include "test_support.h"

namespace escd::test {

class Escd {
 public:
  // Starts `program` (escd, or another of its programs such as esc-proxy) with `args`; stdout and
  // stderr go to `log_path`. A non-empty `cwd` becomes its working directory (and its TMPDIR and
  // HOME), for tests of where escd writes. `env` adds NAME=value entries to the inherited
  // environment (NOTIFY_SOCKET for the sd_notify tests).
  Escd(const std::vector<std::string>& args, const std::string& log_path, const std::string& cwd = "",
       const std::vector<std::string>& env = {}, const std::string& program = ESCD_BIN);
  ~Escd();  // closes stdin and kills escd if it is still running
  Escd(const Escd&) = delete;
  Escd& operator=(const Escd&) = delete;

  // Writes samples as s16le, blocking until the pipe takes them all.
  void write_samples(const std::vector<float>& samples);
  // Writes raw bytes (any --format), blocking until the pipe takes them all.
  void write_bytes(const void* data, size_t size);
  void close_stdin();
  // Exit code, or -1 if it did not exit within `timeout`.
  int wait(std::chrono::milliseconds timeout);
  void signal(int sig);
  pid_t pid() const { return pid_; }
  int stdin_fd() const { return stdin_; }

 private:
  pid_t pid_ = -1;
  int stdin_ = -1;
  bool exited_ = false;
};

// Feeding audio at the pace a microphone delivers it, 512 samples (32 ms) at a time. A write that
// finds the pipe full (64 KiB, about 2 s of audio) means escd has fallen that far behind: it is
// counted, then the feed waits for room.
struct RealTimeFeed {
  size_t chunks = 0;
  size_t pipe_full = 0;  // writes that found the pipe full
};
RealTimeFeed feed_in_real_time(Escd& escd, const std::vector<float>& samples,
                               const std::function<void(double seconds_fed)>& each_chunk = {});

// A checkpoint of a small untrained Mamba (50 classes class0..class49), enough for escd to run.
void write_tiny_checkpoint(const std::string& path);

struct Message {
  std::string topic;   // without its source: esc.scores.mamba for esc.scores.mamba.<source>
  nlohmann::json body;
  std::string source;  // the topic's last part (checked to be the body's `source`)
};

// A received topic and payload as a Message; the topic's source must be the body's.
Message split_message(const std::string& topic, const std::string& payload);

struct CurveClient {
  std::string server_public;  // escd's public key (Z85)
  std::string public_key, secret_key;
};

class Subscriber {
 public:
  // Subscribes to `topics` (prefixes; everything by default); `receive_hwm` bounds what ZeroMQ
  // queues for this subscriber.
  explicit Subscriber(const std::string& endpoint, int receive_hwm = 1000, const CurveClient* curve = nullptr,
                      const std::vector<std::string>& topics = {""});
  // Receives until `done` says so or nothing arrives for `quiet`.
  std::vector<Message> collect(std::chrono::milliseconds quiet, const std::function<bool(const Message&)>& done = {});
  // Receives until `done` says so or `timeout` has passed, however busy the stream; the match, if any.
  std::optional<Message> until(std::chrono::milliseconds timeout, const std::function<bool(const Message&)>& done);

 private:
  zmq::context_t context_{1};
  zmq::socket_t socket_;
};

// A temporary directory with a tiny checkpoint and a config file, and escd's arguments to run it
// on raw PCM from stdin, publishing on an ipc socket in that directory.
class EscdFixture : public ::testing::Test {
 protected:
  void SetUp() override;
  // Rewrites the config: full scores, plus `extra` TOML (e.g. "[daemon]\nsend_hwm = 16\n").
  void write_config(const std::string& extra = "");
  // escd's arguments; `extra` may replace --pub.
  std::vector<std::string> args(std::vector<std::string> extra = {}) const;
  std::string log_path() const { return dir_.path("escd.log"); }
  std::string log() const;
  // Receives until a health message arrives (escd is up and the subscription live), appending to `into`.
  static bool await_health(Subscriber& sub, std::vector<Message>& into);
  static const nlohmann::json* last_health(const std::vector<Message>& messages);
  // The `seq` of every message on `topic`, in arrival order.
  static std::vector<uint64_t> seqs(const std::vector<Message>& messages, const std::string& topic);

  TempDir dir_;
  std::string endpoint_;
};

// Topic and source (esc.level.kitchen) -> total of the gaps in its `seq` (messages this subscriber
// lost), over `messages` in order.
std::map<std::string, uint64_t> seq_gaps(const std::vector<Message>& messages);

}  // namespace escd::test

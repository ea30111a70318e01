// esc-train fit data-parallel over c10d (Gloo), with real processes on the loopback: two ranks
// follow the same run as one process with the same global batch; a rank killed mid-run stops the
// other with an error naming it, and --resume finishes the run exactly as an uninterrupted one;
// ranks that cannot work together are refused at the start. A tiny Mamba on the 80 clips of two
// ESC-50 classes keeps each run to seconds. Skips without ESC-50.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <thread>

#include "child_process.h"
#include "models/common/checkpoint.h"
#include "test_support.h"
#include "tiny_training.h"

namespace escd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

constexpr int kEpochs = 4;

// A loopback socket bound to a port the kernel picks: a port for one test's group while it is
// closed, an occupied port while it is open.
class LoopbackPort {
 public:
  LoopbackPort() : fd_(socket(AF_INET, SOCK_STREAM, 0)) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(addr);
    if (fd_ < 0 || bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0 || listen(fd_, 1) != 0) {
      throw std::runtime_error("no loopback port");
    }
    port_ = ntohs(addr.sin_port);
  }
  ~LoopbackPort() { release(); }
  void release() {
    if (fd_ >= 0) close(fd_);
    fd_ = -1;
  }
  std::string number() const { return std::to_string(port_); }

 private:
  int fd_;
  uint16_t port_ = 0;
};

std::vector<nlohmann::json> read_metrics(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

double max_weight_difference(const std::string& a_path, const std::string& b_path) {
  const Checkpoint a = load_checkpoint(a_path), b = load_checkpoint(b_path);
  auto pa = a.model->named_parameters(), pb = b.model->named_parameters();
  EXPECT_EQ(pa.size(), pb.size());
  double worst = 0.0;
  for (const auto& p : pa) worst = std::max(worst, (p.value() - pb[p.key()]).abs().max().item<double>());
  return worst;
}

class DistributedFit : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_ESC50();
    test::make_two_class_dataset(dir_.path("esc50"));
    test::write_tiny_mamba_recipe(dir_.path("tiny.toml"), kEpochs);
  }
  std::vector<std::string> fit_args(const std::string& run, const std::vector<std::string>& extra) {
    std::vector<std::string> args{"fit", "--model", "mamba", "--data", dir_.path("esc50"), "--partial-data",
                                  "--config", dir_.path("tiny.toml"), "--out", run};
    args.insert(args.end(), extra.begin(), extra.end());
    return args;
  }
  // esc-train in one process, or with --nproc among `extra`.
  std::unique_ptr<test::ChildProcess> fit(const std::string& run, const std::vector<std::string>& extra = {}) {
    return std::make_unique<test::ChildProcess>(ESC_TRAIN_BIN, fit_args(run, extra), run + ".log");
  }
  // One rank, started by hand as on another machine: its environment names its place in the group.
  std::unique_ptr<test::ChildProcess> rank(int r, int world, const std::string& port, const std::string& run,
                                           const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"RANK=" + std::to_string(r), "WORLD_SIZE=" + std::to_string(world),
                                  "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port, ESC_TRAIN_BIN};
    for (const std::string& a : fit_args(run, extra)) args.push_back(a);
    return std::make_unique<test::ChildProcess>("/usr/bin/env", args, run + ".rank" + std::to_string(r) + ".log");
  }
  static std::string log(const std::string& path) {
    std::ifstream in(path);
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  test::TempDir dir_;
};

TEST_F(DistributedFit, TwoRanksFollowTheRunOfOneProcessWithTheSameGlobalBatch) {
  const std::string one = dir_.path("one"), two = dir_.path("two");
  ASSERT_EQ(fit(one)->wait(180s), 0) << log(one + ".log");
  ASSERT_EQ(fit(two, {"--nproc", "2"})->wait(180s), 0) << log(two + ".log");

  const auto a = read_metrics(one + "/metrics.jsonl"), b = read_metrics(two + "/metrics.jsonl");
  ASSERT_EQ(a.size(), static_cast<size_t>(kEpochs));
  ASSERT_EQ(b.size(), a.size()) << "rank 0 alone writes one line per epoch";
  double worst = 0.0;
  for (size_t e = 0; e < a.size(); ++e) {
    SCOPED_TRACE("epoch " + std::to_string(e));
    // Same batches, same augmentation, gradients averaged: only float summation order differs.
    const double la = a[e]["train_loss"].get<double>(), lb = b[e]["train_loss"].get<double>();
    EXPECT_NEAR(lb, la, 1e-6 * la);
    worst = std::max(worst, std::abs(lb - la) / la);
    // Logits differ in their last bits: a near-tie may flip one clip's argmax (1 of 48).
    EXPECT_NEAR(b[e]["train_accuracy"].get<double>(), a[e]["train_accuracy"].get<double>(), 1.0 / 48 + 1e-9);
    EXPECT_EQ(b[e]["ranks"], 2);
    // One bucket of gradients per step (48 training clips / 16 = 3 steps), then the epoch's totals.
    EXPECT_EQ(b[e]["allreduce_calls"].get<int>(), 3 + 1);
    EXPECT_GT(b[e]["allreduce_bytes"].get<int64_t>(), 4 * 4 * 1000);
    EXPECT_FALSE(a[e].contains("ranks"));
  }
  const double weights = max_weight_difference(one + "/last.ckpt", two + "/last.ckpt");
  std::printf("two ranks vs one process: losses within %.1e (relative), weights within %.1e\n", worst, weights);
  EXPECT_LT(weights, 1e-4);
  const auto summary = nlohmann::json::parse(std::ifstream(two + "/summary.json"));
  EXPECT_EQ(summary["ranks"], 2);
  EXPECT_EQ(summary["epochs"], kEpochs);
  // Each rank's log line says whose it is.
  const std::string text = log(two + ".log");
  EXPECT_NE(text.find("[rank 1] rank 1 of 2 joined"), std::string::npos) << text;

  // A resume of the finished run keeps it on every rank. One of other settings stops every rank at
  // once with rank 0's reason: ranks started by hand, as on other machines, so that no parent
  // process stops rank 1 for it, and a group timeout longer than the test waits.
  const std::string metrics_before = log(two + "/metrics.jsonl");  // its epoch times would change if trained again
  ASSERT_EQ(fit(two, {"--nproc", "2", "--resume"})->wait(120s), 0) << log(two + ".log");
  for (const char* rank : {"[rank 0] ", "[rank 1] "}) {
    EXPECT_NE(log(two + ".log").find(rank + two + ": the run already finished"), std::string::npos) << log(two + ".log");
  }
  EXPECT_EQ(log(two + "/metrics.jsonl"), metrics_before);
  auto changed = summary;
  changed["data_fingerprint"] = "0000000000000000";
  std::ofstream(two + "/summary.json") << changed.dump();
  LoopbackPort port;
  port.release();
  const std::vector<std::string> resume{"--resume", "--group-timeout", "600"};
  auto r0 = rank(0, 2, port.number(), two, resume), r1 = rank(1, 2, port.number(), two, resume);
  const int code = r1->wait(120s);
  ASSERT_NE(code, -1) << "rank 1 still running two minutes after rank 0 refused the run:\n" << log(two + ".rank1.log");
  EXPECT_NE(code, 0);
  EXPECT_NE(log(two + ".rank1.log").find("the finished run had another data_fingerprint"), std::string::npos)
      << log(two + ".rank1.log");
  EXPECT_NE(r0->wait(60s), 0) << log(two + ".rank0.log");
}

TEST_F(DistributedFit, AKilledRankStopsTheOtherNamingItAndResumeFinishesTheRunExactly) {
  const std::string straight = dir_.path("straight"), run = dir_.path("killed");
  ASSERT_EQ(fit(straight, {"--nproc", "2"})->wait(180s), 0) << log(straight + ".log");

  LoopbackPort port;
  port.release();
  auto r0 = rank(0, 2, port.number(), run), r1 = rank(1, 2, port.number(), run);
  // Mid-run: once rank 0 has recorded the first epoch.
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (read_metrics(run + "/metrics.jsonl").empty() && std::chrono::steady_clock::now() < deadline) {
    ASSERT_TRUE(r0->running()) << log(run + ".rank0.log");
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(read_metrics(run + "/metrics.jsonl").empty()) << log(run + ".rank0.log");
  r1->signal(SIGKILL);
  ASSERT_EQ(r1->wait(10s), 128 + SIGKILL);
  const int code = r0->wait(60s);
  ASSERT_NE(code, -1) << "rank 0 still running a minute after rank 1 died:\n" << log(run + ".rank0.log");
  EXPECT_NE(code, 0);
  const std::string rank0_log = log(run + ".rank0.log");
  EXPECT_NE(rank0_log.find("rank 1 stopped answering"), std::string::npos) << rank0_log;
  EXPECT_NE(rank0_log.find("--resume"), std::string::npos) << rank0_log;

  ASSERT_EQ(fit(run, {"--nproc", "2", "--resume"})->wait(180s), 0) << log(run + ".log");
  EXPECT_NE(log(run + ".log").find("resuming"), std::string::npos);
  EXPECT_EQ(max_weight_difference(straight + "/last.ckpt", run + "/last.ckpt"), 0.0);
  const auto a = read_metrics(straight + "/metrics.jsonl"), b = read_metrics(run + "/metrics.jsonl");
  ASSERT_EQ(b.size(), a.size());
  for (size_t e = 0; e < a.size(); ++e) EXPECT_EQ(b[e]["train_loss"], a[e]["train_loss"]) << "epoch " << e;
  EXPECT_TRUE(fs::exists(run + "/final.json"));
}

TEST_F(DistributedFit, RankZeroKilledStopsTheOthersNamingIt) {
  const std::string run = dir_.path("leader-killed");
  LoopbackPort port;
  port.release();
  auto r0 = rank(0, 2, port.number(), run), r1 = rank(1, 2, port.number(), run);
  const auto deadline = std::chrono::steady_clock::now() + 120s;
  while (read_metrics(run + "/metrics.jsonl").empty() && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(20ms);
  }
  ASSERT_FALSE(read_metrics(run + "/metrics.jsonl").empty()) << log(run + ".rank0.log");
  r0->signal(SIGKILL);
  const int code = r1->wait(60s);
  ASSERT_NE(code, -1) << "rank 1 still running a minute after rank 0 died:\n" << log(run + ".rank1.log");
  EXPECT_NE(code, 0);
  const std::string text = log(run + ".rank1.log");
  EXPECT_NE(text.find("rank 0 (which hosts the group's store) stopped"), std::string::npos) << text;
}

TEST_F(DistributedFit, RanksThatCannotWorkTogetherAreRefusedAtTheStart) {
  // The port of the group's store is taken.
  {
    LoopbackPort taken;
    const std::string run = dir_.path("port");
    auto r0 = rank(0, 2, taken.number(), run);
    EXPECT_EQ(r0->wait(60s), 1);
    EXPECT_NE(log(run + ".rank0.log").find("the port is in use"), std::string::npos) << log(run + ".rank0.log");
  }
  // Another group size, another recipe: both ranks stop, each saying which setting differs.
  const std::pair<std::pair<int, std::vector<std::string>>, std::string> mismatches[] = {
      {{3, {}}, "another WORLD_SIZE (rank 0: 2; rank 1: 3)"},
      {{2, {"--set", "lr=1e-3"}}, "another recipe"},
  };
  int n = 0;
  for (const auto& [rank1, message] : mismatches) {
    const std::string run = dir_.path("mismatch" + std::to_string(n++));
    LoopbackPort port;
    port.release();
    auto r0 = rank(0, 2, port.number(), run), r1 = rank(1, rank1.first, port.number(), run, rank1.second);
    EXPECT_EQ(r0->wait(60s), 1) << message;
    EXPECT_EQ(r1->wait(60s), 1) << message;
    const std::string text = log(run + ".rank0.log") + log(run + ".rank1.log");
    EXPECT_NE(text.find(message), std::string::npos) << text;
    EXPECT_FALSE(fs::exists(run + "/metrics.jsonl")) << "trained despite " << message;
  }
  // A rank that never comes: rank 0 waits --group-timeout seconds, then says so.
  {
    const std::string run = dir_.path("alone");
    LoopbackPort port;
    port.release();
    auto r0 = rank(0, 2, port.number(), run, {"--group-timeout", "3"});
    EXPECT_EQ(r0->wait(60s), 1);
    EXPECT_NE(log(run + ".rank0.log").find("did not assemble within 3 s"), std::string::npos) << log(run + ".rank0.log");
  }
  // A rank outside the group, and a batch the ranks cannot share evenly.
  {
    const std::string run = dir_.path("outside");
    auto r = rank(2, 2, "29999", run);
    EXPECT_EQ(r->wait(30s), 1);
    EXPECT_NE(log(run + ".rank2.log").find("RANK=2 is not below WORLD_SIZE=2"), std::string::npos);
  }
  {
    const std::string run = dir_.path("uneven");
    EXPECT_EQ(fit(run, {"--nproc", "3"})->wait(120s), 1);
    EXPECT_NE(log(run + ".log").find("batch_size must be a multiple of the number of ranks"), std::string::npos)
        << log(run + ".log");
    EXPECT_NE(log(run + ".log").find("rank 0 (pid"), std::string::npos) << "the launcher names the failed ranks";
  }
}

}  // namespace
}  // namespace escd

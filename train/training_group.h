// The processes ("ranks") that train one model together, data-parallel, on PyTorch's c10d: they meet
// through a TCPStore hosted by rank 0 and all-reduce over Gloo. A group of one (a plain esc-train
// fit) has the same interface and does no communication, so the trainer has one code path.
//
// Every collective that fails (a rank died, the network broke, a rank hung past the timeout) throws
// RankLost, whose message names the rank(s) that stopped answering; see docs/DISTRIBUTED.md.
#pragma once

#include <ATen/core/Tensor.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace escd::train {

// Where this process stands in a group, as torchrun describes it in the environment.
struct RankPlacement {
  int rank = 0;
  int world_size = 1;
  int local_rank = 0;
  std::string master_addr = "127.0.0.1";
  uint16_t master_port = 29500;

  // From MASTER_ADDR, MASTER_PORT, RANK, WORLD_SIZE and LOCAL_RANK; nullopt when none of RANK and
  // WORLD_SIZE is set (a single process). Throws std::invalid_argument naming a malformed variable.
  static std::optional<RankPlacement> from_environment();
};

class RankLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// What a training step's gradient all-reduces cost, summed since the last take_traffic().
struct AllReduceTraffic {
  int64_t calls = 0;
  int64_t bytes = 0;  // payload per rank (the gradients' size), not counting the ring's copies
  double seconds = 0.0;
};

class TrainingGroup {
 public:
  // A group of one: every collective is the identity.
  TrainingGroup();
  // Joins the group described by `placement`: rank 0 hosts the store, every rank waits up to
  // `timeout` for the others, and every collective later fails after `timeout` without progress.
  // Throws std::runtime_error with a clear message when the port is in use or a rank is missing.
  TrainingGroup(const RankPlacement& placement, std::chrono::milliseconds timeout);
  ~TrainingGroup();
  TrainingGroup(const TrainingGroup&) = delete;
  TrainingGroup& operator=(const TrainingGroup&) = delete;

  int rank() const { return rank_; }
  int world_size() const { return world_size_; }
  // Rank 0: the one that validates and writes the run directory.
  bool leader() const { return rank_ == 0; }

  // Refuses to train unless every rank was started with the same `settings` (code, recipe, data):
  // throws std::runtime_error naming the first rank and key that differ. The group size itself is
  // checked on joining.
  void check_same_settings(const nlohmann::json& settings);
  // Rank 0's bytes, on every rank (through the store): e.g. the resume state only rank 0 can read.
  std::string share_from_leader(const std::string& name, const std::string& bytes);
  // Overwrites every rank's tensors with rank 0's.
  void broadcast_from_leader(const std::vector<at::Tensor>& tensors);
  // Replaces each gradient by its mean over the ranks, in flat buckets of up to `bucket_bytes`.
  void average_gradients(const std::vector<at::Tensor>& parameters, int64_t bucket_bytes = 25 << 20);
  // Sums of `values` over the ranks (float64).
  std::vector<double> sum(const std::vector<double>& values);
  // Waits until every rank is here.
  void barrier();

  AllReduceTraffic take_traffic();

 private:
  void assemble(const std::string& where, std::chrono::milliseconds timeout);
  void all_reduce(at::Tensor& flat, const char* what);
  [[noreturn]] void report_lost_ranks(const char* what, const std::exception& cause);

  int rank_ = 0, world_size_ = 1;
  std::chrono::milliseconds timeout_{0};
  int64_t exchanges_ = 0;  // store exchanges so far, the same sequence on every rank
  struct Connection;                       // the store and the Gloo process group (c10d)
  std::unique_ptr<Connection> connection_;  // null in a group of one
  AllReduceTraffic traffic_;
};

}  // namespace escd::train

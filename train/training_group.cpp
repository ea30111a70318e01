#include "training_group.h"

#include <ATen/Functions.h>
#include <spdlog/spdlog.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>

#include <algorithm>
#include <cstdlib>

#include "settings_difference.h"

namespace escd::train {
namespace {

using Clock = std::chrono::steady_clock;

// How long rank 0 waits for the survivors of a failed collective to answer before naming the
// ranks that did not: every survivor notices within a training step of the failure.
constexpr std::chrono::milliseconds kRollCallWait{10000};
// How long rank 0, the store's host, stays for the survivors to read its verdict.
constexpr std::chrono::milliseconds kVerdictReadWait{5000};

int integer_variable(const char* name, int fallback, int min, int max) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') return fallback;
  char* end = nullptr;
  const long value = std::strtol(text, &end, 10);
  if (*end != '\0' || value < min || value > max) {
    throw std::invalid_argument(std::string(name) + "=" + text + ": expected an integer in " + std::to_string(min) +
                                ".." + std::to_string(max));
  }
  return static_cast<int>(value);
}

std::string bytes_text(const std::vector<uint8_t>& bytes) { return std::string(bytes.begin(), bytes.end()); }
std::vector<uint8_t> text_bytes(const std::string& text) { return std::vector<uint8_t>(text.begin(), text.end()); }

bool is_loopback(const std::string& address) {
  return address == "localhost" || address.rfind("127.", 0) == 0 || address == "::1";
}

// The network interface Gloo binds to: GLOO_SOCKET_IFNAME (as in PyTorch), the loopback when the
// whole group is on this machine, otherwise the address this host name resolves to.
std::shared_ptr<::gloo::transport::Device> gloo_device(const std::string& master_addr) {
  if (const char* interface = std::getenv("GLOO_SOCKET_IFNAME"); interface != nullptr && *interface != '\0') {
    return c10d::ProcessGroupGloo::createDeviceForInterface(interface);
  }
  if (is_loopback(master_addr)) return c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1");
  return c10d::ProcessGroupGloo::createDefaultDevice();
}

std::string short_reason(const std::exception& e) {
  std::string text = e.what();
  const size_t newline = text.find('\n');
  if (newline != std::string::npos) text.resize(newline);
  return text.substr(0, 240);
}

}  // namespace

std::optional<RankPlacement> RankPlacement::from_environment() {
  if (std::getenv("RANK") == nullptr && std::getenv("WORLD_SIZE") == nullptr) return std::nullopt;
  RankPlacement p;
  p.world_size = integer_variable("WORLD_SIZE", 1, 1, 1 << 16);
  p.rank = integer_variable("RANK", 0, 0, 1 << 16);
  p.local_rank = integer_variable("LOCAL_RANK", p.rank, 0, 1 << 16);
  p.master_port = static_cast<uint16_t>(integer_variable("MASTER_PORT", 29500, 1, 65535));
  if (const char* addr = std::getenv("MASTER_ADDR"); addr != nullptr && *addr != '\0') p.master_addr = addr;
  if (p.rank >= p.world_size) {
    throw std::invalid_argument("RANK=" + std::to_string(p.rank) + " is not below WORLD_SIZE=" +
                                std::to_string(p.world_size) + " (ranks are numbered from 0)");
  }
  return p;
}

struct TrainingGroup::Connection {
  c10::intrusive_ptr<c10d::Store> store;
  c10::intrusive_ptr<c10d::ProcessGroupGloo> gloo;
};

TrainingGroup::TrainingGroup() = default;
TrainingGroup::~TrainingGroup() = default;

TrainingGroup::TrainingGroup(const RankPlacement& placement, std::chrono::milliseconds timeout)
    : rank_(placement.rank),
      world_size_(placement.world_size),
      timeout_(timeout),
      connection_(std::make_unique<Connection>()) {
  const std::string where = placement.master_addr + ":" + std::to_string(placement.master_port);
  c10d::TCPStoreOptions options;
  options.port = placement.master_port;
  options.isServer = placement.rank == 0;
  options.waitWorkers = false;  // its wait gives up silently after the timeout: assemble() waits instead
  options.timeout = timeout;
  try {
    connection_->store = c10::make_intrusive<c10d::TCPStore>(placement.master_addr, options);
  } catch (const std::exception& e) {
    const std::string reason = short_reason(e);
    if (placement.rank == 0 && (reason.find("in use") != std::string::npos || reason.find("listen") != std::string::npos)) {
      throw std::runtime_error("rank 0 cannot host the group at " + where + ": the port is in use (another run?); "
                               "choose another MASTER_PORT (" + reason + ")");
    }
    throw std::runtime_error("rank " + std::to_string(rank_) + ": cannot reach rank 0's store at " + where +
                             " within " + std::to_string(timeout.count() / 1000) + " s (" + reason + ")");
  }
  // Two processes started as the same rank would corrupt every all-reduce: the second is refused.
  if (connection_->store->add("rank-taken/" + std::to_string(rank_), 1) > 1) {
    throw std::runtime_error("rank " + std::to_string(rank_) + " was started twice in the group at " + where +
                             " (check RANK)");
  }
  assemble(where, timeout);
  auto gloo_options = c10d::ProcessGroupGloo::Options::create(timeout);
  gloo_options->devices.push_back(gloo_device(placement.master_addr));
  gloo_options->threads = 1;
  try {
    connection_->gloo = c10::make_intrusive<c10d::ProcessGroupGloo>(
        c10::make_intrusive<c10d::PrefixStore>("gloo", connection_->store), rank_, world_size_, gloo_options);
  } catch (const std::exception& e) {
    throw std::runtime_error("rank " + std::to_string(rank_) + ": the Gloo connections between the ranks failed (" +
                             short_reason(e) + "); set GLOO_SOCKET_IFNAME to the interface the machines share");
  }
  spdlog::info("rank {} of {} joined the group at {}", rank_, world_size_, where);
}

// Every rank checks in with its WORLD_SIZE. Rank 0 waits for all the others, the others for rank 0,
// each comparing group sizes, before Gloo connects (a rank expecting another size would wait for
// ranks that never come).
void TrainingGroup::assemble(const std::string& where, std::chrono::milliseconds timeout) {
  c10d::Store& store = *connection_->store;
  const auto key = [](int r) { return "joined/" + std::to_string(r); };
  store.set(key(rank_), text_bytes(std::to_string(world_size_)));
  std::vector<int> awaited;
  for (int r = 0; r < world_size_; ++r) {
    if (r != rank_ && (leader() || r == 0)) awaited.push_back(r);
  }
  const auto deadline = Clock::now() + timeout;
  std::string missing;
  for (int r : awaited) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    try {
      store.wait({key(r)}, std::max(left, std::chrono::milliseconds(1)));
    } catch (const std::exception&) {
      missing += (missing.empty() ? "" : ", ") + std::to_string(r);
    }
  }
  if (!missing.empty()) {
    throw std::runtime_error("rank " + std::to_string(rank_) + ": the group of " + std::to_string(world_size_) +
                             " at " + where + " did not assemble within " + std::to_string(timeout.count() / 1000) +
                             " s: rank " + missing + " did not join (is every rank started, with the same "
                             "MASTER_ADDR, MASTER_PORT and WORLD_SIZE?)");
  }
  for (int r : awaited) {
    const std::string theirs = bytes_text(store.get(key(r)));
    if (theirs != std::to_string(world_size_)) {
      throw std::runtime_error("rank " + std::to_string(rank_) + " and rank " + std::to_string(r) +
                               " were started with another WORLD_SIZE (rank " + std::to_string(rank_) + ": " +
                               std::to_string(world_size_) + "; rank " + std::to_string(r) + ": " + theirs + ")");
    }
  }
}

void TrainingGroup::check_same_settings(const nlohmann::json& settings) {
  if (!connection_) return;
  c10d::Store& store = *connection_->store;
  // Each check has keys of its own: every rank makes the same checks in the same order.
  const std::string prefix = "settings/" + std::to_string(exchanges_++) + "/";
  store.set(prefix + std::to_string(rank_), text_bytes(settings.dump()));
  // Every rank compares itself with rank 0 (so a rank with another WORLD_SIZE is caught by itself);
  // rank 0 also names each rank that differs.
  auto settings_of = [&](int other) {
    std::string text;
    try {
      text = bytes_text(store.get(prefix + std::to_string(other)));
    } catch (const std::exception& e) {
      report_lost_ranks("the start-up check of the ranks' settings", e);
    }
    try {
      return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception& e) {
      throw std::runtime_error("rank " + std::to_string(other) + "'s settings are unreadable: " + e.what());
    }
  };
  auto compare = [&](int other, const nlohmann::json& theirs) {
    const auto difference = difference_from_record(theirs, settings);
    if (!difference) return;
    throw std::runtime_error("rank " + std::to_string(rank_) + " and rank " + std::to_string(other) +
                             " were started with another " + difference->name + " (rank " + std::to_string(rank_) +
                             ": " + difference->now + "; rank " + std::to_string(other) + ": " + difference->was +
                             "): every rank needs the same esc-train, recipe and data");
  };
  if (rank_ != 0) {
    compare(0, settings_of(0));
    return;
  }
  for (int r = 1; r < world_size_; ++r) compare(r, settings_of(r));
}

std::string TrainingGroup::share_from_leader(const std::string& name, const std::string& bytes) {
  if (!connection_) return bytes;
  const std::string key = "shared/" + std::to_string(exchanges_++) + "/" + name;
  if (leader()) {
    connection_->store->set(key, text_bytes(bytes));
    return bytes;
  }
  try {
    return bytes_text(connection_->store->get(key));
  } catch (const std::exception& e) {
    report_lost_ranks(("the transfer of rank 0's " + name).c_str(), e);
  }
}

void TrainingGroup::broadcast_from_leader(const std::vector<at::Tensor>& tensors) {
  if (!connection_) return;
  for (const at::Tensor& t : tensors) {
    std::vector<at::Tensor> one{t.is_contiguous() ? t : t.contiguous()};
    try {
      connection_->gloo->broadcast(one)->wait();
    } catch (const std::exception& e) {
      report_lost_ranks("the broadcast of rank 0's weights", e);
    }
    if (!t.is_contiguous()) t.copy_(one[0]);
  }
}

void TrainingGroup::all_reduce(at::Tensor& flat, const char* what) {
  std::vector<at::Tensor> one{flat};
  const auto t0 = Clock::now();
  try {
    connection_->gloo->allreduce(one)->wait();
  } catch (const std::exception& e) {
    report_lost_ranks(what, e);
  }
  traffic_.calls += 1;
  traffic_.bytes += flat.numel() * static_cast<int64_t>(flat.element_size());
  traffic_.seconds += std::chrono::duration<double>(Clock::now() - t0).count();
}

void TrainingGroup::average_gradients(const std::vector<at::Tensor>& parameters, int64_t bucket_bytes) {
  if (!connection_) return;
  std::vector<at::Tensor> grads;
  for (const at::Tensor& p : parameters) {
    if (!p.requires_grad()) continue;
    // A parameter this rank's batch did not reach still takes part, as zeros, so that every rank
    // reduces the same buckets.
    if (!p.grad().defined()) p.mutable_grad() = at::zeros_like(p);
    grads.push_back(p.grad());
  }
  const double scale = 1.0 / world_size_;
  size_t begin = 0;
  while (begin < grads.size()) {
    size_t end = begin;
    int64_t bytes = 0;
    std::vector<at::Tensor> flat_parts;
    while (end < grads.size() && (end == begin || bytes + grads[end].nbytes() <= static_cast<size_t>(bucket_bytes))) {
      bytes += static_cast<int64_t>(grads[end].nbytes());
      flat_parts.push_back(grads[end].reshape({-1}));
      ++end;
    }
    at::Tensor bucket = at::cat(flat_parts);
    all_reduce(bucket, "the gradient all-reduce");
    bucket.mul_(scale);
    int64_t offset = 0;
    for (size_t i = begin; i < end; ++i) {
      const int64_t n = grads[i].numel();
      grads[i].copy_(bucket.narrow(0, offset, n).view_as(grads[i]));
      offset += n;
    }
    begin = end;
  }
}

std::vector<double> TrainingGroup::sum(const std::vector<double>& values) {
  if (!connection_ || values.empty()) return values;
  at::Tensor t = at::tensor(values, at::kDouble);
  all_reduce(t, "the epoch totals' all-reduce");
  return std::vector<double>(t.data_ptr<double>(), t.data_ptr<double>() + t.numel());
}

void TrainingGroup::barrier() {
  if (!connection_) return;
  try {
    connection_->gloo->barrier()->wait();
  } catch (const std::exception& e) {
    report_lost_ranks("the wait for rank 0's validation", e);
  }
}

AllReduceTraffic TrainingGroup::take_traffic() {
  AllReduceTraffic taken = traffic_;
  traffic_ = {};
  return taken;
}

// A collective failed: the survivors answer a roll call in the store (hosted by rank 0), rank 0
// names the ranks that did not answer and every survivor reports its verdict. If the store itself is
// gone, rank 0 is the one that stopped.
void TrainingGroup::report_lost_ranks(const char* what, const std::exception& cause) {
  const std::string reason = short_reason(cause);
  const std::string me = "rank " + std::to_string(rank_);
  const std::string advice = "; the run stops here: start every rank again with --resume";
  std::string missing;
  try {
    c10d::Store& store = *connection_->store;
    const auto answered = [](int r) { return "lost/" + std::to_string(r); };
    store.set(answered(rank_), text_bytes("1"));
    if (leader()) {
      const auto deadline = Clock::now() + kRollCallWait;
      std::vector<int> present;
      for (int r = 1; r < world_size_; ++r) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
        try {
          store.wait({answered(r)}, std::max(left, std::chrono::milliseconds(1)));
          present.push_back(r);
        } catch (const std::exception&) {
          missing += (missing.empty() ? "" : ", ") + std::to_string(r);
        }
      }
      store.set("lost/verdict", text_bytes(missing));
      for (int r : present) {
        try {
          store.wait({"lost/read/" + std::to_string(r)}, kVerdictReadWait);
        } catch (const std::exception&) {
        }
      }
    } else {
      // Rank 0 may be busy (validating) for up to the group timeout before it notices.
      store.wait({"lost/verdict"}, timeout_ + kRollCallWait);
      missing = bytes_text(store.get("lost/verdict"));
      store.set("lost/read/" + std::to_string(rank_), text_bytes("1"));
    }
  } catch (const std::exception&) {
    throw RankLost(me + ": rank 0 (which hosts the group's store) stopped during " + what + " (" + reason + ")" +
                   advice);
  }
  if (missing.empty()) throw RankLost(me + ": " + what + " failed on every rank (" + reason + ")" + advice);
  throw RankLost(me + ": rank " + missing + " stopped answering during " + what + " (" + reason + ")" + advice);
}

}  // namespace escd::train

// How many messages one esc-proxy forwards on this machine, and so how many escd it can serve.
//
//   bench_proxy [--connections 1,16,64,256] [--rates 20000,50000,100000,200000] [--seconds 3] [--out FILE]
//
// The proxy (daemon/message_proxy.h, as esc-proxy runs it) binds loopback TCP. N PUB connections
// stand in for N escd and send escd's message mix (per escd and model at the default 500 ms hop:
// esc.scores 2/s, esc.level 2/s, esc.health 1/s, so 5 messages/s), paced to a total offered rate;
// one subscriber counts what arrives. For each N, the highest rate delivered at >= 99% is what the
// proxy sustains, and that rate / 5 is how many escd it serves. Senders, proxy and subscriber share
// this machine's cores, so the figures are a floor for a proxy with a machine of its own. Prints one
// JSON object (also written to --out).
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>
#include <string>
#include <thread>
#include <vector>
#include <zmq.hpp>

#include "message_proxy.h"

namespace {

using Clock = std::chrono::steady_clock;

// escd's messages at their usual sizes (a top-5 scores message, a level, a health report).
std::vector<std::pair<std::string, std::string>> escd_mix(const std::string& source) {
  nlohmann::json scores = {{"model", "mamba"}, {"warming_up", false}, {"background", false},
                           {"window", {{"start", 120.0}, {"end", 125.0}}}, {"seq", 1000}, {"t", 125.0},
                           {"wall", 1.8e9}, {"source", source}};
  for (const char* label : {"dog", "rain", "door_wood_knock", "clock_tick", "footsteps"}) {
    scores["top"].push_back({{"label", label}, {"p", 0.2}, {"index", 3}});
  }
  const nlohmann::json level = {{"rms", 0.01}, {"dbfs", -40.0}, {"peak", 0.1}, {"seq", 1000}, {"t", 125.0},
                                {"wall", 1.8e9}, {"source", source}};
  nlohmann::json health = {{"seq", 500}, {"t", 125.0}, {"wall", 1.8e9}, {"source", source}, {"cpu_percent", 3.2}};
  health["input"] = {{"device", "USB microphone"}, {"connected", true}, {"frames", 6000000}, {"device_overflows", 0},
                     {"ring_overflows", 0}, {"reconnects", 0}, {"rate", 44100}, {"channels", 2}};
  health["models"]["mamba"] = {{"frames", 3906}, {"step_ms_p50", 0.35}, {"step_ms_p99", 0.9}, {"windows", 250}};
  health["publisher"] = {{"sent", 12000}, {"send_failures", 0}, {"curve", true}};
  return {{"esc.scores.mamba." + source, scores.dump()}, {"esc.level." + source, level.dump()},
          {"esc.scores.mamba." + source, scores.dump()}, {"esc.level." + source, level.dump()},
          {"esc.health." + source, health.dump()}};
}

struct Point {
  int connections = 0;
  double offered_per_s = 0, seconds = 0;
  uint64_t sent = 0, received = 0, bytes = 0;  // received: within the window
  uint64_t received_late = 0;                    // still on its way when the window closed
};

// `connections` escd-like PUB sockets, spread over two sender threads, offer `offered_per_s`
// messages per second in total for `seconds`; one subscriber counts what comes through.
Point measure(int connections, double offered_per_s, double seconds) {
  escd::daemon::ProxyOptions options;
  options.publishers = "tcp://127.0.0.1:*";
  options.subscribers = "tcp://127.0.0.1:*";
  options.name = "bench";
  escd::daemon::MessageProxy proxy(options);

  zmq::context_t context(1);
  zmq::socket_t sub(context, zmq::socket_type::sub);
  sub.set(zmq::sockopt::subscribe, "esc.scores.");
  sub.set(zmq::sockopt::subscribe, "esc.level.");
  sub.set(zmq::sockopt::subscribe, "esc.health.");
  sub.set(zmq::sockopt::rcvhwm, 100000);
  sub.set(zmq::sockopt::rcvtimeo, 100);
  sub.connect(proxy.subscribers_endpoint());

  const int threads_n = std::min(connections, 2);
  std::atomic<bool> go{false}, stop{false};
  std::atomic<uint64_t> sent{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_n; ++t) {
    threads.emplace_back([&, t] {
      std::vector<zmq::socket_t> sockets;
      std::vector<std::vector<std::pair<std::string, std::string>>> mixes;
      for (int c = t; c < connections; c += threads_n) {
        sockets.emplace_back(context, zmq::socket_type::pub);
        sockets.back().set(zmq::sockopt::linger, 0);
        sockets.back().connect(proxy.publishers_endpoint());
        mixes.push_back(escd_mix("mic" + std::to_string(c)));
      }
      while (!go.load()) std::this_thread::sleep_for(std::chrono::milliseconds(5));
      const double rate = offered_per_s / threads_n;
      const auto begin = Clock::now();
      uint64_t n = 0;
      while (!stop.load()) {
        // Paced: send what is due by now, round robin over this thread's connections.
        const auto due = static_cast<uint64_t>(rate * std::chrono::duration<double>(Clock::now() - begin).count());
        for (; n < due; ++n) {
          const size_t c = n % sockets.size();
          const auto& [topic, payload] = mixes[c][(n / sockets.size()) % mixes[c].size()];
          // A PUB socket never refuses: past its high-water mark it drops, which shows as missing.
          sockets[c].send(zmq::buffer(topic), zmq::send_flags::sndmore | zmq::send_flags::dontwait);
          sockets[c].send(zmq::buffer(payload), zmq::send_flags::dontwait);
        }
        std::this_thread::sleep_for(std::chrono::microseconds(500));
      }
      sent += n;
    });
  }
  // Subscriptions travel from the subscriber through the proxy to every publisher first.
  std::this_thread::sleep_for(std::chrono::milliseconds(1000 + 10 * connections));
  Point point{connections, offered_per_s, seconds};
  const auto count = [&](Clock::time_point until, uint64_t& received, uint64_t& bytes) {
    for (zmq::message_t frame; Clock::now() < until;) {
      if (!sub.recv(frame) || !frame.more() || !sub.recv(frame)) continue;
      ++received;
      bytes += frame.size();
    }
  };
  go = true;
  const auto start = Clock::now();
  count(start + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(seconds)), point.received, point.bytes);
  point.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  stop = true;
  for (auto& t : threads) t.join();
  uint64_t late_bytes = 0;
  count(Clock::now() + std::chrono::milliseconds(500), point.received_late, late_bytes);
  point.sent = sent.load();
  return point;
}

std::vector<double> parse_list(const char* text) {
  std::vector<double> out;
  std::stringstream list(text);
  for (std::string item; std::getline(list, item, ',');) out.push_back(std::stod(item));
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<double> connections{1, 16, 64, 256}, rates{20000, 50000, 100000, 200000};
  double seconds = 3.0;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    if (arg == "--connections" && i + 1 < argc) {
      connections = parse_list(argv[++i]);
    } else if (arg == "--rates" && i + 1 < argc) {
      rates = parse_list(argv[++i]);
    } else if (arg == "--seconds" && i + 1 < argc) {
      seconds = std::stod(argv[++i]);
    } else if (arg == "--out" && i + 1 < argc) {
      out = argv[++i];
    } else {
      std::fprintf(stderr, "usage: bench_proxy [--connections 1,16,64,256] [--rates 20000,50000,100000,200000] "
                           "[--seconds 3] [--out FILE]\n");
      return 2;
    }
  }
  spdlog::set_level(spdlog::level::warn);
  constexpr double kMessagesPerEscd = 5.0;  // one model at the default hop: scores 2/s, level 2/s, health 1/s
  nlohmann::json result = {{"messages_per_escd_per_s", kMessagesPerEscd},
                           {"machine", "publishers (2 threads), proxy and subscriber on this machine's " +
                                           std::to_string(std::thread::hardware_concurrency()) + " cores"}};
  for (const double n : connections) {
    double best = 0;  // the highest offered rate delivered at least 99%
    for (const double rate : rates) {
      const Point p = measure(static_cast<int>(n), rate, seconds);
      const double delivered = p.sent > 0 ? static_cast<double>(p.received + p.received_late) / p.sent : 0.0;
      if (delivered >= 0.99) best = std::max(best, p.received / p.seconds);
      result["points"].push_back({{"connections", p.connections},
                                  {"offered_per_s", rate},
                                  {"received_per_s", p.received / p.seconds},
                                  {"delivered", delivered},
                                  {"mbytes_per_s", p.bytes / p.seconds / 1e6}});
      std::fprintf(stderr, "%4d connections, %6.0f/s offered: %6.0f/s received (%.1f%% delivered, %.1f MB/s)\n",
                   p.connections, rate, p.received / p.seconds, 100.0 * delivered, p.bytes / p.seconds / 1e6);
    }
    result["sustained"].push_back({{"connections", static_cast<int>(n)},
                                   {"messages_per_s", best},
                                   {"escd_sources", static_cast<int64_t>(best / kMessagesPerEscd)}});
  }
  const std::string text = result.dump(2);
  std::printf("%s\n", text.c_str());
  if (!out.empty()) {
    const std::string tmp = out + ".tmp";
    std::ofstream(tmp) << text << "\n";
    std::rename(tmp.c_str(), out.c_str());
  }
  return 0;
}

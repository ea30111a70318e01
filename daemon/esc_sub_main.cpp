// esc-sub: subscribes to escd and prints what it publishes: a readable live view, or JSON lines.
#include <CLI/CLI.hpp>
#include <algorithm>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <zmq.hpp>

#include "escd_subscription.h"
#include "topic.h"

namespace {

volatile std::sig_atomic_t g_stop = 0;
void on_signal(int) { g_stop = 1; }

std::string top_line(const nlohmann::json& m) {
  std::string out;
  for (const auto& entry : m.value("top", nlohmann::json::array())) {
    char buf[96];
    std::snprintf(buf, sizeof(buf), "%s %.0f%%  ", entry.value("label", "?").c_str(), 100.0 * entry.value("p", 0.0));
    out += buf;
  }
  return out;
}

// One line per message; with messages from several sources (through an esc-proxy), each line starts
// with its source's name.
void print_readable(const std::string& name, const nlohmann::json& m, bool show_source) {
  const std::string topic = escd::daemon::stream_of(name);
  const double t = m.value("t", 0.0);
  if (show_source) std::printf("%-12s ", m.value("source", "?").c_str());
  if (topic.rfind("esc.scores.", 0) == 0) {
    const char* state = m.value("warming_up", false) ? "(warming up) " : m.value("background", false) ? "(nothing) " : "";
    std::printf("%8.2fs %-10s %s%s\n", t, m.value("model", "").c_str(), state, top_line(m).c_str());
  } else if (topic.rfind("esc.event.", 0) == 0) {
    std::string file;  // where escd keeps the event's audio ([recordings])
    if (const auto r = m.find("recording"); r != m.end() && r->is_object()) {
      if (const auto f = r->find("file"); f != r->end() && f->is_string()) file = f->get<std::string>();
    }
    std::printf("%8.2fs %-10s EVENT %-5s %s (%.0f%%)%s%s\n", t, m.value("model", "").c_str(), m.value("type", "").c_str(),
                m.value("label", "").c_str(), 100.0 * m.value("score", 0.0), file.empty() ? "" : " -> ", file.c_str());
  } else if (topic.rfind("esc.recording.", 0) == 0) {
    if (m.value("written", false)) {
      std::printf("%8.2fs %-10s RECORDING %s (%.1f s)\n", t, m.value("model", "").c_str(), m.value("file", "").c_str(),
                  m.value("seconds", 0.0));
    } else {
      std::printf("%8.2fs %-10s RECORDING FAILED %s: %s\n", t, m.value("model", "").c_str(), m.value("file", "").c_str(),
                  m.value("error", "").c_str());
    }
  } else if (topic == "esc.level") {
    std::printf("%8.2fs level %6.1f dBFS\n", t, m.value("dbfs", -120.0));
  } else if (topic == "esc.health") {
    const auto& in = m.value("input", nlohmann::json::object());
    std::printf("%8.2fs health: %s %s, overflows %llu/%llu, reconnects %llu, cpu %.1f%%\n", t,
                in.value("device", "").c_str(), in.value("connected", true) ? "connected" : "DISCONNECTED",
                static_cast<unsigned long long>(in.value("device_overflows", 0ULL)),
                static_cast<unsigned long long>(in.value("ring_overflows", 0ULL)),
                static_cast<unsigned long long>(in.value("reconnects", 0ULL)), m.value("cpu_percent", 0.0));
  } else {
    std::printf("%s %s\n", name.c_str(), m.dump().c_str());
  }
  std::fflush(stdout);
}

// escd numbers every topic's messages without gaps; a gap is what this subscriber lost (ZeroMQ
// drops silently for a subscriber that falls past escd's send high-water mark). Reported on stderr
// so that --json output stays clean.
class GapCounter {
 public:
  void see(const std::string& topic, const nlohmann::json& m) {
    if (!m.contains("seq") || !m["seq"].is_number_unsigned()) return;
    const uint64_t seq = m["seq"].get<uint64_t>();
    const auto it = next_.find(topic);
    if (it != next_.end() && seq > it->second) {
      missed_ += seq - it->second;
      std::fprintf(stderr, "esc-sub: %s: missed %llu message(s) (seq %llu to %llu)\n", topic.c_str(),
                   static_cast<unsigned long long>(seq - it->second), static_cast<unsigned long long>(it->second),
                   static_cast<unsigned long long>(seq - 1));
    }
    // seq going back means escd restarted: count from there.
    next_[topic] = seq + 1;
  }
  uint64_t missed() const { return missed_; }

 private:
  std::map<std::string, uint64_t> next_;
  uint64_t missed_ = 0;
};

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esc-sub: print what escd publishes"};
  std::string endpoint = "tcp://127.0.0.1:5556";
  std::vector<std::string> topics;
  bool json = false;
  int count = 0;
  double timeout_s = 0;
  std::string server_key, client_key;
  app.add_option("--connect", endpoint, "escd's endpoint")->capture_default_str();
  std::vector<std::string> sources;
  app.add_option("--topic", topics, "Topic prefix(es) to subscribe to (default: all)");
  app.add_option("--source", sources, "Only these sources (escd --source; through an esc-proxy: several microphones)");
  app.add_flag("--json", json, "One JSON line per message: {\"topic\":..., \"message\":...}");
  app.add_option("--count", count, "Exit after this many messages (0: run until interrupted)");
  app.add_option("--timeout", timeout_s, "Exit 1 if no message arrives for this many seconds (0: wait forever)");
  auto* server_opt = app.add_option("--curve-server-key", server_key, "escd's CURVE public key file (its NAME.pub)");
  auto* client_opt = app.add_option("--curve-client-key", client_key, "This subscriber's CURVE key pair file");
  server_opt->needs(client_opt);
  client_opt->needs(server_opt);
  CLI11_PARSE(app, argc, argv);
  for (const auto& source : sources) {
    if (!escd::daemon::is_source_name(source)) {
      std::fprintf(stderr, "esc-sub: --source: expected escd's --source (1-64 of A-Z a-z 0-9 _ -), got '%s'\n",
                   source.c_str());
      return 2;
    }
  }
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  zmq::context_t context(1);
  zmq::socket_t socket;
  try {
    socket = escd::daemon::subscribe_to_escd(context, {endpoint, server_key, client_key}, topics);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "esc-sub: %s\n", e.what());
    return 2;
  }
  socket.set(zmq::sockopt::rcvtimeo, 200);  // wake up to notice signals

  int received = 0;
  GapCounter gaps;
  std::set<std::string> sources_seen;
  auto last_message = std::chrono::steady_clock::now();
  int code = 0;
  while (!g_stop && (count == 0 || received < count)) {
    const auto message = escd::daemon::receive_escd_message(socket);
    if (!message) {
      if (timeout_s > 0 && std::chrono::steady_clock::now() - last_message > std::chrono::duration<double>(timeout_s)) {
        // Also what a subscriber whose CURVE key escd does not accept sees: nothing at all.
        std::fprintf(stderr, "esc-sub: nothing from %s for %.1f s\n", endpoint.c_str(), timeout_s);
        code = 1;
        break;
      }
      continue;
    }
    const std::string& name = message->topic;
    // The source is the topic's last part, which a ZeroMQ (prefix) subscription cannot select.
    const auto topic = escd::daemon::parse_topic(name);
    const std::string source = topic ? topic->source : "";
    if (!sources.empty() && std::find(sources.begin(), sources.end(), source) == sources.end()) continue;
    last_message = std::chrono::steady_clock::now();
    if (message->body.is_discarded()) {
      std::fprintf(stderr, "esc-sub: %s: payload is not JSON\n", name.c_str());
      continue;
    }
    ++received;
    gaps.see(name, message->body);
    if (!source.empty()) sources_seen.insert(source);
    if (json) {
      std::printf("%s\n", nlohmann::json{{"topic", name}, {"message", message->body}}.dump().c_str());
      std::fflush(stdout);
    } else {
      print_readable(name, message->body, sources_seen.size() > 1 || sources.size() > 1);
    }
  }
  if (gaps.missed() > 0) {
    std::fprintf(stderr, "esc-sub: %llu message(s) missed in all (this subscriber fell behind escd's send queue)\n",
                 static_cast<unsigned long long>(gaps.missed()));
  }
  return code;
}

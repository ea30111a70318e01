// esc-sub: subscribes to escd and prints what it publishes: a readable live view, or JSON lines.
#include <CLI/CLI.hpp>
#include <csignal>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <zmq.hpp>

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

void print_readable(const std::string& topic, const nlohmann::json& m) {
  const double t = m.value("t", 0.0);
  if (topic.rfind("esc.scores.", 0) == 0) {
    std::printf("%8.2fs %-10s %s%s\n", t, m.value("model", "").c_str(), m.value("warming_up", false) ? "(warming up) " : "",
                top_line(m).c_str());
  } else if (topic.rfind("esc.event.", 0) == 0) {
    std::printf("%8.2fs %-10s EVENT %-5s %s (%.0f%%)\n", t, m.value("model", "").c_str(), m.value("type", "").c_str(),
                m.value("label", "").c_str(), 100.0 * m.value("score", 0.0));
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
    std::printf("%s %s\n", topic.c_str(), m.dump().c_str());
  }
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{"esc-sub: print what escd publishes"};
  std::string endpoint = "tcp://127.0.0.1:5556";
  std::vector<std::string> topics;
  bool json = false;
  int count = 0;
  app.add_option("--connect", endpoint, "escd's endpoint")->capture_default_str();
  app.add_option("--topic", topics, "Topic prefix(es) to subscribe to (default: all)");
  app.add_flag("--json", json, "One JSON line per message: {\"topic\":..., \"message\":...}");
  app.add_option("--count", count, "Exit after this many messages (0: run until interrupted)");
  CLI11_PARSE(app, argc, argv);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);

  zmq::context_t context(1);
  zmq::socket_t socket(context, zmq::socket_type::sub);
  socket.set(zmq::sockopt::rcvtimeo, 200);  // wake up to notice signals
  try {
    socket.connect(endpoint);
  } catch (const zmq::error_t& e) {
    std::fprintf(stderr, "esc-sub: cannot connect to %s: %s\n", endpoint.c_str(), e.what());
    return 2;
  }
  if (topics.empty()) topics.push_back("");
  for (const auto& t : topics) socket.set(zmq::sockopt::subscribe, t);

  int received = 0;
  while (!g_stop && (count == 0 || received < count)) {
    zmq::message_t topic, payload;
    if (!socket.recv(topic)) continue;
    if (!topic.more() || !socket.recv(payload)) continue;
    const std::string name = topic.to_string();
    nlohmann::json message = nlohmann::json::parse(payload.to_string(), nullptr, false);
    if (message.is_discarded()) {
      std::fprintf(stderr, "esc-sub: %s: payload is not JSON\n", name.c_str());
      continue;
    }
    ++received;
    if (json) {
      std::printf("%s\n", nlohmann::json{{"topic", name}, {"message", message}}.dump().c_str());
      std::fflush(stdout);
    } else {
      print_readable(name, message);
    }
  }
  return 0;
}

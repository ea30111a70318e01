// esc-web's state without a network: what a new live view gets first, what a stream reads, a quiet
// escd turning unreachable, and /metrics checked by Prometheus's own parser (python3-prometheus-client
// under /usr/bin/python3; skipped, saying so, without it).
#include <gtest/gtest.h>

#include <cstdio>
#include <fstream>
#include <memory>

#include "test_support.h"
#include "web_state.h"

namespace escd::daemon {
namespace {

using namespace std::chrono_literals;
using Json = nlohmann::json;

Json scores(const std::string& model, const std::string& top1) {
  return {{"model", model}, {"warming_up", false}, {"top", {{{"label", top1}, {"p", 0.9}}}}, {"t", 5.0}};
}
Json event(const std::string& type, const std::string& label) {
  return {{"model", "mamba"}, {"type", type}, {"label", label}, {"score", 0.8}, {"started_at", 5.0}, {"t", 5.5}};
}
Json health() {
  return {{"uptime_s", 12.5},
          {"cpu_percent", 3.0},
          {"input", {{"connected", true}, {"device_overflows", 2}, {"ring_overflows", 1}, {"reconnects", 4}, {"discontinuities", 3}}},
          {"models",
           {{"mamba", {{"windows", 20}, {"window_us_p50", 900.0}, {"window_us_p99", 1500.0}, {"frame_us_p50", 300.0}, {"frame_us_p99", 600.0}}},
            {"ensemble", {{"windows", 20}}}}},
          {"recordings", {{"written", 2}, {"failed", 1}, {"dropped", 0}}}};
}

// A short session of one model: scores, a dog event that stays open, a rain event that ended, a
// level and a health report.
void feed_session(WebState& state) {
  const auto now = WebState::Clock::now();
  state.on_message("esc.scores.mamba", scores("mamba", "rain"), now);
  state.on_message("esc.scores.mamba", scores("mamba", "dog"), now);
  state.on_message("esc.event.mamba", event("start", "dog"), now);
  state.on_message("esc.event.mamba", event("start", "rain"), now);
  state.on_message("esc.event.mamba", event("end", "rain"), now);
  state.on_message("esc.level", {{"dbfs", -31.5}}, now);
  state.on_message("esc.health", health(), now);
}

TEST(WebState, ANewViewGetsTheLatestOfEachAndTheOpenEvents) {
  WebState state("kitchen", "tcp://127.0.0.1:5556", 5s);
  feed_session(state);
  const Json s = state.snapshot();
  EXPECT_EQ(s["source"]["name"], "kitchen");
  EXPECT_EQ(s["source"]["connected"], true);
  EXPECT_EQ(s["scores"]["mamba"]["top"][0]["label"], "dog");
  ASSERT_EQ(s["open_events"].size(), 1u);
  EXPECT_EQ(s["open_events"][0]["label"], "dog");
  EXPECT_EQ(s["level"]["dbfs"], -31.5);
  EXPECT_EQ(s["health"]["uptime_s"], 12.5);
}

TEST(WebState, AStreamReadsEveryMessageInOrderAndAQuietEscdBecomesUnreachable) {
  WebState state("main", "ipc:///run/escd/escd.sock", 1s);
  uint64_t after = 0;
  state.snapshot(&after);
  EXPECT_TRUE(state.next(after, 10ms).empty());
  const auto t0 = WebState::Clock::now();
  state.on_message("esc.scores.mamba", scores("mamba", "dog"), t0);
  state.on_message("esc.event.mamba", event("start", "dog"), t0);
  std::vector<LiveMessage> got = state.next(after, 10ms);
  ASSERT_EQ(got.size(), 3u);  // escd became reachable, then its two messages
  EXPECT_EQ(got[0].event, "source");
  EXPECT_EQ(got[1].event, "scores");
  EXPECT_EQ(got[2].event, "event");
  EXPECT_EQ(Json::parse(got[2].data)["label"], "dog");
  state.tick(t0 + 500ms);
  EXPECT_TRUE(state.next(after, 10ms).empty()) << "still within offline_after";
  state.tick(t0 + 2s);
  got = state.next(after, 10ms);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event, "source");
  EXPECT_EQ(Json::parse(got[0].data)["connected"], false);
  EXPECT_TRUE(state.snapshot()["open_events"].empty()) << "no event is known to go on in a room escd stopped reporting";
}

TEST(WebState, AStreamFarBehindStartsAfreshFromASnapshot) {
  WebState state("main", "tcp://x:1", 5s);
  uint64_t after = 0;
  state.snapshot(&after);
  for (int i = 0; i < 2000; ++i) state.on_message("esc.level", {{"dbfs", -i}}, WebState::Clock::now());
  const std::vector<LiveMessage> got = state.next(after, 10ms);
  ASSERT_EQ(got.size(), 1u) << "messages it missed are gone: no gap, a snapshot";
  EXPECT_EQ(got[0].event, "snapshot");
  EXPECT_EQ(Json::parse(got[0].data)["level"]["dbfs"], -1999);
  uint64_t seq = 0;
  state.snapshot(&seq);
  EXPECT_EQ(after, seq) << "the stream goes on after the snapshot it got";
}

// Prometheus's parser (python3-prometheus-client) on `text`: one line per family, "name type samples",
// or "" when the parser is not installed.
std::string parse_with_prometheus(const std::string& text, const std::string& dir) {
  std::ofstream(dir + "/metrics.txt") << text;
  std::ofstream(dir + "/parse.py")
      << "import sys\n"
         "from prometheus_client.parser import text_string_to_metric_families\n"
         "names = []\n"
         "for f in text_string_to_metric_families(open(sys.argv[1]).read()):\n"
         "    names.append(f.name)\n"
         "    for s in f.samples:\n"
         "        print(s.name, ','.join(k + '=' + v for k, v in sorted(s.labels.items())), s.value)\n"
         "assert len(names) == len(set(names)), 'a metric family appears twice: %s' % names\n";
  const std::string command = "/usr/bin/python3 " + dir + "/parse.py " + dir + "/metrics.txt 2>&1";
  std::string out;
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  char buffer[4096];
  for (size_t n; (n = fread(buffer, 1, sizeof buffer, pipe.get())) > 0;) out.append(buffer, n);
  const int status = pclose(pipe.release());
  if (status != 0) ADD_FAILURE() << "Prometheus's parser refused /metrics:\n" << out << "\n" << text;
  return out;
}

bool prometheus_parser_available() {
  return std::system("/usr/bin/python3 -c 'import prometheus_client.parser' >/dev/null 2>&1") == 0;
}

TEST(WebState, MetricsParseAsPrometheusTextWithTheRightValues) {
  if (!prometheus_parser_available()) {
    GTEST_SKIP() << "python3-prometheus-client is not installed (scripts/install-deps.sh --dev): metrics not parsed";
  }
  test::TempDir dir;
  WebState state("say \"hi\"\\", "tcp://x:1", 5s);  // a source name that needs escaping
  state.on_message("esc.health", "not an object", WebState::Clock::now());
  state.on_message("esc.event.mamba", {{"model", 7}, {"type", "start"}}, WebState::Clock::now());  // a field of the wrong type
  feed_session(state);
  const std::string parsed = parse_with_prometheus(state.metrics(), dir.str());
  const std::string source = "source=say \"hi\"\\";
  for (const std::string& line :
       {"escd_up " + source + " 1.0", "escd_events_total label=dog,model=mamba," + source + " 1.0",
        "escd_event_open label=dog,model=mamba," + source + " 1.0", "escd_event_open label=rain,model=mamba," + source + " 0.0",
        "escd_scores_total model=mamba," + source + " 2.0", "escd_windows_total model=mamba," + source + " 20.0",
        "escd_windows_total model=ensemble," + source + " 20.0",
        "escd_window_latency_seconds model=mamba,quantile=0.99," + source + " 0.0015",
        "escd_input_overflows_total kind=device," + source + " 2.0", "escd_input_reconnects_total " + source + " 4.0",
        "escd_input_gaps_total " + source + " 3.0", "escd_cpu_usage_ratio " + source + " 0.03",
        "escd_level_dbfs " + source + " -31.5", "escd_recordings_total outcome=failed," + source + " 1.0",
        "escd_malformed_messages_total " + source + " 2.0"}) {
    EXPECT_NE(parsed.find(line + "\n"), std::string::npos) << "missing: " << line << "\nparsed:\n" << parsed;
  }
  EXPECT_EQ(parsed.find("escd_window_latency_seconds model=ensemble"), std::string::npos) << "the ensemble has no latency";
  // A health report with fields of the wrong types reads as zeros, not an error.
  state.on_message("esc.health", {{"input", "wrong"}, {"models", 3}}, WebState::Clock::now());
  EXPECT_NE(parse_with_prometheus(state.metrics(), dir.str()).find("escd_input_connected " + source + " 0.0\n"),
            std::string::npos);
}

}  // namespace
}  // namespace escd::daemon

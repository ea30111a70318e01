// Many escd through one esc-proxy, end to end on this machine: three sources reach two subscribers
// (one of them esc-sub filtering a source) with every source's seq unbroken; a proxy killed and
// started again is rejoined by escd and the subscriber on their own, with seq only going forward
// (a loss would show as a gap); with CURVE, only listed escd keys publish and only listed
// subscriber keys receive; and mistakes stop esc-proxy at start with their reason.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <memory>
#include <set>
#include <sstream>
#include <thread>
#include <zmq.hpp>

#include "curve_keys.h"
#include "escd_process.h"
#include "test_support.h"

namespace escd {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using test::Escd;
using test::Message;
using test::Subscriber;

class ProxyTest : public test::EscdFixture {
 protected:
  void SetUp() override {
    EscdFixture::SetUp();
    publishers_ = "ipc://" + dir_.path("publishers.sock");
    subscribers_ = "ipc://" + dir_.path("subscribers.sock");
  }
  std::unique_ptr<Escd> start_proxy(std::vector<std::string> extra = {}) {
    std::vector<std::string> a{"--publishers", publishers_, "--subscribers", subscribers_, "--name", "gateway",
                               "--health-interval", "0.5"};
    a.insert(a.end(), extra.begin(), extra.end());
    return std::make_unique<Escd>(a, dir_.path("proxy.log"), "", std::vector<std::string>{}, ESC_PROXY_BIN);
  }
  // An escd publishing as `source` through the proxy.
  std::unique_ptr<Escd> start_escd(const std::string& source, std::vector<std::string> extra = {}) {
    extra.insert(extra.begin(), {"--proxy", publishers_, "--source", source});
    return std::make_unique<Escd>(args(extra), dir_.path(source + ".log"));
  }
  daemon::CurveKeypair generate(const std::string& name) {
    Escd keygen({"--generate-curve-keypair", dir_.path(name)}, dir_.path(name + ".log"));
    EXPECT_EQ(keygen.wait(60s), 0) << test::read_text(dir_.path(name + ".log"));
    return daemon::read_curve_key_file(dir_.path(name), /*need_secret=*/true);
  }
  std::string logs() const {
    std::string out;
    for (const std::string name : {"proxy", "kitchen", "hall", "garage", "rogue"}) {
      out += "--- " + name + ".log\n" + test::read_text(dir_.path(name + ".log"));
    }
    return out;
  }

  std::string publishers_, subscribers_;
};

bool is_health_of(const Message& m, const std::string& source) { return m.topic == "esc.health" && m.source == source; }

TEST_F(ProxyTest, ThreeSourcesReachTwoSubscribersEachSourceWithAnUnbrokenSeq) {
  const auto proxy = start_proxy();
  Subscriber everything(subscribers_);
  // esc-sub as a user runs it: one source of the three, as JSON lines.
  Escd hall_only({"--connect", subscribers_, "--source", "hall", "--json", "--count", "12", "--timeout", "30"},
                 dir_.path("esc-sub.jsonl"), "", {}, ESC_SUB_BIN);
  const std::vector<std::string> sources{"kitchen", "hall", "garage"};
  std::vector<std::unique_ptr<Escd>> escds;
  for (const auto& source : sources) escds.push_back(start_escd(source));
  std::vector<std::thread> feeds;
  const std::vector<float> audio = test::analytic_signal(8.0, 16000);
  for (auto& escd : escds) feeds.emplace_back([&escd, &audio] { test::feed_in_real_time(*escd, audio); });
  // The clock starts once every escd is heard (each loads libtorch first, on a busy machine).
  std::set<std::string> heard;
  auto seen = everything.collect(30s, [&](const Message& m) {
    if (m.topic == "esc.health") heard.insert(m.source);
    return heard.size() == sources.size();
  });
  ASSERT_EQ(heard.size(), sources.size()) << logs();
  const auto until = Clock::now() + 5s;
  const auto more = everything.collect(5s, [&](const Message&) { return Clock::now() > until; });
  seen.insert(seen.end(), more.begin(), more.end());
  for (auto& feed : feeds) feed.join();

  std::map<std::string, std::map<std::string, int>> count;  // source -> topic -> messages
  for (const auto& m : seen) ++count[m.source][m.topic];
  for (const auto& source : sources) {
    EXPECT_GE(count[source]["esc.health"], 3) << source << "\n" << logs();
    EXPECT_GE(count[source]["esc.level"], 3) << source;
    EXPECT_GE(count[source]["esc.scores.mamba"], 2) << source;
  }
  for (const auto& [topic, gaps] : test::seq_gaps(seen)) EXPECT_EQ(gaps, 0u) << topic;
  // The proxy's own health: three escd in, two subscribers out, and what it forwarded.
  const Message* proxy_health = nullptr;
  int most_subscribers = 0;  // esc-sub leaves after its 12 messages
  for (const auto& m : seen) {
    if (m.topic != "esc.proxy" || m.source != "gateway") continue;
    proxy_health = &m;
    most_subscribers = std::max(most_subscribers, m.body["subscribers"]["connections"]["open"].get<int>());
  }
  ASSERT_NE(proxy_health, nullptr) << logs();
  EXPECT_EQ(proxy_health->body["publishers"]["connections"]["open"].get<int>(), 3) << proxy_health->body.dump();
  EXPECT_EQ(most_subscribers, 2);
  EXPECT_GT(proxy_health->body["messages"].get<int>(), 30) << proxy_health->body.dump();

  ASSERT_EQ(hall_only.wait(30s), 0) << test::read_text(dir_.path("esc-sub.jsonl"));
  std::istringstream lines(test::read_text(dir_.path("esc-sub.jsonl")));
  int hall_lines = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.empty() || line[0] != '{') continue;
    const auto j = nlohmann::json::parse(line);
    const std::string topic = j["topic"].get<std::string>();
    EXPECT_EQ(topic.substr(topic.size() - 5), ".hall") << line;
    EXPECT_EQ(j["message"]["source"], "hall") << line;
    ++hall_lines;
  }
  EXPECT_EQ(hall_lines, 12);
}

TEST_F(ProxyTest, ARestartedProxyIsRejoinedByEscdAndSubscriberWithSeqOnlyGoingForward) {
  auto proxy = start_proxy();
  const auto escd = start_escd("kitchen");
  std::thread feed([&escd] { test::feed_in_real_time(*escd, test::analytic_signal(14.0, 16000)); });
  Subscriber sub(subscribers_);
  const auto before = sub.until(30s, [](const Message& m) { return is_health_of(m, "kitchen"); });
  ASSERT_TRUE(before) << logs();

  proxy->signal(SIGKILL);
  ASSERT_GE(proxy->wait(5s), 0);
  std::this_thread::sleep_for(2500ms);
  const double restarted_wall =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  proxy = start_proxy();
  // escd retries with backoff (up to 1.6 s by then): 6 s leaves room for several health reports.
  const auto until = Clock::now() + 6s;
  const auto seen = sub.collect(5s, [&](const Message&) { return Clock::now() > until; });
  feed.join();

  std::vector<uint64_t> seqs{before->body["seq"].get<uint64_t>()};
  int published_after_restart = 0;
  for (const auto& m : seen) {
    if (!is_health_of(m, "kitchen")) continue;
    seqs.push_back(m.body["seq"].get<uint64_t>());
    published_after_restart += m.body["wall"].get<double>() > restarted_wall;
  }
  // Both ends came back by themselves: escd's health published after the restart arrives.
  EXPECT_GE(published_after_restart, 2) << logs();
  // While the proxy was away escd kept what it published (up to send_hwm) and sent it when the
  // proxy was back; whatever was lost would show as a gap. Never a repeat or a step back.
  uint64_t lost = 0;
  for (size_t i = 1; i < seqs.size(); ++i) {
    ASSERT_GT(seqs[i], seqs[i - 1]) << "seq must only go forward";
    lost += seqs[i] - seqs[i - 1] - 1;
  }
  EXPECT_GE(seqs.back(), seqs.front() + 5) << "escd published on while the proxy was away";
  RecordProperty("health_messages_lost_over_the_restart", std::to_string(lost));
  EXPECT_NE(test::read_text(dir_.path("kitchen.log")).find("through the esc-proxy at " + publishers_), std::string::npos);
}

TEST_F(ProxyTest, WithCurveOnlyListedEscdPublishAndOnlyListedSubscribersReceive) {
  const auto proxy_keys = generate("proxy.key");
  const auto kitchen = generate("kitchen.key");
  generate("rogue.key");
  const auto alice = generate("alice.key");
  const auto mallory = generate("mallory.key");
  std::ofstream(dir_.path("publishers.toml")) << "[clients]\nkitchen = \"" << kitchen.public_key << "\"\n";
  std::ofstream(dir_.path("subscribers.toml")) << "[clients]\nalice = \"" << alice.public_key << "\"\n";
  const auto proxy = start_proxy({"--curve-server-key", dir_.path("proxy.key"), "--curve-publisher-keys",
                                  dir_.path("publishers.toml"), "--curve-client-keys", dir_.path("subscribers.toml")});
  const auto listed = start_escd("kitchen", {"--curve-server-key", dir_.path("kitchen.key"), "--curve-proxy-key",
                                             dir_.path("proxy.key.pub")});
  const auto unlisted = start_escd("rogue", {"--curve-server-key", dir_.path("rogue.key"), "--curve-proxy-key",
                                             dir_.path("proxy.key.pub")});
  const test::CurveClient alice_keys{proxy_keys.public_key, alice.public_key, alice.secret_key};
  const test::CurveClient mallory_keys{proxy_keys.public_key, mallory.public_key, mallory.secret_key};
  Subscriber allowed(subscribers_, 1000, &alice_keys);
  Subscriber refused(subscribers_, 1000, &mallory_keys);
  Subscriber plain(subscribers_);

  ASSERT_TRUE(allowed.until(30s, [](const Message& m) { return is_health_of(m, "kitchen"); })) << logs();
  std::set<std::string> sources;
  const Message* proxy_health = nullptr;
  const auto until = Clock::now() + 3s;
  const auto seen = allowed.collect(5s, [&](const Message&) { return Clock::now() > until; });
  for (const auto& m : seen) {
    sources.insert(m.source);
    if (m.topic == "esc.proxy") proxy_health = &m;
  }
  EXPECT_EQ(sources, (std::set<std::string>{"kitchen", "gateway"})) << "the unlisted escd must not get through";
  ASSERT_NE(proxy_health, nullptr);
  EXPECT_GE(proxy_health->body["publishers"]["allowlist"]["admitted"].get<int>(), 1) << proxy_health->body.dump();
  EXPECT_GE(proxy_health->body["publishers"]["allowlist"]["refused"].get<int>(), 1) << proxy_health->body.dump();
  EXPECT_GE(proxy_health->body["subscribers"]["allowlist"]["refused"].get<int>(), 1) << proxy_health->body.dump();
  EXPECT_TRUE(refused.collect(1s).empty()) << "an unlisted subscriber key receives nothing";
  EXPECT_TRUE(plain.collect(1s).empty()) << "a subscriber without CURVE receives nothing";
  const std::string proxy_log = test::read_text(dir_.path("proxy.log"));
  EXPECT_NE(proxy_log.find("is not in esc-proxy's publisher allowlist"), std::string::npos) << logs();
  EXPECT_NE(proxy_log.find("is not in esc-proxy's client allowlist"), std::string::npos) << logs();
}

TEST_F(ProxyTest, SigtermStopsItCleanly) {
  const auto proxy = start_proxy();
  Subscriber sub(subscribers_);
  ASSERT_TRUE(sub.until(30s, [](const Message& m) { return m.topic == "esc.proxy"; })) << logs();
  proxy->signal(SIGTERM);
  EXPECT_EQ(proxy->wait(10s), 0) << logs();
  EXPECT_NE(test::read_text(dir_.path("proxy.log")).find("stopping"), std::string::npos);
}

TEST_F(ProxyTest, MistakesAreRefusedAtStartWithTheirReason) {
  // A port that is taken: the proxy names the endpoint and exits 2 (its unit does not retry that).
  zmq::context_t context(1);
  zmq::socket_t taken(context, zmq::socket_type::pub);
  taken.bind("tcp://127.0.0.1:*");
  const std::string port_in_use = taken.get(zmq::sockopt::last_endpoint);
  Escd in_use({"--publishers", "ipc://" + dir_.path("other.sock"), "--subscribers", port_in_use, "--name", "gateway"},
              dir_.path("in_use.log"), "", {}, ESC_PROXY_BIN);
  EXPECT_EQ(in_use.wait(30s), 2);
  EXPECT_NE(test::read_text(dir_.path("in_use.log")).find("cannot bind the subscribers' endpoint " + port_in_use),
            std::string::npos)
      << test::read_text(dir_.path("in_use.log"));
  Escd bad_name({"--publishers", "ipc://" + dir_.path("a.sock"), "--subscribers", "ipc://" + dir_.path("b.sock"),
                 "--name", "two.parts"},
                dir_.path("bad_name.log"), "", {}, ESC_PROXY_BIN);
  EXPECT_EQ(bad_name.wait(30s), 2);
  EXPECT_NE(test::read_text(dir_.path("bad_name.log")).find("--name: expected 1-64 characters"), std::string::npos);
  Escd no_key({"--publishers", "ipc://" + dir_.path("c.sock"), "--subscribers", "ipc://" + dir_.path("d.sock"),
               "--curve-server-key", dir_.path("missing.key")},
              dir_.path("no_key.log"), "", {}, ESC_PROXY_BIN);
  EXPECT_EQ(no_key.wait(30s), 2);
  EXPECT_NE(test::read_text(dir_.path("no_key.log")).find("missing.key"), std::string::npos)
      << test::read_text(dir_.path("no_key.log"));
}

}  // namespace
}  // namespace escd

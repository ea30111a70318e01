// escd with subscribers that misbehave: none at all, one that stops reading, one that joins late,
// a hundred that come and go. In every case escd keeps pace with its input (a real-time feed never
// finds escd's stdin pipe full: that would mean escd is 2 s behind), healthy subscribers see every
// `seq`, and esc.health counts the connections. Real escd processes, real SUB sockets.
#include <gtest/gtest.h>

#include <chrono>
#include <memory>
#include <numeric>
#include <regex>
#include <thread>
#include <zmq.hpp>

#include "escd_process.h"
#include "test_support.h"

namespace escd {
namespace {

using namespace std::chrono_literals;
using test::Escd;
using test::Message;
using test::Subscriber;

using SubscriberTest = test::EscdFixture;

// Predictions escd publishes for `seconds` of 16 kHz audio at a hop of `hop` frames: frames come
// every 512 samples once 1024 have arrived; warming-up predictions every hop before the first full
// window (155 frames), then full windows every hop from frame 155.
size_t predictions(double seconds, size_t hop) {
  const size_t frames = (static_cast<size_t>(seconds * 16000) - 1024) / 512 + 1;
  size_t n = std::min<size_t>(frames, 154) / hop;
  if (frames >= 155) n += (frames - 155) / hop + 1;
  return n;
}

std::vector<uint64_t> consecutive(uint64_t first, size_t n) {
  std::vector<uint64_t> v(n);
  std::iota(v.begin(), v.end(), first);
  return v;
}

TEST_F(SubscriberTest, WithNoSubscriberEscdKeepsPaceWithRealTimeInput) {
  Escd escd(args(), log_path());
  ASSERT_TRUE(test::wait_for_text(log_path(), "publishing on", 30s)) << log();
  const test::RealTimeFeed feed = test::feed_in_real_time(escd, test::analytic_signal(6.0, 16000));
  escd.close_stdin();
  ASSERT_EQ(escd.wait(15s), 0) << log();
  EXPECT_EQ(feed.pipe_full, 0u) << "escd fell 2 s behind real time with nobody listening";
  std::smatch m;
  const std::string text = log();
  ASSERT_TRUE(std::regex_search(text, m, std::regex("stopped after ([0-9.]+) s of audio"))) << text;
  EXPECT_NEAR(std::stod(m[1]), 6.0, 0.05) << "not all of the input was processed";
}

TEST_F(SubscriberTest, AStalledSubscriberLosesMessagesWhileAHealthyOneGetsEverySeq) {
  // A send queue well under the stream, so that the stalled subscriber reaches it; escd is fed as
  // fast as the pipe takes audio, with a prediction every 2 frames: about 3,750 messages in a few
  // seconds. The limit applies to the healthy subscriber's pipe too, so it is large enough (1024) for
  // that reader to fall behind for a while on a loaded machine without losing anything (256 was not,
  // once, with three busy processes on two cores).
  write_config("[daemon]\nsend_hwm = 1024\n");
  Escd escd(args({"--hop-ms", "64"}), log_path());
  Subscriber healthy(endpoint_, 1'000'000);
  std::vector<Message> seen;
  ASSERT_TRUE(await_health(healthy, seen)) << log();
  // The stalled subscriber takes one message (it is connected and subscribed), then reads nothing;
  // its own queue holds 16 messages, so ZeroMQ's queues for it fill and escd's PUB drops for it.
  Subscriber stalled(endpoint_, 16);
  ASSERT_FALSE(stalled.collect(10s, [](const Message&) { return true; }).empty()) << log();

  std::thread reader([&] {
    const auto more = healthy.collect(3s);  // until escd has exited
    seen.insert(seen.end(), more.begin(), more.end());
  });
  const double seconds = 120.0;
  escd.write_samples(test::analytic_signal(seconds, 16000));
  escd.close_stdin();
  const int code = escd.wait(120s);
  reader.join();
  ASSERT_EQ(code, 0) << log();

  const size_t expected = predictions(seconds, 2);
  EXPECT_EQ(seqs(seen, "esc.scores.mamba"), consecutive(0, expected)) << "the healthy subscriber lost messages";
  const auto stalled_seen = stalled.collect(1s);  // what was still queued for it
  const size_t stalled_scores = seqs(stalled_seen, "esc.scores.mamba").size();
  EXPECT_LT(stalled_scores, expected / 2) << "the stalled subscriber was not held at its high-water mark";
  const nlohmann::json* health = last_health(seen);
  ASSERT_NE(health, nullptr);
  EXPECT_EQ((*health)["publisher"]["connections"]["open"].get<int>(), 2) << health->dump();
  EXPECT_EQ((*health)["publisher"]["send_failures"].get<int>(), 0) << health->dump();
}

TEST_F(SubscriberTest, ALateSubscriberPicksUpMidStreamWithoutGaps) {
  Escd escd(args(), log_path());
  Subscriber early(endpoint_);
  std::vector<Message> early_seen, late_seen;
  ASSERT_TRUE(await_health(early, early_seen)) << log();
  std::unique_ptr<Subscriber> late;
  std::thread reader([&] {
    const auto more = early.collect(3s);
    early_seen.insert(early_seen.end(), more.begin(), more.end());
  });
  const test::RealTimeFeed feed = test::feed_in_real_time(escd, test::analytic_signal(6.0, 16000), [&](double t) {
    if (t >= 3.0 && !late) late = std::make_unique<Subscriber>(endpoint_);
  });
  escd.close_stdin();
  const int code = escd.wait(15s);
  reader.join();
  ASSERT_EQ(code, 0) << log();
  ASSERT_TRUE(late);
  late_seen = late->collect(1s);

  EXPECT_EQ(feed.pipe_full, 0u) << "escd fell 2 s behind real time";
  const auto early_scores = seqs(early_seen, "esc.scores.mamba");
  const auto late_scores = seqs(late_seen, "esc.scores.mamba");
  EXPECT_EQ(early_scores, consecutive(0, predictions(6.0, 16)));
  ASSERT_FALSE(late_scores.empty()) << "the late subscriber received no predictions";
  EXPECT_GT(late_scores.front(), 0u) << "joined at 3 s, it cannot have seen the first prediction";
  EXPECT_EQ(late_scores, consecutive(late_scores.front(), late_scores.size()));
  EXPECT_EQ(late_scores.back(), early_scores.back());
  const nlohmann::json* health = last_health(early_seen);
  ASSERT_NE(health, nullptr);
  EXPECT_EQ((*health)["publisher"]["connections"]["accepted"].get<int>(), 2) << health->dump();
}

TEST_F(SubscriberTest, AHundredSubscribersComingAndGoingDisturbNeitherEscdNorASteadyOne) {
  Escd escd(args(), log_path());
  Subscriber steady(endpoint_);
  std::vector<Message> seen;
  ASSERT_TRUE(await_health(steady, seen)) << log();
  std::thread reader([&] {
    const auto more = steady.collect(3s);
    seen.insert(seen.end(), more.begin(), more.end());
  });
  // Four waves of 25 subscribers, each connected for 300 ms, while audio flows.
  std::thread churn([&] {
    zmq::context_t context(1);
    for (int wave = 0; wave < 4; ++wave) {
      std::vector<zmq::socket_t> subs;
      for (int i = 0; i < 25; ++i) {
        subs.emplace_back(context, zmq::socket_type::sub);
        subs.back().set(zmq::sockopt::linger, 0);
        subs.back().set(zmq::sockopt::subscribe, "");
        subs.back().connect(endpoint_);
      }
      std::this_thread::sleep_for(300ms);
      subs.clear();
      std::this_thread::sleep_for(100ms);
    }
  });
  const test::RealTimeFeed feed = test::feed_in_real_time(escd, test::analytic_signal(8.0, 16000));
  churn.join();
  escd.close_stdin();
  const int code = escd.wait(15s);
  reader.join();
  ASSERT_EQ(code, 0) << log();

  EXPECT_EQ(feed.pipe_full, 0u) << "escd fell 2 s behind real time";
  EXPECT_EQ(seqs(seen, "esc.scores.mamba"), consecutive(0, predictions(8.0, 16)));
  for (const auto& [topic, gaps] : test::seq_gaps(seen)) EXPECT_EQ(gaps, 0u) << topic;
  const nlohmann::json* health = last_health(seen);
  ASSERT_NE(health, nullptr);
  const auto& connections = (*health)["publisher"]["connections"];
  EXPECT_EQ(connections["accepted"].get<int>(), 101) << health->dump();
  EXPECT_EQ(connections["closed"].get<int>(), 100) << health->dump();
  EXPECT_EQ(connections["open"].get<int>(), 1) << health->dump();
}

}  // namespace
}  // namespace escd

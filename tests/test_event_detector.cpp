// Event hysteresis on synthetic score sequences.
#include <gtest/gtest.h>

#include "streaming/event_detector.h"

namespace escd {
namespace {

using Kind = DetectionEvent::Kind;

// Feeds one class's probability sequence (other classes 0) at 0.5 s hops; collects the events.
std::vector<DetectionEvent> run(EventDetector& d, const std::vector<float>& p, int cls = 0, double t0 = 0.0) {
  std::vector<DetectionEvent> all;
  for (size_t i = 0; i < p.size(); ++i) {
    std::vector<float> probs(3, 0.0f);
    probs[cls] = p[i];
    for (auto& e : d.update(probs, t0 + 0.5 * i)) all.push_back(e);
  }
  return all;
}

EventConfig config() {
  EventConfig c;
  c.threshold = 0.5;
  c.off_margin = 0.15;
  c.min_hits = 2;
  c.hold_seconds = 1.0;
  return c;
}

const std::vector<std::string> kNames{"dog", "rain", "siren"};

TEST(EventDetector, StartsAfterMinHitsAndEndsAfterHoldBelowOff) {
  EventDetector d(config(), kNames);
  const auto events = run(d, {0.6f, 0.2f, 0.6f, 0.7f, 0.9f, 0.4f, 0.4f, 0.4f, 0.3f, 0.3f, 0.3f});
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[0].kind, Kind::kStart);  // the lone 0.6 at t=0 is not enough; 0.6, 0.7 is
  EXPECT_DOUBLE_EQ(events[0].t, 1.5);
  EXPECT_EQ(events[0].label, "dog");
  // 0.4 is below the on-threshold but above off (0.35): still on. Below off from t=4.0, hold 1 s.
  EXPECT_EQ(events[1].kind, Kind::kEnd);
  EXPECT_DOUBLE_EQ(events[1].t, 5.0);
  EXPECT_FLOAT_EQ(events[1].score, 0.9f);
  EXPECT_DOUBLE_EQ(events[1].started_at, 1.5);
  EXPECT_EQ(d.open_events(), 0u);
}

TEST(EventDetector, ABriefDipDoesNotSplitAnEvent) {
  EventDetector d(config(), kNames);
  const auto events = run(d, {0.8f, 0.8f, 0.1f, 0.8f, 0.1f, 0.8f, 0.8f});
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(d.open_events(), 1u);
}

TEST(EventDetector, FinishEndsOpenEvents) {
  EventDetector d(config(), kNames);
  run(d, {0.8f, 0.8f, 0.8f});
  const auto ends = d.finish(9.0);
  ASSERT_EQ(ends.size(), 1u);
  EXPECT_EQ(ends[0].kind, Kind::kEnd);
  EXPECT_DOUBLE_EQ(ends[0].t, 9.0);
  EXPECT_TRUE(d.finish(10.0).empty());
}

TEST(EventDetector, PerClassThresholdsAndFilters) {
  EventConfig c = config();
  c.class_thresholds["rain"] = 0.9;
  c.exclude = {"siren"};
  EventDetector d(c, kNames);
  EXPECT_TRUE(run(d, {0.8f, 0.8f, 0.8f}, 1).empty());  // rain needs 0.9
  EXPECT_EQ(run(d, {0.95f, 0.95f}, 1, 10.0).size(), 1u);
  for (const auto& e : run(d, {1.0f, 1.0f, 1.0f}, 2, 20.0)) EXPECT_NE(e.label, "siren");  // excluded
  EventConfig only_dog = config();
  only_dog.include = {"dog"};
  EventDetector d2(only_dog, kNames);
  EXPECT_TRUE(run(d2, {1.0f, 1.0f}, 1).empty());
  EXPECT_EQ(run(d2, {1.0f, 1.0f}, 0).size(), 1u);
}

TEST(EventDetector, ReconfigureEndsNewlyExcludedClassesAndKeepsOthers) {
  EventDetector d(config(), kNames);
  run(d, {0.9f, 0.9f}, 0);
  run(d, {0.9f, 0.9f}, 1);
  EXPECT_EQ(d.open_events(), 2u);
  EventConfig c = config();
  c.exclude = {"rain"};
  const auto ended = d.reconfigure(c, 3.0);
  ASSERT_EQ(ended.size(), 1u);
  EXPECT_EQ(ended[0].label, "rain");
  EXPECT_EQ(d.open_events(), 1u);
}

}  // namespace
}  // namespace escd

// The "nothing here" output (models/common/label_set.h): found by name, allowed to be missing from
// some ensemble members, and never an event (streaming/event_detector.h).
#include <gtest/gtest.h>

#include "models/common/label_set.h"
#include "streaming/event_detector.h"

namespace escd {
namespace {

const std::vector<std::string> kPlain{"dog", "rain", "crickets"};
const std::vector<std::string> kWithBackground{"dog", "rain", "crickets", "background"};

TEST(LabelSet, BackgroundIsTheLastOutputByName) {
  EXPECT_EQ(background_index(kWithBackground), 3u);
  EXPECT_FALSE(background_index(kPlain));
  EXPECT_FALSE(background_index({}));
  EXPECT_FALSE(background_index({"background", "dog"})) << "only as the last output";
}

TEST(LabelSet, EnsemblesMayMixMembersWithAndWithoutBackground) {
  EXPECT_EQ(ensemble_labels({kPlain, kWithBackground}, {"a", "b"}), kWithBackground);
  EXPECT_EQ(ensemble_labels({kPlain, kPlain}, {"a", "b"}), kPlain);
}

TEST(LabelSet, OtherDifferencesAreRefusedNamingTheMember) {
  try {
    ensemble_labels({kPlain, {"dog", "crickets", "rain"}}, {"mamba", "custom"});
    FAIL() << "expected a refusal";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("custom"), std::string::npos) << e.what();
  }
}

EventConfig two_hits() {
  EventConfig c;
  c.threshold = 0.3;  // low, so that a class can be "on" while background is top-1
  c.min_hits = 2;
  return c;
}

TEST(LabelSet, NoEventStartsOnBackgroundWindows) {
  EventDetector detector(two_hits(), kWithBackground);
  // crickets at 0.35 (over its threshold), background top-1 at 0.6: nothing starts.
  const std::vector<float> quiet{0.02f, 0.03f, 0.35f, 0.6f};
  EXPECT_TRUE(detector.is_background(quiet));
  for (int hop = 0; hop < 10; ++hop) EXPECT_TRUE(detector.update(quiet, 0.5 * hop).empty()) << "hop " << hop;
  // The same crickets probability with background low starts an event after two hops.
  const std::vector<float> loud{0.02f, 0.03f, 0.35f, 0.1f};
  EXPECT_FALSE(detector.is_background(loud));
  EXPECT_TRUE(detector.update(loud, 5.0).empty());
  const auto events = detector.update(loud, 5.5);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].label, "crickets");
}

TEST(LabelSet, BackgroundThresholdMakesItStricter) {
  EventConfig strict = two_hits();
  strict.background_threshold = 0.2;
  EventDetector detector(strict, kWithBackground);
  const std::vector<float> p{0.05f, 0.05f, 0.65f, 0.25f};  // crickets top-1, background 0.25
  EXPECT_TRUE(detector.is_background(p));
  for (int hop = 0; hop < 5; ++hop) EXPECT_TRUE(detector.update(p, 0.5 * hop).empty());
}

TEST(LabelSet, BackgroundItselfIsNeverAnEventAndPlainModelsAreUnaffected) {
  EventDetector detector(two_hits(), kWithBackground);
  const std::vector<float> silent{0.0f, 0.0f, 0.0f, 1.0f};
  for (int hop = 0; hop < 5; ++hop) EXPECT_TRUE(detector.update(silent, 0.5 * hop).empty());
  EventDetector plain(two_hits(), kPlain);
  EXPECT_FALSE(plain.is_background({0.1f, 0.1f, 0.8f}));
  EXPECT_TRUE(plain.update({0.1f, 0.1f, 0.8f}, 0.0).empty());
  EXPECT_EQ(plain.update({0.1f, 0.1f, 0.8f}, 0.5).size(), 1u);
}

}  // namespace
}  // namespace escd

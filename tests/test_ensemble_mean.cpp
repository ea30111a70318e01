// How ensembles combine their members (models/common/ensemble_mean.h): the plain mean of the
// probabilities, except that only members with a background output judge whether a sound is present.
#include <gtest/gtest.h>

#include <cmath>
#include <numeric>

#include "models/common/ensemble_mean.h"

namespace escd {
namespace {

const std::vector<std::string> kPlain{"dog", "rain", "crickets"};
const std::vector<std::string> kWithBackground{"dog", "rain", "crickets", "background"};

void expect_near(const std::vector<float>& got, const std::vector<float>& want) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], 1e-6) << "class " << i;
}

TEST(EnsembleMean, WithoutBackgroundItIsThePlainMean) {
  EnsembleMean mean(kPlain);
  mean.add({0.6f, 0.3f, 0.1f}, kPlain);
  mean.add({0.0f, 0.9f, 0.1f}, kPlain);
  expect_near(mean.mean(), {0.3f, 0.6f, 0.1f});
  mean.clear();
  mean.add({0.2f, 0.2f, 0.6f}, kPlain);
  EXPECT_EQ(mean.members(), 1u);
  expect_near(mean.mean(), {0.2f, 0.2f, 0.6f});
}

// An empty room: the member that can say "nothing here" does; the one that cannot still names its
// likeliest sound. Averaged plainly, background would get 0.45 and crickets 0.5: an event. Here
// background keeps the probability of the member that judges it.
TEST(EnsembleMean, BackgroundIsJudgedByTheMembersThatHaveIt) {
  EnsembleMean mean(kWithBackground);
  mean.add({0.02f, 0.02f, 0.06f, 0.9f}, kWithBackground);
  mean.add({0.0f, 0.0f, 1.0f}, kPlain);
  const std::vector<float> got = mean.mean();
  // Given a sound: the first member says 0.2 / 0.2 / 0.6, the second 0 / 0 / 1; mean 0.1 / 0.1 / 0.8.
  expect_near(got, {0.1f * 0.1f, 0.1f * 0.1f, 0.1f * 0.8f, 0.9f});
  EXPECT_NEAR(std::accumulate(got.begin(), got.end(), 0.0), 1.0, 1e-6);
}

TEST(EnsembleMean, MembersThatAllHaveBackgroundAverageIt) {
  EnsembleMean mean(kWithBackground);
  mean.add({0.5f, 0.0f, 0.0f, 0.5f}, kWithBackground);
  mean.add({0.0f, 0.9f, 0.0f, 0.1f}, kWithBackground);
  // Background 0.3; given a sound the members say dog 1 and rain 1: 0.5 each of the remaining 0.7.
  expect_near(mean.mean(), {0.35f, 0.35f, 0.0f, 0.3f});
}

TEST(EnsembleMean, AMemberCertainOfBackgroundSpreadsItsSoundEvenly) {
  EnsembleMean mean(kWithBackground);
  mean.add({0.0f, 0.0f, 0.0f, 1.0f}, kWithBackground);
  mean.add({0.4f, 0.0f, 0.0f, 0.6f}, kWithBackground);
  // Background 0.8; given a sound the first says 1/3 each, the second dog: the 0.2 left is shared
  // as (1/3 + 1) / 2 for dog and (1/3) / 2 for the others.
  const std::vector<float> got = mean.mean();
  expect_near(got, {0.2f * 2.0f / 3.0f, 0.2f / 6.0f, 0.2f / 6.0f, 0.8f});
  for (float p : got) EXPECT_FALSE(std::isnan(p));
}

// A background probability that rounds to 1 in float still leaves the sound classes their share:
// an ensemble's log-probabilities stay finite.
TEST(EnsembleMean, ABackgroundRoundedToOneLeavesTheSoundsTheirTinyShare) {
  EnsembleMean mean(kWithBackground);
  mean.add({1e-9f, 2e-9f, 1e-9f, 1.0f}, kWithBackground);
  mean.add({0.5f, 0.25f, 0.25f}, kPlain);
  const std::vector<float> got = mean.mean();
  EXPECT_EQ(got[3], 1.0f);
  for (size_t c = 0; c < 3; ++c) EXPECT_GT(got[c], 0.0f) << "class " << c;
  EXPECT_NEAR(got[1] / got[0], (0.5 + 0.25) / (0.25 + 0.5), 1e-3);
}

TEST(EnsembleMean, MismatchedMembersAreRefused) {
  EnsembleMean mean(kPlain);
  EXPECT_THROW(mean.add({0.5f, 0.5f}, kPlain), std::invalid_argument) << "fewer probabilities than classes";
  EXPECT_THROW(mean.add({0.25f, 0.25f, 0.25f, 0.25f}, kWithBackground), std::invalid_argument)
      << "a background member in an ensemble without background";
  EXPECT_THROW(mean.mean(), std::logic_error) << "no member added";
}

}  // namespace
}  // namespace escd

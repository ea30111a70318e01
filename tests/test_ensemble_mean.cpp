// How ensembles combine their members (models/common/ensemble_mean.h): the geometric mean of the
// probabilities, renormalised, except that only members with a background output judge whether a sound
// is present.
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

// The plain geometric mean over all outputs, renormalised: the rule for members that share their classes.
std::vector<float> geometric_mean(const std::vector<std::vector<float>>& members) {
  std::vector<double> product(members.front().size(), 1.0);
  for (const auto& m : members) {
    for (size_t c = 0; c < m.size(); ++c) product[c] *= m[c];
  }
  double total = 0;
  for (double& p : product) total += (p = std::pow(p, 1.0 / static_cast<double>(members.size())));
  std::vector<float> out;
  for (double p : product) out.push_back(static_cast<float>(p / total));
  return out;
}

TEST(EnsembleMean, WithoutBackgroundItIsTheGeometricMean) {
  EnsembleMean mean(kPlain);
  mean.add({0.6f, 0.3f, 0.1f}, kPlain);
  mean.add({0.0f, 0.9f, 0.1f}, kPlain);
  // rain sqrt(0.27) and crickets sqrt(0.01); dog is vetoed by the member that gives it 0, where the
  // mean of probabilities would have left it 0.3.
  const float z = std::sqrt(0.27f) + 0.1f;
  expect_near(mean.mean(), {0.0f, std::sqrt(0.27f) / z, 0.1f / z});
  mean.clear();
  mean.add({0.2f, 0.2f, 0.6f}, kPlain);
  EXPECT_EQ(mean.members(), 1u);
  expect_near(mean.mean(), {0.2f, 0.2f, 0.6f});
}

TEST(EnsembleMean, MembersThatAllHaveBackgroundTakeThePlainGeometricMean) {
  const std::vector<std::vector<float>> members{{0.4f, 0.3f, 0.1f, 0.2f}, {0.1f, 0.5f, 0.2f, 0.2f}, {0.3f, 0.3f, 0.3f, 0.1f}};
  EnsembleMean mean(kWithBackground);
  for (const auto& m : members) mean.add(m, kWithBackground);
  expect_near(mean.mean(), geometric_mean(members));
}

// An empty room: the member that can say "nothing here" does; the one that cannot still names its
// likeliest sound. Averaged plainly, background would get 0.45 and crickets 0.5: an event. Here
// background is the judging member's 0.9 or more.
TEST(EnsembleMean, BackgroundIsJudgedByTheMembersThatHaveIt) {
  EnsembleMean mean(kWithBackground);
  mean.add({0.02f, 0.02f, 0.06f, 0.9f}, kWithBackground);
  mean.add({0.0f, 0.0f, 1.0f}, kPlain);
  const std::vector<float> got = mean.mean();
  // Given a sound the first member says 0.2 / 0.2 / 0.6, the second 0 / 0 / 1: Q = 0 / 0 / sqrt(0.6).
  // Background 0.9 and the sounds' total 0.1 come from the first member alone.
  const float q = std::sqrt(0.6f), denominator = 0.9f + 0.1f * q;
  expect_near(got, {0.0f, 0.0f, 0.1f * q / denominator, 0.9f / denominator});
  EXPECT_NEAR(std::accumulate(got.begin(), got.end(), 0.0), 1.0, 1e-6);
}

TEST(EnsembleMean, AMemberCertainOfBackgroundSpreadsItsSoundEvenly) {
  EnsembleMean mean(kWithBackground);
  mean.add({0.0f, 0.0f, 0.0f, 1.0f}, kWithBackground);
  mean.add({0.4f, 0.0f, 0.0f, 0.6f}, kWithBackground);
  // The first member's sound total is 0: background takes (almost) everything, and what is left goes
  // to the second member's dog, since the first spreads its p(class | a sound) evenly.
  const std::vector<float> got = mean.mean();
  for (float p : got) EXPECT_FALSE(std::isnan(p));
  EXPECT_NEAR(got[3], 1.0f, 1e-6);
  EXPECT_GT(got[0], 0.0f);
  EXPECT_GT(got[0], 1e6f * got[1]);
  EXPECT_EQ(got[1], got[2]);
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
  // Given a sound: dog sqrt(0.25 * 0.5), rain sqrt(0.5 * 0.25), crickets sqrt(0.25 * 0.25).
  EXPECT_NEAR(got[1] / got[0], 1.0, 1e-3);
  EXPECT_NEAR(got[2] / got[0], 0.25 / std::sqrt(0.125), 1e-3);
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

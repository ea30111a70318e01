// The sweep of discovery configs a previous esc-mqtt left retained (daemon/mqtt_stale_configs.h),
// with a made-up clock: which are cleared, and when.
#include <gtest/gtest.h>

#include "mqtt_stale_configs.h"

namespace escd::daemon {
namespace {

using namespace std::chrono_literals;
using Clock = StaleConfigSweep::Clock;

const std::string kDog = "homeassistant/binary_sensor/escd_main/mamba_dog/config";
const std::string kRain = "homeassistant/binary_sensor/escd_main/mamba_rain/config";
const std::string kOther = "homeassistant/binary_sensor/escd_other/mamba_rain/config";

StaleConfigSweep::Wanted wants(std::optional<std::set<std::string>> topics) {
  return [topics](size_t) { return topics; };
}

std::vector<std::string> topics_of(const std::vector<Publication>& all) {
  std::vector<std::string> out;
  for (const Publication& p : all) {
    EXPECT_TRUE(p.payload.empty() && p.retain && p.qos == 1) << p.topic;
    out.push_back(p.topic);
  }
  return out;
}

TEST(StaleConfigSweep, OneFilterPerNode) {
  const StaleConfigSweep sweep("homeassistant", {"escd_main", "escd_attic"});
  EXPECT_EQ(sweep.filters(), (std::vector<std::string>{"homeassistant/+/escd_main/+/config",
                                                       "homeassistant/+/escd_attic/+/config"}));
}

TEST(StaleConfigSweep, RetainedConfigsNotWantedAreClearedAfterTheSettleTime) {
  StaleConfigSweep sweep("homeassistant", {"escd_main"}, 1000ms);
  const Clock::time_point t0 = Clock::now();
  sweep.start(t0);
  sweep.on_message(kDog, "{}", true);
  sweep.on_message(kRain, "{}", true);
  sweep.on_message(kOther, "{}", true);  // another node's
  EXPECT_TRUE(sweep.finish(t0 + 500ms, wants(std::set<std::string>{kDog})).clear.empty());  // still settling
  const auto step = sweep.finish(t0 + 1000ms, wants(std::set<std::string>{kDog}));
  EXPECT_EQ(topics_of(step.clear), std::vector<std::string>{kRain});
  EXPECT_EQ(step.unsubscribe, sweep.filters());
  // Done until the next connection.
  sweep.on_message(kRain, "{}", true);
  EXPECT_TRUE(sweep.finish(t0 + 5s, wants(std::set<std::string>{})).unsubscribe.empty());
}

TEST(StaleConfigSweep, ALiveMessageEndsTheSettlingAndLaterRetainedOnesAreIgnored) {
  StaleConfigSweep sweep("homeassistant", {"escd_main"}, 10s);
  const Clock::time_point t0 = Clock::now();
  sweep.start(t0);
  sweep.on_message(kRain, "{}", true);
  sweep.on_message(kDog, "{}", false);  // esc-mqtt's own, live
  sweep.on_message(kOther, "", true);
  EXPECT_EQ(topics_of(sweep.finish(t0 + 1ms, wants(std::set<std::string>{kDog})).clear), std::vector<std::string>{kRain});
}

TEST(StaleConfigSweep, NothingIsClearedUntilTheEscdSaidWhatItWants) {
  StaleConfigSweep sweep("homeassistant", {"escd_main"}, 100ms);
  const Clock::time_point t0 = Clock::now();
  sweep.start(t0);
  sweep.on_message(kRain, "{}", true);
  const auto waiting = sweep.finish(t0 + 1s, wants(std::nullopt));  // no health yet
  EXPECT_TRUE(waiting.clear.empty());
  EXPECT_TRUE(waiting.unsubscribe.empty());
  EXPECT_EQ(topics_of(sweep.finish(t0 + 2s, wants(std::set<std::string>{kDog})).clear), std::vector<std::string>{kRain});
}

TEST(StaleConfigSweep, NothingBeforeAConnectionAndEmptyConfigsAreNotCollected) {
  StaleConfigSweep sweep("homeassistant", {"escd_main"}, 100ms);
  const Clock::time_point t0 = Clock::now();
  sweep.on_message(kRain, "{}", true);  // no connection yet
  EXPECT_TRUE(sweep.finish(t0 + 1s, wants(std::set<std::string>{})).unsubscribe.empty());
  sweep.start(t0);
  sweep.on_message(kRain, "", true);
  sweep.on_message("homeassistant/binary_sensor/escd_main/config", "{}", true);  // not <component>/<node>/<object>
  EXPECT_TRUE(sweep.finish(t0 + 1s, wants(std::set<std::string>{})).clear.empty());
}

}  // namespace
}  // namespace escd::daemon

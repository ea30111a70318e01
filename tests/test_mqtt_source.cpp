// What one escd's messages become on MQTT (daemon/mqtt_source.h), with a made-up clock: discovery
// from health, ON/OFF from events, escd going silent or restarting, throttled top labels and levels.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "mqtt_source.h"

namespace escd::daemon {
namespace {

using Json = nlohmann::json;
using namespace std::chrono_literals;
using Clock = SourceBridge::Clock;

Json health(double uptime, const std::vector<std::string>& labels = {"dog", "rain", "background"}) {
  return {{"uptime_s", uptime}, {"models", {{"mamba", {{"windows", 3}, {"labels", labels}}}}}};
}
Json event(const std::string& type, const std::string& label) {
  return {{"model", "mamba"}, {"type", type}, {"label", label}, {"score", 0.9}, {"t", 6.0}};
}
Json scores(const std::string& label, double p) {
  return {{"model", "mamba"}, {"top", {{{"label", label}, {"p", p}}}}, {"warming_up", false}, {"t", 7.0}};
}

std::vector<std::string> topics_of(const std::vector<Publication>& all) {
  std::vector<std::string> out;
  for (const Publication& p : all) out.push_back(p.topic);
  return out;
}
const Publication* last_on(const std::vector<Publication>& all, const std::string& topic) {
  const auto it = std::find_if(all.rbegin(), all.rend(), [&](const Publication& p) { return p.topic == topic; });
  return it == all.rend() ? nullptr : &*it;
}

class SourceBridgeTest : public ::testing::Test {
 protected:
  SourceBridgeTest() {
    options_.offline_after_s = 5;
    options_.top_interval_s = 1;
    options_.level_interval_s = 5;
  }
  SourceBridge make() { return SourceBridge({"kitchen", "", {"tcp://127.0.0.1:5556", "", ""}, ""}, options_, "0.1.0"); }

  MqttBridgeOptions options_;
  Clock::time_point t0_ = Clock::now();
};

TEST_F(SourceBridgeTest, TheFirstHealthPublishesDiscoveryThenEveryClassOffThenOnline) {
  SourceBridge b = make();
  const auto out = b.on_message("esc.health", health(1.0), t0_);
  EXPECT_EQ(topics_of(out), (std::vector<std::string>{
                                "homeassistant/binary_sensor/escd_kitchen/mamba_dog/config",
                                "homeassistant/binary_sensor/escd_kitchen/mamba_rain/config",
                                "homeassistant/sensor/escd_kitchen/mamba_top/config",
                                "homeassistant/sensor/escd_kitchen/level/config",
                                "escd/kitchen/mamba/class/dog",
                                "escd/kitchen/mamba/class/rain",
                                "escd/kitchen/availability",
                            }));
  EXPECT_EQ(out[4].payload, "OFF");
  EXPECT_TRUE(out[4].retain);
  EXPECT_EQ(out.back().payload, "online");
  EXPECT_TRUE(out.back().retain);
  EXPECT_TRUE(b.online());
  // The same health again: nothing new.
  EXPECT_TRUE(b.on_message("esc.health", health(2.0), t0_ + 1s).empty());
}

// Through an esc-proxy one endpoint carries every microphone: a device takes only its own source's
// messages, and never the proxy's own health.
TEST_F(SourceBridgeTest, ThroughAProxyOnlyItsOwnSourceCounts) {
  SourceBridge b({"kitchen", "", {"tcp://127.0.0.1:5566", "", ""}, "kitchen"}, options_, "0.1.0");
  EXPECT_TRUE(b.on_message("esc.health.hall", health(1.0), t0_).empty());
  EXPECT_TRUE(b.on_message("esc.proxy.gateway", {{"messages", 10}}, t0_).empty());
  EXPECT_FALSE(b.online());
  EXPECT_FALSE(b.on_message("esc.health.kitchen", health(1.0), t0_).empty());
  EXPECT_TRUE(b.online());
  // The proxy's messages do not keep a silent escd online.
  b.on_message("esc.proxy.gateway", {{"messages", 20}}, t0_ + 6s);
  b.on_tick(t0_ + 6s);
  EXPECT_FALSE(b.online());
}

TEST_F(SourceBridgeTest, AnEventIsForwardedAndTurnsItsClassOnThenOff) {
  SourceBridge b = make();
  b.on_message("esc.health", health(1.0), t0_);
  auto out = b.on_message("esc.event.mamba", event("start", "dog"), t0_ + 1s);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[0].topic, "escd/kitchen/mamba/event");
  EXPECT_FALSE(out[0].retain);
  EXPECT_EQ(Json::parse(out[0].payload)["label"], "dog");
  EXPECT_EQ(out[1].topic, "escd/kitchen/mamba/class/dog");
  EXPECT_EQ(out[1].payload, "ON");
  EXPECT_TRUE(out[1].retain);
  EXPECT_EQ(out[1].qos, 1);
  out = b.on_message("esc.event.mamba", event("end", "dog"), t0_ + 2s);
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(out[1].payload, "OFF");
}

TEST_F(SourceBridgeTest, ClassesNotChosenGetNoStateButTheirEventsAreForwarded) {
  options_.classes = {"rain"};
  SourceBridge b = make();
  b.on_message("esc.health", health(1.0), t0_);
  const auto out = b.on_message("esc.event.mamba", event("start", "dog"), t0_ + 1s);
  EXPECT_EQ(topics_of(out), (std::vector<std::string>{"escd/kitchen/mamba/event"}));
}

TEST_F(SourceBridgeTest, SilenceMakesEscdOfflineAndEndsItsOpenEvents) {
  SourceBridge b = make();
  b.on_message("esc.health", health(1.0), t0_);
  b.on_message("esc.event.mamba", event("start", "rain"), t0_ + 1s);
  EXPECT_TRUE(b.on_tick(t0_ + 5s).empty());  // 4 s of silence: still online
  const auto out = b.on_tick(t0_ + 6500ms);
  EXPECT_EQ(topics_of(out), (std::vector<std::string>{"escd/kitchen/mamba/class/rain", "escd/kitchen/availability"}));
  EXPECT_EQ(out[0].payload, "OFF");
  EXPECT_EQ(out[1].payload, "offline");
  EXPECT_FALSE(b.online());
  EXPECT_TRUE(b.on_tick(t0_ + 20s).empty());
  // Back: online again, with no discovery repeated (the labels did not change).
  const auto back = b.on_message("esc.health", health(0.5), t0_ + 30s);
  EXPECT_EQ(topics_of(back), (std::vector<std::string>{"escd/kitchen/availability"}));
  EXPECT_EQ(back[0].payload, "online");
}

TEST_F(SourceBridgeTest, ARestartedEscdHasNoOpenEvents) {
  SourceBridge b = make();
  b.on_message("esc.health", health(100.0), t0_);
  b.on_message("esc.event.mamba", event("start", "dog"), t0_ + 1s);
  const auto out = b.on_message("esc.health", health(0.8), t0_ + 2s);  // smaller uptime: a new process
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].topic, "escd/kitchen/mamba/class/dog");
  EXPECT_EQ(out[0].payload, "OFF");
}

TEST_F(SourceBridgeTest, NewLabelsRemoveTheEntitiesThatAreGone) {
  SourceBridge b = make();
  b.on_message("esc.health", health(1.0), t0_);
  const auto out = b.on_message("esc.health", health(2.0, {"dog", "siren"}), t0_ + 1s);
  const Publication* rain = last_on(out, "homeassistant/binary_sensor/escd_kitchen/mamba_rain/config");
  ASSERT_NE(rain, nullptr);
  EXPECT_EQ(rain->payload, "");  // an empty retained config deletes the entity
  EXPECT_TRUE(rain->retain);
  EXPECT_NE(last_on(out, "homeassistant/binary_sensor/escd_kitchen/mamba_siren/config"), nullptr);
}

// escd waiting for its microphone (daemon/wait_for_device.cpp) lists no models: the entities stay.
TEST_F(SourceBridgeTest, HealthWithoutModelsDeletesNoEntity) {
  SourceBridge b = make();
  b.on_message("esc.health", health(1.0), t0_);
  const Json waiting = {{"uptime_s", 2.0},
                        {"input", {{"device", "default input"}, {"connected", false}, {"waiting_for_device", true}}},
                        {"models", Json::object()}};
  const Json waiting_with_labels = {{"uptime_s", 3.0}, {"input", {{"waiting_for_device", true}}},
                                    {"models", {{"mamba", {{"labels", {"siren"}}}}}}};
  for (const Json& body : {waiting, Json{{"uptime_s", 2.5}, {"models", Json::object()}}, Json{{"uptime_s", 2.7}},
                           waiting_with_labels}) {
    for (const Publication& p : b.on_message("esc.health", body, t0_ + 1s)) {
      EXPECT_FALSE(p.topic.rfind("homeassistant/", 0) == 0) << body.dump() << " published " << p.topic << " '" << p.payload << "'";
    }
  }
  EXPECT_EQ(b.models().size(), 1u);
  EXPECT_EQ(b.config_topics().size(), 4u);
  const auto full = topics_of(b.full_state());
  EXPECT_NE(std::find(full.begin(), full.end(), "homeassistant/binary_sensor/escd_kitchen/mamba_rain/config"), full.end());
}

TEST_F(SourceBridgeTest, TopLabelsGoAtOnceWhenTheyChangeElseAtMostEveryInterval) {
  SourceBridge b = make();
  auto out = b.on_message("esc.scores.mamba", scores("dog", 0.8), t0_);
  const Publication* top = last_on(out, "escd/kitchen/mamba/top");
  ASSERT_NE(top, nullptr);
  EXPECT_TRUE(top->retain);
  const Json state = Json::parse(top->payload);
  EXPECT_EQ(state["label"], "dog");
  EXPECT_DOUBLE_EQ(state["p"].get<double>(), 0.8);
  EXPECT_EQ(state["warming_up"], false);
  EXPECT_EQ(last_on(b.on_message("esc.scores.mamba", scores("dog", 0.7), t0_ + 500ms), "escd/kitchen/mamba/top"), nullptr);
  EXPECT_NE(last_on(b.on_message("esc.scores.mamba", scores("rain", 0.6), t0_ + 600ms), "escd/kitchen/mamba/top"), nullptr);
  EXPECT_NE(last_on(b.on_message("esc.scores.mamba", scores("rain", 0.6), t0_ + 1700ms), "escd/kitchen/mamba/top"), nullptr);
  // A window escd calls background is "background", whatever its top class.
  Json background = scores("dog", 0.3);
  background["background"] = true;
  background["background_p"] = 0.6;
  out = b.on_message("esc.scores.mamba", background, t0_ + 1800ms);
  EXPECT_EQ(Json::parse(last_on(out, "escd/kitchen/mamba/top")->payload)["label"], "background");
}

TEST_F(SourceBridgeTest, LevelsAreThrottled) {
  SourceBridge b = make();
  const Json level = {{"rms", 0.1}, {"dbfs", -20.0}, {"peak", 0.3}};
  const auto out = b.on_message("esc.level", level, t0_);
  const Publication* first = last_on(out, "escd/kitchen/level");
  ASSERT_NE(first, nullptr);
  EXPECT_DOUBLE_EQ(Json::parse(first->payload)["dbfs"].get<double>(), -20.0);
  EXPECT_EQ(last_on(b.on_message("esc.level", level, t0_ + 4s), "escd/kitchen/level"), nullptr);
  EXPECT_NE(last_on(b.on_message("esc.level", level, t0_ + 5s), "escd/kitchen/level"), nullptr);
}

TEST_F(SourceBridgeTest, FieldsOfTheWrongTypeDropTheMessageNotTheBridge) {
  SourceBridge b = make();
  EXPECT_NO_THROW(b.on_message("esc.health", {{"uptime_s", "long"}, {"models", {{"mamba", {{"labels", {"dog"}}}}}}}, t0_));
  EXPECT_NO_THROW(b.on_message("esc.event.mamba", {{"type", 1}, {"label", {"dog"}}}, t0_));
  EXPECT_NO_THROW(b.on_message("esc.scores.mamba", {{"top", {{{"label", 3}, {"p", "high"}}}}}, t0_));
  EXPECT_NO_THROW(b.on_message("esc.level", {{"dbfs", "loud"}}, t0_));
  EXPECT_NO_THROW(b.on_message("esc.health", Json::array({1, 2}), t0_));
  EXPECT_TRUE(b.online());  // escd is there, even when what it says is not understood
  const auto out = b.on_message("esc.health", health(1.0), t0_ + 1s);
  EXPECT_NE(last_on(out, "homeassistant/binary_sensor/escd_kitchen/mamba_dog/config"), nullptr);
}

TEST_F(SourceBridgeTest, TheFullStateIsEverythingRetainedAsItStands) {
  SourceBridge b = make();
  b.on_message("esc.health", health(1.0), t0_);
  b.on_message("esc.event.mamba", event("start", "rain"), t0_);
  b.on_message("esc.scores.mamba", scores("rain", 0.9), t0_);
  b.on_message("esc.level", {{"rms", 0.1}, {"dbfs", -20.0}, {"peak", 0.3}}, t0_);
  const auto all = b.full_state();
  for (const Publication& p : all) EXPECT_TRUE(p.retain) << p.topic;
  EXPECT_EQ(last_on(all, "escd/kitchen/mamba/class/rain")->payload, "ON");
  EXPECT_EQ(last_on(all, "escd/kitchen/mamba/class/dog")->payload, "OFF");
  EXPECT_NE(last_on(all, "homeassistant/binary_sensor/escd_kitchen/mamba_dog/config"), nullptr);
  EXPECT_NE(last_on(all, "escd/kitchen/mamba/top"), nullptr);
  EXPECT_NE(last_on(all, "escd/kitchen/level"), nullptr);
  EXPECT_EQ(all.back().topic, "escd/kitchen/availability");
  EXPECT_EQ(all.back().payload, "online");
  options_.discovery = false;
  SourceBridge quiet = make();
  quiet.on_message("esc.health", health(1.0), t0_);
  EXPECT_EQ(last_on(quiet.full_state(), "homeassistant/sensor/escd_kitchen/level/config"), nullptr);
}

}  // namespace
}  // namespace escd::daemon

// esc-mqtt's topics and Home Assistant discovery configs (daemon/mqtt_discovery.h): pure functions,
// checked field by field against what Home Assistant's MQTT integration reads.
#include <gtest/gtest.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "mqtt_discovery.h"

namespace escd::daemon {
namespace {

using Json = nlohmann::json;

const Publication* find(const std::vector<Publication>& all, const std::string& topic) {
  const auto it = std::find_if(all.begin(), all.end(), [&](const Publication& p) { return p.topic == topic; });
  return it == all.end() ? nullptr : &*it;
}

// Every key of `expected` is in `config` with that value.
void expect_fields(const Json& config, const Json& expected) {
  for (const auto& [key, value] : expected.items()) EXPECT_EQ(config.value(key, Json()), value) << key;
}

class Discovery : public ::testing::Test {
 protected:
  MqttTopics topics_{"escd"};
  DiscoveryDevice device_{"kitchen", "escd kitchen", "0.1.0"};
  ModelLabels one_model_{{"mamba", {"dog", "crying_baby", "background"}}};
};

TEST(MqttTopics, EveryTopicLivesUnderThePrefixAndTheSource) {
  const MqttTopics t("home/escd");
  EXPECT_EQ(t.bridge_availability(), "home/escd/bridge/availability");
  EXPECT_EQ(t.availability("kitchen"), "home/escd/kitchen/availability");
  EXPECT_EQ(t.level("kitchen"), "home/escd/kitchen/level");
  EXPECT_EQ(t.top("kitchen", "mamba"), "home/escd/kitchen/mamba/top");
  EXPECT_EQ(t.event("kitchen", "liquid_s4"), "home/escd/kitchen/liquid_s4/event");
  EXPECT_EQ(t.class_state("kitchen", "mamba", "glass_breaking"), "home/escd/kitchen/mamba/class/glass_breaking");
  // A label that is not its own slug gets a hash of itself: no topic wildcards, no collisions.
  const std::string odd = t.class_state("kitchen", "mamba", "Glass Breaking/+#");
  EXPECT_EQ(odd.rfind("home/escd/kitchen/mamba/class/glass_breaking____", 0), 0u) << odd;
  EXPECT_EQ(odd.find_first_of("+# "), std::string::npos) << odd;
}

TEST(MqttTopics, SlugsKeepOnlyLowerCaseLettersDigitsAndUnderscores) {
  EXPECT_EQ(topic_slug("crying_baby"), "crying_baby");
  EXPECT_EQ(topic_slug("Door-Wood Knock2"), "door_wood_knock2");
}

TEST(MqttTopics, UsersLabelsThatSlugAlikeStayApart) {
  EXPECT_EQ(label_slug("crying_baby"), "crying_baby");  // ESC-50's labels are their own slugs
  EXPECT_NE(label_slug("Kettle"), label_slug("kettle"));
  ASSERT_EQ(topic_slug("ä"), topic_slug("ö"));  // two bytes each, both '_'
  EXPECT_NE(label_slug("ä"), label_slug("ö"));
  EXPECT_NE(label_slug("smoke alarm"), label_slug("smoke-alarm"));
  EXPECT_EQ(label_slug("smoke alarm"), label_slug("smoke alarm"));  // stable
  EXPECT_EQ(label_slug("smoke alarm").rfind("smoke_alarm_", 0), 0u);
}

TEST_F(Discovery, ABinarySensorPerClassButBackgroundWithEverythingHomeAssistantNeeds) {
  const auto configs = discovery_configs(topics_, "homeassistant", device_, one_model_, {});
  ASSERT_EQ(configs.size(), 4u);  // dog, crying_baby, the top label, the level
  const Publication* dog = find(configs, "homeassistant/binary_sensor/escd_kitchen/mamba_dog/config");
  ASSERT_NE(dog, nullptr);
  EXPECT_TRUE(dog->retain);
  EXPECT_EQ(dog->qos, 1);
  const Json c = Json::parse(dog->payload);
  expect_fields(c, {{"name", "Dog"},
                    {"unique_id", "escd_kitchen_mamba_dog"},
                    {"state_topic", "escd/kitchen/mamba/class/dog"},
                    {"payload_on", "ON"},
                    {"payload_off", "OFF"},
                    {"device_class", "sound"},
                    {"availability_mode", "all"}});
  ASSERT_EQ(c["availability"].size(), 2u);
  EXPECT_EQ(c["availability"][0]["topic"], "escd/bridge/availability");
  EXPECT_EQ(c["availability"][1]["topic"], "escd/kitchen/availability");
  for (const Json& a : c["availability"]) {
    EXPECT_EQ(a["payload_available"], "online");
    EXPECT_EQ(a["payload_not_available"], "offline");
  }
  expect_fields(c["device"], {{"identifiers", {"escd_kitchen"}}, {"name", "escd kitchen"}, {"sw_version", "0.1.0"}});
  EXPECT_EQ(c["origin"]["name"], "esc-mqtt");
  const Json baby = Json::parse(find(configs, "homeassistant/binary_sensor/escd_kitchen/mamba_crying_baby/config")->payload);
  EXPECT_EQ(baby["name"], "Crying baby");
  EXPECT_EQ(find(configs, "homeassistant/binary_sensor/escd_kitchen/mamba_background/config"), nullptr);
}

TEST_F(Discovery, TopLabelAndLevelSensorsReadTheirJsonStates) {
  const auto configs = discovery_configs(topics_, "ha", device_, one_model_, {});
  const Publication* top = find(configs, "ha/sensor/escd_kitchen/mamba_top/config");
  const Publication* level = find(configs, "ha/sensor/escd_kitchen/level/config");
  ASSERT_NE(top, nullptr);
  ASSERT_NE(level, nullptr);
  EXPECT_TRUE(top->retain && level->retain);
  const Json t = Json::parse(top->payload), l = Json::parse(level->payload);
  expect_fields(t, {{"state_topic", "escd/kitchen/mamba/top"},
                    {"json_attributes_topic", "escd/kitchen/mamba/top"},
                    {"value_template", "{{ value_json.label }}"},
                    {"unique_id", "escd_kitchen_mamba_top"}});
  expect_fields(l, {{"state_topic", "escd/kitchen/level"},
                    {"value_template", "{{ value_json.dbfs }}"},
                    {"unit_of_measurement", "dBFS"},
                    {"state_class", "measurement"},
                    {"unique_id", "escd_kitchen_level"}});
  EXPECT_EQ(t["device"], l["device"]);  // one device per escd
}

TEST_F(Discovery, ChosenClassesOnlyAndSeveralModelsNameTheirEntities) {
  const ModelLabels two{{"mamba", {"dog", "rain", "background"}}, {"liquid_s4", {"dog", "rain"}}};
  const auto configs = discovery_configs(topics_, "homeassistant", device_, two, {"dog"});
  std::vector<std::string> binary;
  for (const Publication& p : configs) {
    if (p.topic.find("/binary_sensor/") != std::string::npos) binary.push_back(p.topic);
  }
  EXPECT_EQ(binary, (std::vector<std::string>{"homeassistant/binary_sensor/escd_kitchen/mamba_dog/config",
                                              "homeassistant/binary_sensor/escd_kitchen/liquid_s4_dog/config"}));
  const Json dog = Json::parse(find(configs, binary[1])->payload);
  EXPECT_EQ(dog["name"], "Dog (liquid_s4)");
  EXPECT_EQ(dog["state_topic"], "escd/kitchen/liquid_s4/class/dog");
  EXPECT_NE(find(configs, "homeassistant/sensor/escd_kitchen/liquid_s4_top/config"), nullptr);
}

TEST(ExposedLabels, BackgroundNeverAndTheChosenOnesInTheModelsOrder) {
  EXPECT_EQ(exposed_labels({"a", "background", "b"}, {}), (std::vector<std::string>{"a", "b"}));
  EXPECT_EQ(exposed_labels({"a", "b", "c"}, {"c", "a", "zzz"}), (std::vector<std::string>{"a", "c"}));
}

}  // namespace
}  // namespace escd::daemon

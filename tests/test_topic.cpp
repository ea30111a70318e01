// escd's topic names: esc.<kind>[.<model>].<source>, split and joined the same way everywhere.
#include <gtest/gtest.h>

#include "topic.h"

namespace escd::daemon {
namespace {

TEST(Topic, NamesJoinAndSplitBackWithAndWithoutModelAndSource) {
  const Topic scores{"scores", "mamba", "kitchen"};
  EXPECT_EQ(topic_name(scores), "esc.scores.mamba.kitchen");
  EXPECT_EQ(topic_name({"level", "", "kitchen"}), "esc.level.kitchen");
  EXPECT_EQ(topic_name({"health", "", ""}), "esc.health");
  for (const std::string name : {"esc.scores.mamba.kitchen", "esc.event.ensemble.hall-2", "esc.recording.vjepa2.a_b",
                                 "esc.level.kitchen", "esc.health.x", "esc.spectrogram.garage", "esc.proxy.gateway",
                                 "esc.scores.mamba", "esc.level"}) {
    const auto topic = parse_topic(name);
    ASSERT_TRUE(topic) << name;
    EXPECT_EQ(topic_name(*topic), name);
  }
  const auto parsed = parse_topic("esc.scores.mamba.kitchen");
  EXPECT_EQ(parsed->kind, "scores");
  EXPECT_EQ(parsed->model, "mamba");
  EXPECT_EQ(parsed->source, "kitchen");
  EXPECT_EQ(parse_topic("esc.level")->source, "");  // an escd from before sources had names
}

TEST(Topic, OtherNamesAreNotEscds) {
  for (const std::string name : {"", "esc", "esc.", "mqtt.level.x", "esc.weather.x", "esc.scores", "esc.scores..x",
                                 "esc.level.a.b", "esc.scores.mamba.a.b", "esc.level.bad!name"}) {
    EXPECT_FALSE(parse_topic(name)) << name;
  }
}

TEST(Topic, TheStreamIsTheTopicWithoutItsSource) {
  EXPECT_EQ(stream_of("esc.scores.mamba.kitchen"), "esc.scores.mamba");
  EXPECT_EQ(stream_of("esc.health.kitchen"), "esc.health");
  EXPECT_EQ(stream_of("esc.health"), "esc.health");
  EXPECT_EQ(stream_of("something.else"), "something.else");
  EXPECT_EQ(with_source("esc.level", "hall"), "esc.level.hall");
  EXPECT_EQ(with_source("esc.level", ""), "esc.level");
  // A subscription is a prefix: the stream's name matches all of its sources.
  EXPECT_EQ(with_source("esc.scores.mamba", "kitchen").rfind("esc.scores.mamba", 0), 0u);
}

TEST(Topic, SourceNamesAreOneTopicPartAndTheDefaultIsOne) {
  EXPECT_TRUE(is_source_name("kitchen"));
  EXPECT_TRUE(is_source_name("Site_3-mic-2"));
  EXPECT_TRUE(is_source_name(std::string(64, 'a')));
  EXPECT_FALSE(is_source_name(std::string(65, 'a')));
  EXPECT_FALSE(is_source_name(""));
  EXPECT_FALSE(is_source_name("a.b"));
  EXPECT_FALSE(is_source_name("a b"));
  EXPECT_FALSE(is_source_name("küche"));
  EXPECT_TRUE(is_source_name(default_source_name())) << default_source_name();
}

}  // namespace
}  // namespace escd::daemon

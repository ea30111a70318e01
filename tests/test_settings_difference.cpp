// first_difference names the setting that keeps two runs apart, as the refusals of a resume or of
// mismatched ranks print it: down to the nested key, with both values, an absent key as such.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>

#include "settings_difference.h"

namespace escd::train {
namespace {

TEST(SettingsDifference, NamesTheNestedKeyAndBothValues) {
  const nlohmann::json was = {{"model", "mamba"}, {"config", {{"epochs", 120}, {"lr", 2e-3}}}};
  nlohmann::json now = was;
  now["config"]["epochs"] = 240;
  const auto difference = first_difference(was, now);
  ASSERT_TRUE(difference);
  EXPECT_EQ(difference->name, "config.epochs");
  EXPECT_EQ(difference->was, "120");
  EXPECT_EQ(difference->now, "240");
  EXPECT_FALSE(first_difference(was, was)) << "equal settings differ nowhere";
}

TEST(SettingsDifference, AKeyOneSideLacksReadsAbsentNotNull) {
  const nlohmann::json with_null = {{"teachers", nullptr}}, without = nlohmann::json::object();
  const auto added = first_difference(without, with_null);
  ASSERT_TRUE(added);
  EXPECT_EQ(added->name, "teachers");
  EXPECT_EQ(added->was, "absent");
  EXPECT_EQ(added->now, "null");
  const auto removed = first_difference(with_null, without);
  ASSERT_TRUE(removed);
  EXPECT_EQ(removed->now, "absent");
}

TEST(SettingsDifference, LongValuesAreCutAndStayValidText) {
  // 150 two-byte characters: the 200-byte cut falls inside one of them.
  std::string long_text;
  for (int i = 0; i < 150; ++i) long_text += "\xc3\xa9";
  const auto difference = first_difference({{"note", long_text}}, {{"note", "short"}});
  ASSERT_TRUE(difference);
  EXPECT_LE(difference->was.size(), 203u) << difference->was;  // at most 200 bytes and "..."
  EXPECT_GE(difference->was.size(), 200u) << difference->was;
  EXPECT_EQ(difference->was.substr(difference->was.size() - 3), "...");
  EXPECT_NO_THROW((void)nlohmann::json(difference->was).dump()) << "the cut left invalid UTF-8";
}

TEST(SettingsDifference, RecordedSettingsKeepOnlyTheSettingsKeys) {
  const nlohmann::json summary = {{"model", "vjepa2"}, {"test_accuracy", 0.8}, {"date", "today"}};
  const nlohmann::json settings = {{"model", "vjepa2"}, {"data_fingerprint", "abc"}};
  const nlohmann::json recorded = recorded_settings(summary, settings);
  EXPECT_EQ(recorded, nlohmann::json({{"model", "vjepa2"}}));
  const auto difference = first_difference(recorded, settings);
  ASSERT_TRUE(difference);
  EXPECT_EQ(difference->name, "data_fingerprint");
  EXPECT_EQ(difference->was, "absent");
}

}  // namespace
}  // namespace escd::train

// The start-up warnings about who can read the broker password (daemon/mqtt_secrets.h).
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <fstream>

#include "mqtt_secrets.h"
#include "test_support.h"

namespace escd::daemon {
namespace {

std::string written(const escd::test::TempDir& dir, const std::string& name, mode_t mode) {
  const std::string path = dir.path(name);
  std::ofstream(path) << "s3cret\n";
  chmod(path.c_str(), mode);
  return path;
}

TEST(PasswordExposure, AnInlinePasswordInAWorldReadableFileIsWarnedAbout) {
  escd::test::TempDir dir;
  MqttBridgeOptions o;
  o.broker.username = "escd";
  o.broker.password = "s3cret";
  const std::string open = written(dir, "open.toml", 0644);
  const auto warnings = password_exposure_warnings(o, open);
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find(open + ": [broker] password is readable by every user (mode 0644"), std::string::npos)
      << warnings[0];
  EXPECT_EQ(warnings[0].find("s3cret"), std::string::npos);
  EXPECT_TRUE(password_exposure_warnings(o, written(dir, "private.toml", 0600)).empty());
  o.broker.password.clear();
  EXPECT_TRUE(password_exposure_warnings(o, open).empty()) << "no password, nothing to hide";
}

TEST(PasswordExposure, APasswordFileReadableByOthersIsWarnedAbout) {
  escd::test::TempDir dir;
  MqttBridgeOptions o;
  o.broker.username = "escd";
  o.broker.password_file = written(dir, "password", 0604);
  const auto warnings = password_exposure_warnings(o, "");
  ASSERT_EQ(warnings.size(), 1u);
  EXPECT_NE(warnings[0].find("password_file is readable by every user (mode 0604)"), std::string::npos) << warnings[0];
  o.broker.password_file = written(dir, "password-private", 0640);
  EXPECT_TRUE(password_exposure_warnings(o, "").empty());
}

}  // namespace
}  // namespace escd::daemon

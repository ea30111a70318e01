#include "mqtt_secrets.h"

#include <fmt/format.h>
#include <grp.h>
#include <sys/stat.h>

namespace escd::daemon {
namespace {

// The group's name, or its number when it has none.
std::string group_name(gid_t gid) {
  const group* g = getgrgid(gid);
  return g ? g->gr_name : std::to_string(gid);
}

}  // namespace

std::vector<std::string> password_exposure_warnings(const MqttBridgeOptions& options, const std::string& config_path) {
  std::vector<std::string> out;
  struct stat st {};
  if (!options.broker.password.empty() && !config_path.empty() && stat(config_path.c_str(), &st) == 0) {
    const std::string group = group_name(st.st_gid);
    const bool group_reads = (st.st_mode & S_IRGRP) && group != "root" && group != "escd";
    if ((st.st_mode & S_IROTH) || group_reads) {
      out.push_back(fmt::format("{}: [broker] password is readable by {} (mode {:04o}, group {}): make the file "
                                "root:escd 0640, or use password_file",
                                config_path, (st.st_mode & S_IROTH) ? "every user" : "group " + group,
                                st.st_mode & 07777, group));
    }
  }
  const std::string& file = options.broker.password_file;
  if (!file.empty() && stat(file.c_str(), &st) == 0 && (st.st_mode & S_IROTH)) {
    out.push_back(fmt::format("{}: [broker] password_file is readable by every user (mode {:04o}): chmod o-rwx it",
                              file, st.st_mode & 07777));
  }
  return out;
}

}  // namespace escd::daemon

// Who else can read esc-mqtt's broker password: a warning at start-up for an inline `password` in a
// config file that others (or a group other than root's and escd's) may read, and for a
// password_file readable by others. Warnings, not errors: the owner decides.
#pragma once

#include <string>
#include <vector>

#include "mqtt_options.h"

namespace escd::daemon {

// The warnings for `options` loaded from `config_path` ("" for none), each naming the file and its mode.
std::vector<std::string> password_exposure_warnings(const MqttBridgeOptions& options, const std::string& config_path);

}  // namespace escd::daemon

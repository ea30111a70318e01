#include "systemd_notify.h"

#include <systemd/sd-daemon.h>

#include <string>

namespace escd::daemon {

void attach_systemd(Pipeline& pipeline) {
  pipeline.on_ready = [](const std::string& status) {
    sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
  };
  // Health reports come from the processing loop every health_interval_s; they double as the
  // watchdog keep-alive (WatchdogSec must be a few intervals long).
  pipeline.on_health = [](const std::string& status) {
    sd_notify(0, ("WATCHDOG=1\nSTATUS=" + status).c_str());
  };
}

void systemd_status(const std::string& status) { sd_notify(0, ("WATCHDOG=1\nSTATUS=" + status).c_str()); }

}  // namespace escd::daemon

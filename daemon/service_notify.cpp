#include "service_notify.h"

#include <systemd/sd-daemon.h>

namespace escd::daemon {

void notify_ready(const std::string& status) { sd_notify(0, ("READY=1\nSTATUS=" + status).c_str()); }

void notify_status(const std::string& status) { sd_notify(0, ("STATUS=" + status).c_str()); }

void notify_status_alive(const std::string& status) { sd_notify(0, ("WATCHDOG=1\nSTATUS=" + status).c_str()); }

WatchdogFeeder::WatchdogFeeder() {
  uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) > 0 && watchdog_usec > 0) {
    period_ = std::chrono::microseconds(watchdog_usec / 4);
  }
}

void WatchdogFeeder::feed() {
  if (!enabled()) return;
  const auto now = std::chrono::steady_clock::now();
  if (now - last_ < period_) return;
  last_ = now;
  sd_notify(0, "WATCHDOG=1");
}

}  // namespace escd::daemon

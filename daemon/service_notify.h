// sd_notify for escd's services (Type=notify), without anything else of the daemon: READY=1 and
// STATUS= lines, and a watchdog feeder that sends WATCHDOG=1 at most four times per WatchdogSec.
// Without systemd (NOTIFY_SOCKET unset) every call is a no-op. Used by escd (systemd_notify.h
// attaches it to the pipeline) and esc-mqtt.
#pragma once

#include <chrono>
#include <string>

namespace escd::daemon {

// READY=1 with a STATUS= line.
void notify_ready(const std::string& status);
// STATUS= alone.
void notify_status(const std::string& status);
// STATUS= and WATCHDOG=1: a service that is waiting, not hanging.
void notify_status_alive(const std::string& status);

// WatchdogSec= (WATCHDOG_USEC): keep-alives from the caller's own loop, four per period, so that
// they stop exactly when that loop hangs.
class WatchdogFeeder {
 public:
  WatchdogFeeder();  // reads the unit's watchdog setting once
  bool enabled() const { return period_.count() > 0; }
  std::chrono::microseconds period() const { return period_; }
  // Sends WATCHDOG=1 if a quarter of the watchdog period has passed since the last one.
  void feed();

 private:
  std::chrono::microseconds period_{0};
  std::chrono::steady_clock::time_point last_{};  // epoch: the first feed() sends
};

}  // namespace escd::daemon

#include "systemd_notify.h"

#include <spdlog/spdlog.h>
#include <systemd/sd-daemon.h>

#include <chrono>
#include <memory>
#include <string>

namespace escd::daemon {

void attach_systemd(Pipeline& pipeline) {
  pipeline.on_ready = [](const std::string& status) {
    sd_notify(0, ("READY=1\nSTATUS=" + status).c_str());
  };
  pipeline.on_health = [](const std::string& status) { sd_notify(0, ("STATUS=" + status).c_str()); };

  // WatchdogSec= (WATCHDOG_USEC): keep-alives from the processing loop itself, four per period, so
  // that they stop exactly when the loop hangs (a stuck model, a blocked device read) and not when
  // health reports are merely configured to be rare.
  uint64_t watchdog_usec = 0;
  if (sd_watchdog_enabled(0, &watchdog_usec) <= 0 || watchdog_usec == 0) return;
  const auto period = std::chrono::microseconds(watchdog_usec / 4);
  spdlog::info("systemd watchdog: {} ms, fed every {} ms from the processing loop", watchdog_usec / 1000,
               period.count() / 1000);
  auto last = std::make_shared<std::chrono::steady_clock::time_point>();  // epoch: the first pass feeds it
  pipeline.on_loop = [period, last] {
    const auto now = std::chrono::steady_clock::now();
    if (now - *last < period) return;
    *last = now;
    sd_notify(0, "WATCHDOG=1");
  };
}

void systemd_status(const std::string& status) { sd_notify(0, ("WATCHDOG=1\nSTATUS=" + status).c_str()); }

}  // namespace escd::daemon

#include "systemd_notify.h"

#include <spdlog/spdlog.h>

#include <memory>
#include <string>

#include "service_notify.h"

namespace escd::daemon {

void attach_systemd(Pipeline& pipeline) {
  pipeline.on_ready = [](const std::string& status) { notify_ready(status); };
  pipeline.on_health = [](const std::string& status) { notify_status(status); };

  // Keep-alives from the processing loop itself, so that they stop exactly when the loop hangs (a
  // stuck model, a blocked device read) and not when health reports are merely configured to be rare.
  auto watchdog = std::make_shared<WatchdogFeeder>();
  if (!watchdog->enabled()) return;
  spdlog::info("systemd watchdog: {} ms, fed every {} ms from the processing loop", watchdog->period().count() * 4 / 1000,
               watchdog->period().count() / 1000);
  pipeline.on_loop = [watchdog] { watchdog->feed(); };
}

void systemd_status(const std::string& status) { notify_status_alive(status); }

}  // namespace escd::daemon

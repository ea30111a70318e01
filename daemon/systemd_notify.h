// systemd integration (Type=notify): READY=1 once capture and models are up, STATUS= with a
// one-line summary with each health report, and WATCHDOG=1 from every pass of the processing loop
// (rate-limited to a quarter of WatchdogSec), so a hung pipeline gets restarted.
// Without systemd (NOTIFY_SOCKET unset) every call is a no-op.
#pragma once

#include "pipeline.h"

namespace escd::daemon {

void attach_systemd(Pipeline& pipeline);
// STATUS= (and WATCHDOG=1: waiting is not hanging) before the pipeline exists.
void systemd_status(const std::string& status);

}  // namespace escd::daemon

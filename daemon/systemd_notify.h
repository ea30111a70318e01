// systemd integration (Type=notify): READY=1 once capture and models are up, STATUS= with a
// one-line summary with each health report, and WATCHDOG=1 from every pass of the processing loop
// (rate-limited to a quarter of WatchdogSec), so a hung pipeline gets restarted.
// Without systemd (NOTIFY_SOCKET unset) every call is a no-op.
#pragma once

#include "pipeline.h"

namespace escd::daemon {

void attach_systemd(Pipeline& pipeline);

}  // namespace escd::daemon

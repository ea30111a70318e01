// Whether a ZeroMQ endpoint escd binds to is reachable only from this machine: escd publishes on
// loopback by default, and binding anywhere else without CURVE deserves a warning.
#pragma once

#include <string>

namespace escd::daemon {

// True for ipc:// and inproc:// and for tcp:// on 127.0.0.0/8, ::1 or localhost; false for a
// wildcard (*, 0.0.0.0, ::), any other address, or an interface name (tcp://eth0:5556).
bool is_local_only_endpoint(const std::string& endpoint);

}  // namespace escd::daemon

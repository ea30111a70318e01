#include "endpoint_scope.h"

#include <arpa/inet.h>

namespace escd::daemon {

bool is_local_only_endpoint(const std::string& endpoint) {
  if (endpoint.rfind("ipc://", 0) == 0 || endpoint.rfind("inproc://", 0) == 0) return true;
  if (endpoint.rfind("tcp://", 0) != 0) return false;  // pgm, udp, ...: assume reachable
  std::string host = endpoint.substr(6);
  // tcp://[source;]host:port -- a source address belongs to connect(), not to bind(); drop it.
  if (const auto semicolon = host.find(';'); semicolon != std::string::npos) host = host.substr(semicolon + 1);
  const auto colon = host.rfind(':');
  if (colon == std::string::npos) return false;
  host = host.substr(0, colon);
  if (host.size() >= 2 && host.front() == '[' && host.back() == ']') host = host.substr(1, host.size() - 2);
  if (host == "localhost") return true;
  in_addr v4{};
  if (inet_pton(AF_INET, host.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) return IN6_IS_ADDR_LOOPBACK(&v6);
  return false;  // *, an interface name or a host name: may well be reachable from outside
}

}  // namespace escd::daemon

#include "wait_for_device.h"

#include <spdlog/spdlog.h>

#include <optional>
#include <thread>

#include "source_factory.h"

namespace escd::daemon {

std::unique_ptr<AudioSource> open_source_waiting(const DaemonOptions& options, MessageSink& publisher,
                                                 const std::atomic<bool>& stop,
                                                 const std::function<void(const std::string&)>& on_status,
                                                 DeviceWait wait) {
  if (!options.input.empty()) return make_source(options);
  using Clock = std::chrono::steady_clock;
  const Clock::time_point started = Clock::now();
  const auto health_every = std::chrono::duration<double>(options.health_interval_s);
  const std::string device = options.device.empty() ? "default input" : options.device;
  std::chrono::milliseconds backoff = wait.backoff_min;
  for (uint64_t attempt = 1;; ++attempt) {
    std::string error;
    try {
      return make_source(options);
    } catch (const std::exception& e) {
      error = e.what();
    }
    spdlog::warn("{} (attempt {}); retrying in {:.1f} s", error, attempt, backoff.count() / 1000.0);
    // Wait out the backoff in small steps: SIGTERM must not wait for it, and health keeps coming.
    const Clock::time_point retry_at = Clock::now() + backoff;
    std::optional<Clock::time_point> last_health;
    while (Clock::now() < retry_at) {
      if (stop.load()) return nullptr;
      if (!last_health || Clock::now() - *last_health >= health_every) {
        last_health = Clock::now();
        const double retry_in = std::chrono::duration<double>(retry_at - *last_health).count();
        publisher.publish("esc.health",
                          {{"uptime_s", std::chrono::duration<double>(*last_health - started).count()},
                           {"input", {{"device", device},
                                      {"connected", false},
                                      {"waiting_for_device", true},
                                      {"start_attempts", attempt},
                                      {"retry_in_s", retry_in},
                                      {"last_error", error}}},
                           {"models", nlohmann::json::object()}},
                          0.0);
        // Also the watchdog keep-alive: waiting for a device is not hanging.
        if (on_status) on_status(fmt::format("waiting for audio input '{}' (attempt {})", device, attempt));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    backoff = std::min(backoff * 2, wait.backoff_max);
  }
}

}  // namespace escd::daemon

// A microphone that is not there when escd starts (USB device not yet enumerated, sound server not
// yet up: the usual case at boot under systemd) is waited for, not an error: escd retries with
// backoff and publishes esc.health meanwhile, so subscribers and `systemctl status` say why it is
// not predicting. Files and stdin are opened once: a missing file is a mistake, not a delay.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "audio/audio_source.h"
#include "daemon_options.h"
#include "message_sink.h"

namespace escd::daemon {

struct DeviceWait {
  std::chrono::milliseconds backoff_min{500};   // first retry after this
  std::chrono::milliseconds backoff_max{10000}; // the delay doubles up to this
};

// Opens the source make_source() would; for a microphone, retries until it opens or `stop` is set
// (then returns null). Publishes an esc.health message with input.connected = false and
// input.waiting_for_device = true every options.health_interval_s while it waits, and passes a
// one-line status to on_status (sd_notify).
std::unique_ptr<AudioSource> open_source_waiting(const DaemonOptions& options, MessageSink& publisher,
                                                 const std::atomic<bool>& stop,
                                                 const std::function<void(const std::string&)>& on_status = {},
                                                 DeviceWait wait = {});

}  // namespace escd::daemon

// Builds the audio source the options ask for: a file, raw PCM on stdin, or a PortAudio device.
#pragma once

#include <memory>

#include "audio/audio_source.h"
#include "daemon_options.h"

namespace escd::daemon {

std::unique_ptr<AudioSource> make_source(const DaemonOptions& options);

// `escd --list-devices`: index, name, host API, input channels, default rate. Returns an exit code.
int print_devices();

}  // namespace escd::daemon

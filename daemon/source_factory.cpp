#include "source_factory.h"

#include <cstdio>

#include "audio/file_source.h"
#include "audio/portaudio_source.h"
#include "audio/raw_pcm_source.h"

namespace escd::daemon {

std::unique_ptr<AudioSource> make_source(const DaemonOptions& options) {
  if (options.input == "-") {
    return std::make_unique<RawPcmSource>(parse_pcm_format(options.format), options.rate, options.channels);
  }
  if (!options.input.empty()) return std::make_unique<FileSource>(options.input, options.fast);
  return std::make_unique<PortAudioSource>(options.device);
}

int print_devices() {
  const std::vector<AudioDeviceInfo> devices = list_audio_devices();
  if (devices.empty()) {
    std::printf("no audio input devices found\n");
    return 1;
  }
  std::printf("%5s  %-40s %-12s %8s %10s\n", "index", "name", "host API", "channels", "rate");
  for (const AudioDeviceInfo& d : devices) {
    std::printf("%5d  %-40s %-12s %8d %10.0f\n", d.index, d.name.c_str(), d.host_api.c_str(), d.max_input_channels,
                d.default_sample_rate);
  }
  return 0;
}

}  // namespace escd::daemon

// How hard libsamplerate works: the one choice every conversion in escd makes.
#pragma once

namespace escd {

enum class ResampleQuality {
  // Real time (the daemon's default): libsamplerate's medium sinc keeps Best's 97 dB rejection with
  // a 90% pass band (flat to ~7.2 kHz at 16 kHz) for about a third of its CPU
  // (test_stream_resampler.cpp measures both). A daemon converts every second of audio on a small
  // machine whose cores the models need; the roll-off touches only the top mel bands.
  Medium,
  // What the offline decoder (resample_offline) uses: for bit-comparable results with it, e.g. a
  // file run through the daemon compared with the same file decoded for training.
  Best,
  // Training augmentation (the time stretch): clips are converted again in every epoch, on the
  // loader's thread beside training, where even the fastest sinc cut the loader from 73 to 11 clips
  // a second (`esc-train dataset`), below what a training step consumes. Linear interpolation, as the
  // literature's speed augmentation; what it aliases or dulls is one more variation of the clip.
  Linear,
};

// libsamplerate's converter for `quality` (an SRC_SINC_* type, or SRC_LINEAR).
int libsamplerate_converter(ResampleQuality quality);

}  // namespace escd

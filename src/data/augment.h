// Training-time augmentation, every random choice drawn from a caller-supplied seeded generator so
// that a run is reproducible. Defaults are the original prototype's set (models.md 4.1).
#pragma once

#include <random>
#include <vector>

namespace escd {

struct AugmentConfig {
  // waveform
  double shift_prob = 0.3;   // circular shift by U[-max_shift, max_shift) samples
  int max_shift = 800;
  double noise_prob = 0.2;   // additive Gaussian noise
  float noise_std = 0.005f;
  double gain_prob = 0.4;    // multiply by U[gain_min, gain_max)
  float gain_min = 0.9f, gain_max = 1.1f;
  // log-mel: a shift along the mel axis by U[-freq_shift_max, freq_shift_max] bands (the edge band
  // repeated into the vacated ones), a cheap stand-in for pitch variation; then SpecAugment-style
  // masks, one of each kind at most
  double freq_shift_prob = 0.0;
  int freq_shift_max = 0;
  double time_mask_prob = 0.3;  // width U[0, time_mask_max) frames
  int time_mask_max = 10;
  double freq_mask_prob = 0.3;  // width U[0, freq_mask_max) bands
  int freq_mask_max = 8;
  float mask_value = 0.0f;
  // mixing two clips with mixed labels (mixup on the waveform): probability per sample, Beta(alpha, alpha)
  double mix_prob = 0.0;
  double mix_alpha = 0.4;
};

using Rng = std::mt19937_64;

void augment_waveform(std::vector<float>& samples, const AugmentConfig& config, Rng& rng);

// frames: row-major [n_frames, n_mels], modified in place.
void augment_log_mel(float* frames, int n_frames, int n_mels, const AugmentConfig& config, Rng& rng);

// Weight of the first clip when mixing two: a Beta(alpha, alpha) draw, folded to [0.5, 1] so that
// the first clip stays dominant (its hard label stays meaningful).
double draw_mix_weight(double alpha, Rng& rng);

}  // namespace escd

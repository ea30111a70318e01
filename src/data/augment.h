// Training-time augmentation, every random choice drawn from a caller-supplied seeded generator so
// that a run is reproducible. Defaults are the original prototype's set; the room set (off by
// default) simulates where escd listens: a room's reverberation and background noise, a
// microphone's colouration and gain, and an overdriven input (docs/ROOMS.md).
#pragma once

#include <random>
#include <string>
#include <vector>

#include "data/noise_colour.h"

namespace escd {

struct AugmentConfig {
  // speed, before a training crop is cut: the clip resampled to a length factor log-uniform in
  // [stretch_min, stretch_max] (> 1 slower), its pitch moving with it as on tape
  double stretch_prob = 0.0;
  double stretch_min = 0.8, stretch_max = 1.25;
  // waveform
  double shift_prob = 0.3;   // circular shift by U[-max_shift, max_shift) samples
  int max_shift = 800;
  double noise_prob = 0.2;   // additive Gaussian noise
  float noise_std = 0.005f;
  double gain_prob = 0.4;    // multiply by U[gain_min, gain_max)
  float gain_min = 0.9f, gain_max = 1.1f;
  // room (probability 0: off, and nothing is drawn, so older recipes replay exactly), in the order
  // sound meets them: reverberation, background noise, microphone response, microphone gain, clipping
  double reverb_prob = 0.0;  // a generated room impulse response, RT60 and direct-to-reverberant ratio uniform
  double rt60_min = 0.1, rt60_max = 1.0;
  double drr_db_min = -5.0, drr_db_max = 15.0;
  double room_noise_prob = 0.0;  // coloured noise at an SNR uniform in dB
  double snr_db_min = 0.0, snr_db_max = 40.0;
  // the noise's colour, drawn uniformly from this list: a colour named twice is drawn twice as often
  std::vector<NoiseColour> room_noise_colours = {NoiseColour::white, NoiseColour::pink, NoiseColour::brown};
  double mic_prob = 0.0;  // smooth random EQ within +-mic_eq_db, low-pass uniform in [lowpass_min_hz, Nyquist],
  double mic_eq_db = 6.0;  // high-pass uniform in [20, highpass_max_hz]
  double lowpass_min_hz = 3000.0, highpass_max_hz = 300.0;
  double gain_db_prob = 0.0;  // the microphone's level, uniform in dB
  double gain_db_min = -40.0, gain_db_max = 10.0;
  double clip_prob = 0.0;  // hard clipping at a fraction of the peak, uniform
  double clip_level_min = 0.1, clip_level_max = 0.8;
  // "nothing here" examples (BatchLoader): empty-room signals at a level uniform in dBFS
  double background_dbfs_min = -90.0, background_dbfs_max = -20.0;
  // the ventilation signal's slow breathing: its depth (the envelope's largest swing from 1) is
  // uniform up to background_hvac_depth_max (room_tone.h: is_valid_ventilation_depth_max)
  double background_hvac_depth_max = 0.05;
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
  // between-class mixing instead (data/between_class_mix.h): a partner of another class, the label
  // ratio uniform, the waveforms weighted by their levels so that the ratio is what is heard
  bool mix_between_classes = false;
};

using Rng = std::mt19937_64;

// What is wrong with a recipe's augmentation, as a sentence naming the keys, or "" when nothing is:
// a probability outside [0, 1], a size below 0, a range whose minimum is above its maximum or that
// leaves what the room simulation can do (room_acoustics.h). A draw from a reversed range would be
// undefined, so a recipe is checked before anything is drawn from it.
std::string augment_config_problem(const AugmentConfig& config);

// A draw uniform in [lo, hi): every range of the recipe and of the room simulation.
double uniform(double lo, double hi, Rng& rng);

// A length factor for the clip's speed (stretch_*), or 1 (nothing is drawn at probability 0).
double draw_speed_factor(const AugmentConfig& config, Rng& rng);

// `samples` played `factor` times slower (> 1) or faster, pitch with it: round(n x factor) samples.
std::vector<float> change_speed(const std::vector<float>& samples, double factor);

// One clip's own variations: shift, white noise, gain (before clips are mixed).
void augment_waveform(std::vector<float>& samples, const AugmentConfig& config, Rng& rng);

// The room, applied to what the microphone hears (after mixing: both sounds are in the same room);
// the sample rate is the dataset's, 16 kHz.
void augment_room(std::vector<float>& samples, const AugmentConfig& config, Rng& rng);
// Whether augment_room can change anything: some room probability above 0.
bool changes_the_room(const AugmentConfig& config);

// A training example of "no sound event": one of the empty-room signals (room_acoustics.h) at a
// random level. The loader then augments it as it does a clip (room, microphone, masks), unmixed.
std::vector<float> make_background_example(size_t n, const AugmentConfig& config, Rng& rng);

// frames: row-major [n_frames, n_mels], modified in place.
void augment_log_mel(float* frames, int n_frames, int n_mels, const AugmentConfig& config, Rng& rng);

// Weight of the first clip when mixing two: a Beta(alpha, alpha) draw, folded to [0.5, 1] so that
// the first clip stays dominant (its hard label stays meaningful).
double draw_mix_weight(double alpha, Rng& rng);

}  // namespace escd

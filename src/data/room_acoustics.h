// Room and microphone simulation for waveforms: coloured noise, additive noise at a given SNR,
// synthetic room impulse responses and reverberation, microphone colouration, level and clipping,
// for training (augment.h) and evaluation (room_condition.h). Every random choice comes from a
// caller-supplied generator, so a result is reproducible from its seed.
#pragma once

#include <vector>

#include "data/augment.h"
#include "data/noise_colour.h"

namespace escd {

// The physical ranges that a room condition (room_condition.h) and a training recipe's room
// (augment.h) may ask for.
constexpr double kRoomGainDbLimit = 80.0;  // |gain| in dB
constexpr double kRoomSnrDbMin = -20.0, kRoomSnrDbMax = 80.0;
constexpr double kRoomRt60MaxSeconds = 3.0;  // RT60 in (0, this]
constexpr double kRoomDrrDbLimit = 40.0;     // |DRR| in dB

// n samples of Gaussian noise whose power spectrum falls as 1/f^0 (white), 1/f (pink) or 1/f^2
// (brown): white noise shaped in the frequency domain so the slope is exact, zero mean, unit RMS.
std::vector<float> coloured_noise(size_t n, NoiseColour colour, Rng& rng);

double mean_square(const float* x, size_t n);
// 20*log10(rms); -200 for an all-zero (or empty) signal instead of -inf.
double rms_dbfs(const float* x, size_t n);
double rms_dbfs(const std::vector<float>& x);

void apply_gain_db(std::vector<float>& x, double db);
// Scales x so that rms_dbfs(x) == level_dbfs; an all-zero x stays so.
void set_rms_dbfs(std::vector<float>& x, double level_dbfs);

// Adds the first signal.size() samples of `noise`, scaled so that 10*log10(P_signal / P_noise) is
// snr_db. A zero-power signal gets nothing added and the call returns false (no SNR is defined);
// otherwise true. Throws std::invalid_argument if noise is shorter than the signal or silent.
bool add_noise_at_snr(std::vector<float>& signal, const std::vector<float>& noise, double snr_db);

// A synthetic room impulse response: a unit direct-path impulse at index 0, a gap of 1-5 ms, then
// a diffuse Gaussian tail decaying exponentially per octave band (each band's RT60 is rt60_s times
// a random factor in [0.8, 1.2], higher bands shorter on average). The tail's total energy makes
// 10*log10(E_direct / E_tail) equal drr_db. Length ceil(1.2 * rt60_s * sample_rate), at least 1; a
// response too short to reach past the gap is the bare impulse.
struct RirSpec {
  double rt60_s;
  double drr_db;
};
std::vector<float> room_impulse_response(int sample_rate, const RirSpec& spec, Rng& rng);

// RT60 from the Schroeder energy decay curve: a least-squares line through its -5..-25 dB part,
// extrapolated to 60 dB (T20). 0 when the decay passes that range within fewer than two samples
// (a bare impulse) or the response is silent.
double estimate_rt60(const std::vector<float>& rir, int sample_rate);
// Direct-to-reverberant ratio in dB: direct = everything up to 2.5 ms after the peak, reverberant
// = the rest. +200 when there is no reverberant energy, -200 when there is no direct energy.
double direct_to_reverberant_db(const std::vector<float>& rir, int sample_rate);

// Linear convolution with rir, keeping the first x.size() samples (aligned with the dry signal),
// then rescaled to the input's RMS: a room changes the sound, not the recording level. An all-zero
// input stays zero. Throws std::invalid_argument for an empty rir.
void reverberate(std::vector<float>& x, const std::vector<float>& rir);

// Microphone colouration, zero-phase, over the whole signal: a random smooth EQ curve (a few
// low-order cosines over log-frequency, peak |gain| at most max_eq_db), a low-pass that is zero
// above lowpass_hz with a short raised-cosine roll-off below it, and a first-order-like high-pass
// below highpass_hz. lowpass_hz <= 0 or at/above Nyquist disables the low-pass; highpass_hz <= 0
// disables the high-pass. The level is not restored: the EQ gain is part of the colouration.
struct MicSpec {
  double max_eq_db;
  double lowpass_hz;
  double highpass_hz;
};
void microphone_response(std::vector<float>& x, int sample_rate, const MicSpec& spec, Rng& rng);

// Clamps every sample to [-level, level]; level must be in (0, 1] (std::invalid_argument otherwise).
void hard_clip(std::vector<float>& x, float level);

}  // namespace escd

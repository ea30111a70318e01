#include "data/augment.h"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>
#include <vector>

#include "audio/resample.h"
#include "data/room_acoustics.h"
#include "data/room_tone.h"
#include "util/number_text.h"

namespace escd {
namespace {

constexpr int kSampleRate = 16000;

bool chance(double p, Rng& rng) { return p > 0.0 && std::uniform_real_distribution<double>(0.0, 1.0)(rng) < p; }

void microphone(std::vector<float>& samples, const AugmentConfig& config, Rng& rng) {
  const MicSpec spec{config.mic_eq_db, uniform(config.lowpass_min_hz, kSampleRate / 2.0, rng),
                     uniform(20.0, config.highpass_max_hz, rng)};
  microphone_response(samples, kSampleRate, spec, rng);
}

void mask_run(float* frames, int n_frames, int n_mels, bool along_time, int max_width, float value, Rng& rng) {
  const int extent = along_time ? n_frames : n_mels;
  if (max_width <= 0 || extent <= 0) return;
  const int width = std::uniform_int_distribution<int>(0, max_width - 1)(rng);
  if (width == 0) return;
  const int start = std::uniform_int_distribution<int>(0, std::max(0, extent - width))(rng);
  const int end = std::min(extent, start + width);
  for (int i = start; i < end; ++i) {
    if (along_time) {
      std::fill(frames + static_cast<size_t>(i) * n_mels, frames + static_cast<size_t>(i + 1) * n_mels, value);
    } else {
      for (int t = 0; t < n_frames; ++t) frames[static_cast<size_t>(t) * n_mels + i] = value;
    }
  }
}

// Every frame's bands move up by `shift` (down if negative); vacated bands repeat the edge band.
void shift_bands(float* frames, int n_frames, int n_mels, int shift) {
  std::vector<float> row(static_cast<size_t>(n_mels));
  for (int t = 0; t < n_frames; ++t) {
    float* frame = frames + static_cast<size_t>(t) * n_mels;
    std::copy(frame, frame + n_mels, row.begin());
    for (int m = 0; m < n_mels; ++m) frame[m] = row[static_cast<size_t>(std::clamp(m - shift, 0, n_mels - 1))];
  }
}

}  // namespace

std::string augment_config_problem(const AugmentConfig& c) {
  const std::pair<const char*, double> probabilities[] = {
      {"stretch_prob", c.stretch_prob}, {"shift_prob", c.shift_prob},     {"noise_prob", c.noise_prob},
      {"gain_prob", c.gain_prob},       {"reverb_prob", c.reverb_prob},   {"room_noise_prob", c.room_noise_prob},
      {"mic_prob", c.mic_prob},         {"gain_db_prob", c.gain_db_prob}, {"clip_prob", c.clip_prob},
      {"freq_shift_prob", c.freq_shift_prob}, {"time_mask_prob", c.time_mask_prob},
      {"freq_mask_prob", c.freq_mask_prob},   {"mix_prob", c.mix_prob}};
  for (const auto& [name, p] : probabilities) {
    if (!(p >= 0.0 && p <= 1.0)) return std::string(name) + " must be in [0, 1] (got " + number_text(p) + ")";
  }
  const double nyquist = kSampleRate / 2.0, unbounded = HUGE_VAL;
  // floor <= v <= ceiling, or floor < v with an open floor; never for NaN
  const auto within = [](double v, double floor, double ceiling, bool open_floor) {
    return (open_floor ? v > floor : v >= floor) && v <= ceiling;
  };
  struct Bound {
    const char* name;
    double value, floor, ceiling;
    bool open_floor;
  };
  const Bound bounds[] = {
      {"max_shift", static_cast<double>(c.max_shift), 0.0, unbounded, false},
      {"noise_std", c.noise_std, 0.0, unbounded, false},
      {"freq_shift_max", static_cast<double>(c.freq_shift_max), 0.0, unbounded, false},
      {"time_mask_max", static_cast<double>(c.time_mask_max), 0.0, unbounded, false},
      {"freq_mask_max", static_cast<double>(c.freq_mask_max), 0.0, unbounded, false},
      {"mix_alpha", c.mix_alpha, 0.0, unbounded, true},
      {"mic_eq_db", c.mic_eq_db, 0.0, kRoomGainDbLimit, false},
      {"lowpass_min_hz", c.lowpass_min_hz, 0.0, nyquist, true},
      {"highpass_max_hz", c.highpass_max_hz, 20.0, nyquist, false},
  };
  for (const Bound& b : bounds) {
    if (!within(b.value, b.floor, b.ceiling, b.open_floor)) {
      const std::string ceiling = b.ceiling < unbounded ? " and <= " + number_text(b.ceiling) : "";
      return std::string(b.name) + " must be " + (b.open_floor ? "> " : ">= ") + number_text(b.floor) + ceiling +
             " (got " + number_text(b.value) + ")";
    }
  }
  // lo within the limits, and lo <= hi <= ceiling
  struct Range {
    const char *lo_name, *hi_name;
    double lo, hi, floor, ceiling;
    bool open_floor;
  };
  const Range ranges[] = {
      {"gain_min", "gain_max", c.gain_min, c.gain_max, 0.0, 10.0, false},
      {"stretch_min", "stretch_max", c.stretch_min, c.stretch_max, 0.0, 4.0, true},
      {"rt60_min", "rt60_max", c.rt60_min, c.rt60_max, 0.0, kRoomRt60MaxSeconds, true},
      {"drr_db_min", "drr_db_max", c.drr_db_min, c.drr_db_max, -kRoomDrrDbLimit, kRoomDrrDbLimit, false},
      {"snr_db_min", "snr_db_max", c.snr_db_min, c.snr_db_max, kRoomSnrDbMin, kRoomSnrDbMax, false},
      {"gain_db_min", "gain_db_max", c.gain_db_min, c.gain_db_max, -kRoomGainDbLimit, kRoomGainDbLimit, false},
      {"clip_level_min", "clip_level_max", c.clip_level_min, c.clip_level_max, 0.0, 1.0, true},
      {"background_dbfs_min", "background_dbfs_max", c.background_dbfs_min, c.background_dbfs_max, -200.0, 0.0, false},
  };
  for (const Range& r : ranges) {
    if (!(within(r.lo, r.floor, r.ceiling, r.open_floor) && r.lo <= r.hi && r.hi <= r.ceiling)) {
      return std::string(r.lo_name) + " and " + r.hi_name + " must satisfy " + number_text(r.floor) +
             (r.open_floor ? " < " : " <= ") + r.lo_name + " <= " + r.hi_name + " <= " + number_text(r.ceiling) +
             " (got " + number_text(r.lo) + " and " + number_text(r.hi) + ")";
    }
  }
  if (c.room_noise_colours.empty()) return "room_noise_colours must name at least one colour (white, pink or brown)";
  if (!is_valid_ventilation_depth_max(c.background_hvac_depth_max)) {
    return "background_hvac_depth_max must be in " + ventilation_depth_max_range() + " (got " +
           number_text(c.background_hvac_depth_max) + ")";
  }
  return "";
}

double uniform(double lo, double hi, Rng& rng) { return std::uniform_real_distribution<double>(lo, hi)(rng); }

double draw_speed_factor(const AugmentConfig& config, Rng& rng) {
  if (!chance(config.stretch_prob, rng)) return 1.0;
  return std::exp(uniform(std::log(config.stretch_min), std::log(config.stretch_max), rng));
}

std::vector<float> change_speed(const std::vector<float>& samples, double factor) {
  return resample_offline(samples, kSampleRate, kSampleRate * factor, ResampleQuality::Linear);
}

void augment_waveform(std::vector<float>& samples, const AugmentConfig& config, Rng& rng) {
  if (samples.empty()) return;
  if (chance(config.shift_prob, rng) && config.max_shift > 0) {
    const int shift = std::uniform_int_distribution<int>(-config.max_shift, config.max_shift - 1)(rng);
    const auto n = static_cast<long>(samples.size());
    const long k = ((shift % n) + n) % n;  // roll right by `shift`, like torch.roll
    std::rotate(samples.begin(), samples.begin() + (n - k) % n, samples.end());
  }
  if (chance(config.noise_prob, rng)) {
    std::normal_distribution<float> noise(0.0f, config.noise_std);
    for (float& s : samples) s += noise(rng);
  }
  if (chance(config.gain_prob, rng)) {
    const float gain = std::uniform_real_distribution<float>(config.gain_min, config.gain_max)(rng);
    for (float& s : samples) s *= gain;
  }
}

bool changes_the_room(const AugmentConfig& config) {
  return config.reverb_prob > 0.0 || config.room_noise_prob > 0.0 || config.mic_prob > 0.0 ||
         config.gain_db_prob > 0.0 || config.clip_prob > 0.0;
}

void augment_room(std::vector<float>& samples, const AugmentConfig& config, Rng& rng) {
  if (chance(config.reverb_prob, rng)) {
    const RirSpec spec{uniform(config.rt60_min, config.rt60_max, rng), uniform(config.drr_db_min, config.drr_db_max, rng)};
    reverberate(samples, room_impulse_response(kSampleRate, spec, rng));
  }
  if (chance(config.room_noise_prob, rng)) {
    // the same draw as before the list existed, so that recipes with the default list replay exactly
    const auto& colours = config.room_noise_colours;
    const int pick = std::uniform_int_distribution<int>(0, static_cast<int>(colours.size()) - 1)(rng);
    const NoiseColour colour = colours[static_cast<size_t>(pick)];
    // The SNR is drawn before the noise: the order in which GCC evaluated the two when they were the
    // arguments of one call (which C++ leaves unspecified), so that earlier runs replay exactly and
    // every compiler draws the same.
    const double snr_db = uniform(config.snr_db_min, config.snr_db_max, rng);
    add_noise_at_snr(samples, coloured_noise(samples.size(), colour, rng), snr_db);
  }
  if (chance(config.mic_prob, rng)) microphone(samples, config, rng);
  if (chance(config.gain_db_prob, rng)) {
    apply_gain_db(samples, uniform(config.gain_db_min, config.gain_db_max, rng));
    hard_clip(samples, 1.0f);  // a converter cannot go past full scale
  }
  if (chance(config.clip_prob, rng)) {
    float peak = 0.0f;
    for (float s : samples) peak = std::max(peak, std::abs(s));
    const float level = peak * static_cast<float>(uniform(config.clip_level_min, config.clip_level_max, rng));
    if (level > 0.0f) hard_clip(samples, std::min(level, 1.0f));
  }
}

std::vector<float> make_background_example(size_t n, const AugmentConfig& config, Rng& rng) {
  const std::vector<std::string>& kinds = room_tone_kinds();
  const std::string& kind = kinds[std::uniform_int_distribution<size_t>(0, kinds.size() - 1)(rng)];
  return room_tone(kind, n, kSampleRate, uniform(config.background_dbfs_min, config.background_dbfs_max, rng), rng,
                   config.background_hvac_depth_max);
}

void augment_log_mel(float* frames, int n_frames, int n_mels, const AugmentConfig& config, Rng& rng) {
  // No draw at probability 0, so recipes without a shift replay exactly as before it existed.
  if (config.freq_shift_max > 0 && n_mels > 0 && chance(config.freq_shift_prob, rng)) {
    const int shift = std::uniform_int_distribution<int>(-config.freq_shift_max, config.freq_shift_max)(rng);
    if (shift != 0) shift_bands(frames, n_frames, n_mels, shift);
  }
  if (chance(config.time_mask_prob, rng)) {
    mask_run(frames, n_frames, n_mels, true, config.time_mask_max, config.mask_value, rng);
  }
  if (chance(config.freq_mask_prob, rng)) {
    mask_run(frames, n_frames, n_mels, false, config.freq_mask_max, config.mask_value, rng);
  }
}

double draw_mix_weight(double alpha, Rng& rng) {
  std::gamma_distribution<double> g(alpha, 1.0);
  const double a = g(rng), b = g(rng);
  const double lambda = (a + b) > 0 ? a / (a + b) : 0.5;
  return std::max(lambda, 1.0 - lambda);
}

}  // namespace escd

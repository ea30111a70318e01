#include "data/room_tone.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <sstream>
#include <stdexcept>

#include "data/room_acoustics.h"

namespace escd {
namespace {

constexpr double kPi = 3.14159265358979323846;

}  // namespace

const std::vector<std::string>& room_tone_kinds() {
  static const std::vector<std::string> kinds = {"silence", "white", "pink", "brown", "hum", "hvac"};
  return kinds;
}

std::string ventilation_depth_max_range() {
  std::ostringstream range;
  range << '[' << kVentilationDepthMin << ", 1]";
  return range.str();
}

std::vector<float> room_tone(const std::string& kind, size_t n, int sample_rate, double level_dbfs, Rng& rng,
                             double hvac_depth_max) {
  const auto& kinds = room_tone_kinds();
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
    throw std::invalid_argument("unknown room tone '" + kind + "' (expected silence, white, pink, brown, hum or hvac)");
  }
  if (sample_rate <= 0) throw std::invalid_argument("sample rate must be positive, got " + std::to_string(sample_rate));
  if (!std::isfinite(level_dbfs)) throw std::invalid_argument("room tone level must be finite");
  if (!is_valid_ventilation_depth_max(hvac_depth_max)) {
    throw std::invalid_argument("ventilation modulation depth limit must be in " + ventilation_depth_max_range() +
                                ", got " + std::to_string(hvac_depth_max));
  }
  if (kind == "silence") return std::vector<float>(n, 0.0f);
  if (kind != "hum" && kind != "hvac") {
    std::vector<float> x = coloured_noise(n, parse_noise_colour(kind), rng);
    set_rms_dbfs(x, level_dbfs);
    return x;
  }

  const double sr = sample_rate, nyquist = sr / 2.0;
  // A sine by a rotating phasor (one complex product per sample instead of a sin): in double
  // precision its drift over a clip is far below any level that matters here.
  auto add_tone = [&](std::vector<double>& acc, double freq, double amplitude, double phase) {
    if (freq >= nyquist) return;
    const std::complex<double> step = std::polar(1.0, 2.0 * kPi * freq / sr);
    std::complex<double> phasor = std::polar(amplitude, phase);
    for (size_t i = 0; i < n; ++i, phasor *= step) acc[i] += phasor.imag();
  };
  auto rms = [](const std::vector<double>& v) {
    double s = 0.0;
    for (double e : v) s += e * e;
    return v.empty() ? 0.0 : std::sqrt(s / static_cast<double>(v.size()));
  };

  std::vector<double> acc(n, 0.0);
  if (kind == "hum") {
    // Mains hum: the fundamental strongest, each further harmonic weaker by a random factor.
    const double mains = std::bernoulli_distribution(0.5)(rng) ? 50.0 : 60.0;
    const int n_harmonics = std::uniform_int_distribution<int>(3, 6)(rng);
    double amplitude = 1.0;
    for (int h = 1; h <= n_harmonics; ++h) {
      add_tone(acc, mains * h, amplitude, uniform(0.0, 2.0 * kPi, rng));
      amplitude *= uniform(0.3, 0.7, rng);
    }
    const double below_db = uniform(20.0, 40.0, rng);
    const std::vector<float> pink = coloured_noise(n, NoiseColour::pink, rng);
    const double noise_rms = rms(acc) * std::pow(10.0, -below_db / 20.0);
    for (size_t i = 0; i < n; ++i) acc[i] += noise_rms * pink[i];
  } else {
    // Ventilation: rumble (brown) with some hiss (pink), breathing slowly, plus fan or motor tones.
    const std::vector<float> brown = coloured_noise(n, NoiseColour::brown, rng);
    const std::vector<float> pink = coloured_noise(n, NoiseColour::pink, rng);
    const double pink_share = uniform(0.2, 0.6, rng);
    const double depth = uniform(kVentilationDepthMin, hvac_depth_max, rng);
    const double mod_f1 = uniform(0.05, 0.5, rng), mod_p1 = uniform(0.0, 2.0 * kPi, rng);
    const double mod_f2 = uniform(0.05, 0.5, rng), mod_p2 = uniform(0.0, 2.0 * kPi, rng);
    std::vector<double> modulation(n, 1.0);
    add_tone(modulation, mod_f1, depth * 0.5, mod_p1);
    add_tone(modulation, mod_f2, depth * 0.5, mod_p2);
    for (size_t i = 0; i < n; ++i) acc[i] = modulation[i] * (brown[i] + pink_share * pink[i]);
    const double noise_rms = rms(acc);
    const int n_tones = std::uniform_int_distribution<int>(1, 2)(rng);
    for (int j = 0; j < n_tones; ++j) {
      const double freq = uniform(80.0, 400.0, rng);
      const double tone_db = uniform(-20.0, -6.0, rng);  // relative to the noise
      // A sine's RMS is its amplitude over sqrt(2).
      add_tone(acc, freq, std::sqrt(2.0) * noise_rms * std::pow(10.0, tone_db / 20.0), uniform(0.0, 2.0 * kPi, rng));
    }
  }
  std::vector<float> x(acc.begin(), acc.end());
  set_rms_dbfs(x, level_dbfs);
  return x;
}

}  // namespace escd

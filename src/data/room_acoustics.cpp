// Room and microphone simulation (see room_acoustics.h). All spectral work (noise shaping, band
// splitting, convolution, EQ) goes through FFTW single-precision real transforms, so each operation
// is exact in the frequency domain and costs O(n log n) on a whole clip.
#include "data/room_acoustics.h"

#include <algorithm>
#include <cmath>
#include <complex>
#include <stdexcept>

#include "data/real_fft.h"

namespace escd {
namespace {

constexpr double kPi = 3.14159265358979323846;


void scale(std::vector<float>& x, double factor) {
  const auto f = static_cast<float>(factor);
  for (float& s : x) s *= f;
}

void require_sample_rate(int sample_rate) {
  if (sample_rate <= 0) throw std::invalid_argument("sample rate must be positive, got " + std::to_string(sample_rate));
}

}  // namespace

std::vector<float> coloured_noise(size_t n, NoiseColour colour, Rng& rng) {
  std::vector<float> out(n, 0.0f);
  if (n == 0) return out;
  // The transform has exactly n points, so the shaped noise is one period of a periodic signal:
  // no truncation disturbs the slope, and a zero DC bin means an exactly zero mean.
  RealFft& fft = cached_real_fft(n);
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  for (size_t i = 0; i < n; ++i) fft.time()[i] = gauss(rng);
  fft.forward();
  fft.freq()[0][0] = fft.freq()[0][1] = 0.0f;
  for (size_t k = 1; k < fft.bins() && colour != NoiseColour::white; ++k) {
    // Amplitude ~ f^(-alpha/2), so power ~ f^(-alpha); the bin index stands for f (scale is
    // irrelevant once the result is normalised).
    const float g = colour == NoiseColour::pink ? 1.0f / std::sqrt(static_cast<float>(k)) : 1.0f / static_cast<float>(k);
    fft.freq()[k][0] *= g;
    fft.freq()[k][1] *= g;
  }
  fft.inverse();
  double mean = 0.0;
  for (size_t i = 0; i < n; ++i) mean += fft.time()[i];
  mean /= static_cast<double>(n);
  for (size_t i = 0; i < n; ++i) out[i] = static_cast<float>(fft.time()[i] - mean);
  set_rms_dbfs(out, 0.0);
  return out;
}

double mean_square(const float* x, size_t n) {
  if (n == 0) return 0.0;
  double sum = 0.0;
  for (size_t i = 0; i < n; ++i) sum += static_cast<double>(x[i]) * x[i];
  return sum / static_cast<double>(n);
}

double rms_dbfs(const float* x, size_t n) {
  const double ms = mean_square(x, n);
  if (ms <= 0.0) return -200.0;
  return std::max(-200.0, 10.0 * std::log10(ms));
}

double rms_dbfs(const std::vector<float>& x) { return rms_dbfs(x.data(), x.size()); }

void apply_gain_db(std::vector<float>& x, double db) { scale(x, std::pow(10.0, db / 20.0)); }

void set_rms_dbfs(std::vector<float>& x, double level_dbfs) {
  const double ms = mean_square(x.data(), x.size());
  if (ms > 0.0) scale(x, std::pow(10.0, level_dbfs / 20.0) / std::sqrt(ms));
}

bool add_noise_at_snr(std::vector<float>& signal, const std::vector<float>& noise, double snr_db) {
  if (!std::isfinite(snr_db)) throw std::invalid_argument("SNR must be finite");
  if (noise.size() < signal.size()) {
    throw std::invalid_argument("noise has " + std::to_string(noise.size()) + " samples, fewer than the signal's " +
                                std::to_string(signal.size()));
  }
  const double p_signal = mean_square(signal.data(), signal.size());
  if (p_signal <= 0.0) return false;
  const double p_noise = mean_square(noise.data(), signal.size());
  if (p_noise <= 0.0) throw std::invalid_argument("noise is silent: no gain reaches the requested SNR");
  const auto g = static_cast<float>(std::sqrt(p_signal / (p_noise * std::pow(10.0, snr_db / 10.0))));
  for (size_t i = 0; i < signal.size(); ++i) signal[i] += g * noise[i];
  return true;
}

std::vector<float> room_impulse_response(int sample_rate, const RirSpec& spec, Rng& rng) {
  require_sample_rate(sample_rate);
  if (!(spec.rt60_s > 0.0) || !std::isfinite(spec.rt60_s)) throw std::invalid_argument("RT60 must be positive and finite");
  if (!std::isfinite(spec.drr_db)) throw std::invalid_argument("DRR must be finite");
  const double sr = sample_rate;
  const auto length = std::max<size_t>(1, static_cast<size_t>(std::ceil(1.2 * spec.rt60_s * sr)));
  std::vector<float> h(length, 0.0f);
  h[0] = 1.0f;

  const auto start = std::max<size_t>(1, static_cast<size_t>(std::lround(uniform(0.001, 0.005, rng) * sr)));

  // Octave bands centred on 125 Hz * 2^b, up to the last one that starts below Nyquist; the first
  // band reaches down to DC and the last up to Nyquist.
  const double nyquist = sr / 2.0;
  std::vector<double> centres;
  for (double c = 125.0; c / std::sqrt(2.0) < nyquist; c *= 2.0) centres.push_back(c);
  if (centres.empty()) centres.push_back(nyquist);
  const size_t n_bands = centres.size();
  // Each band's RT60 factor: a random draw in [0.8, 1.2] around a centre that tilts from long (low
  // bands, where air and walls absorb least) to short (high bands).
  std::vector<double> band_rt60(n_bands);
  for (size_t b = 0; b < n_bands; ++b) {
    const double tilt = n_bands > 1 ? static_cast<double>(b) / static_cast<double>(n_bands - 1) : 0.5;
    const double centre = 1.05 - 0.1 * tilt;
    band_rt60[b] = spec.rt60_s * std::clamp(centre + uniform(-0.15, 0.15, rng), 0.8, 1.2);
  }
  if (start >= length) return h;  // a room too short for its tail: only the direct path

  // One white Gaussian noise, split into bands by complementary spectral masks (they sum to one,
  // so equal decays would give back the white noise), each band given its own decay.
  const size_t tail_len = length - start;
  RealFft& fft = cached_real_fft(next_power_of_two(tail_len));
  std::normal_distribution<float> gauss(0.0f, 1.0f);
  for (size_t i = 0; i < fft.size(); ++i) fft.time()[i] = gauss(rng);
  fft.forward();
  const std::vector<std::complex<float>> noise = fft.spectrum();

  // Share of band "above" a crossover at `edge` for frequency f: a raised cosine over half an
  // octave in log-frequency centred on the edge.
  const double width_oct = 0.5;
  auto above = [&](double f, double edge) {
    if (f <= 0.0) return 0.0;
    const double u = std::log2(f / edge);
    if (u <= -width_oct / 2) return 0.0;
    if (u >= width_oct / 2) return 1.0;
    return 0.5 - 0.5 * std::cos(kPi * (u + width_oct / 2) / width_oct);
  };

  std::vector<double> tail(tail_len, 0.0);
  std::vector<double> below(fft.bins(), 1.0);  // share of each bin in the bands below the current one's top
  for (size_t b = 0; b < n_bands; ++b) {
    for (size_t k = 0; k < fft.bins(); ++k) {
      const double f = static_cast<double>(k) * sr / static_cast<double>(fft.size());
      const double lower = b > 0 ? below[k] : 0.0;  // the previous band's top edge
      below[k] = b + 1 < n_bands ? 1.0 - above(f, centres[b] * std::sqrt(2.0)) : 1.0;
      // Band b: above its bottom edge and below its top one (complementary masks sum to one).
      const std::complex<float> v = noise[k] * static_cast<float>((1.0 - lower) * below[k]);
      fft.freq()[k][0] = v.real();
      fft.freq()[k][1] = v.imag();
    }
    fft.inverse();
    // Energy falls 60 dB in band_rt60: amplitude exp(-3 ln(10) t / T), t from the direct sound,
    // stepped as a constant factor per sample.
    const double rate = 3.0 * std::log(10.0) / band_rt60[b];
    const double step = std::exp(-rate / sr);
    double envelope = std::exp(-rate * static_cast<double>(start) / sr);
    for (size_t i = 0; i < tail_len; ++i, envelope *= step) tail[i] += fft.time()[i] * envelope;
  }

  double energy = 0.0;
  for (double v : tail) energy += v * v;
  if (energy <= 0.0) return h;
  const double target = std::pow(10.0, -spec.drr_db / 10.0);  // relative to the unit direct path
  const double g = std::sqrt(target / energy);
  for (size_t i = 0; i < tail_len; ++i) h[start + i] = static_cast<float>(tail[i] * g);
  return h;
}

double estimate_rt60(const std::vector<float>& rir, int sample_rate) {
  require_sample_rate(sample_rate);
  const size_t n = rir.size();
  std::vector<double> edc(n + 1, 0.0);
  for (size_t i = n; i-- > 0;) edc[i] = edc[i + 1] + static_cast<double>(rir[i]) * rir[i];
  const double total = edc[0];
  if (total <= 0.0) return 0.0;
  // Least-squares line through the -5..-25 dB part of the decay curve (dB against seconds).
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  size_t count = 0;
  for (size_t i = 0; i < n; ++i) {
    if (edc[i] <= 0.0) break;
    const double db = 10.0 * std::log10(edc[i] / total);
    if (db < -25.0) break;
    if (db > -5.0) continue;
    const double t = static_cast<double>(i) / sample_rate;
    sx += t;
    sy += db;
    sxx += t * t;
    sxy += t * db;
    ++count;
  }
  if (count < 2) return 0.0;
  const double c = static_cast<double>(count);
  const double denom = c * sxx - sx * sx;
  if (denom <= 0.0) return 0.0;
  const double slope = (c * sxy - sx * sy) / denom;  // dB per second
  return slope < 0.0 ? -60.0 / slope : 0.0;
}

double direct_to_reverberant_db(const std::vector<float>& rir, int sample_rate) {
  require_sample_rate(sample_rate);
  if (rir.empty()) throw std::invalid_argument("empty impulse response");
  size_t peak = 0;
  for (size_t i = 1; i < rir.size(); ++i) {
    if (std::fabs(rir[i]) > std::fabs(rir[peak])) peak = i;
  }
  const size_t direct_end = peak + static_cast<size_t>(std::lround(0.0025 * sample_rate));  // inclusive
  double direct = 0.0, reverberant = 0.0;
  for (size_t i = 0; i < rir.size(); ++i) {
    const double e = static_cast<double>(rir[i]) * rir[i];
    (i <= direct_end ? direct : reverberant) += e;
  }
  if (reverberant <= 0.0) return 200.0;
  if (direct <= 0.0) return -200.0;
  return std::clamp(10.0 * std::log10(direct / reverberant), -200.0, 200.0);
}

void reverberate(std::vector<float>& x, const std::vector<float>& rir) {
  if (rir.empty()) throw std::invalid_argument("empty impulse response");
  const size_t n = x.size();
  const double in_ms = mean_square(x.data(), n);
  if (in_ms <= 0.0) return;  // silence (or nothing) stays so
  // Only the first n samples of the output are kept, so the response beyond n cannot reach them.
  const size_t m = std::min(rir.size(), n);
  RealFft& fft = cached_real_fft(next_power_of_two(n + m - 1));
  fft.load(x.data(), n);
  fft.forward();
  const std::vector<std::complex<float>> spectrum = fft.spectrum();
  fft.load(rir.data(), m);
  fft.forward();
  for (size_t k = 0; k < fft.bins(); ++k) {
    const std::complex<float> v = spectrum[k] * std::complex<float>(fft.freq()[k][0], fft.freq()[k][1]);
    fft.freq()[k][0] = v.real();
    fft.freq()[k][1] = v.imag();
  }
  fft.inverse();
  std::copy(fft.time(), fft.time() + n, x.begin());
  const double out_ms = mean_square(x.data(), n);
  if (out_ms > 0.0) {
    scale(x, std::sqrt(in_ms / out_ms));
  } else {
    std::fill(x.begin(), x.end(), 0.0f);
  }
}

void microphone_response(std::vector<float>& x, int sample_rate, const MicSpec& spec, Rng& rng) {
  require_sample_rate(sample_rate);
  if (!(spec.max_eq_db >= 0.0) || !std::isfinite(spec.max_eq_db)) {
    throw std::invalid_argument("microphone EQ range must be a non-negative finite number of dB");
  }
  // The EQ curve: gain_db(u) = sum_k a_k cos(pi k u + phi_k) over u = normalised log-frequency in
  // [0, 1] from 20 Hz to Nyquist, scaled so its peak magnitude is a random share of max_eq_db. All
  // draws happen whatever the signal, so a seed means the same microphone for any clip length.
  const int n_terms = std::uniform_int_distribution<int>(2, 4)(rng);
  std::vector<double> amp(static_cast<size_t>(n_terms)), phase(static_cast<size_t>(n_terms));
  for (int k = 0; k < n_terms; ++k) {
    amp[static_cast<size_t>(k)] = uniform(-1.0, 1.0, rng);
    phase[static_cast<size_t>(k)] = uniform(0.0, 2.0 * kPi, rng);
  }
  const double peak_db = spec.max_eq_db * uniform(0.5, 1.0, rng);
  auto curve = [&](double u) {
    double g = 0.0;
    for (int k = 0; k < n_terms; ++k) {
      g += amp[static_cast<size_t>(k)] * std::cos(kPi * (k + 1) * u + phase[static_cast<size_t>(k)]);
    }
    return g;
  };
  double curve_max = 0.0;
  for (int i = 0; i <= 1000; ++i) curve_max = std::max(curve_max, std::fabs(curve(i / 1000.0)));
  const double curve_scale = curve_max > 0.0 ? peak_db / curve_max : 0.0;

  const size_t n = x.size();
  if (n == 0) return;
  const double sr = sample_rate, nyquist = sr / 2.0, f_low = std::min(20.0, nyquist / 2.0);
  const bool lowpass = spec.lowpass_hz > 0.0 && spec.lowpass_hz < nyquist;
  const double lp_width = 0.1 * spec.lowpass_hz;
  const bool highpass = spec.highpass_hz > 0.0;

  // Zero-padded to at least twice the length: the zero-phase filter acts as a linear (not
  // circular) filter, so the clip's end does not leak into its start.
  RealFft& fft = cached_real_fft(fft_size_at_least(2 * n));
  fft.load(x.data(), n);
  fft.forward();
  // The EQ gain, tabulated over u: the curve is smooth, and per bin it would cost most of the call.
  constexpr int kTable = 1024;
  std::vector<double> eq(kTable + 1);
  for (int i = 0; i <= kTable; ++i) eq[static_cast<size_t>(i)] = std::pow(10.0, curve_scale * curve(static_cast<double>(i) / kTable) / 20.0);
  const double inv_log_span = 1.0 / std::log(nyquist / f_low);
  for (size_t k = 0; k < fft.bins(); ++k) {
    const double f = static_cast<double>(k) * sr / static_cast<double>(fft.size());
    const double u = f <= f_low ? 0.0 : std::min(1.0, std::log(f / f_low) * inv_log_span);
    const double at = u * kTable;
    const auto i = std::min(static_cast<size_t>(at), static_cast<size_t>(kTable - 1));
    double g = eq[i] + (eq[i + 1] - eq[i]) * (at - static_cast<double>(i));
    if (lowpass) {
      if (f >= spec.lowpass_hz) {
        g = 0.0;
      } else if (f > spec.lowpass_hz - lp_width) {
        g *= 0.5 + 0.5 * std::cos(kPi * (f - (spec.lowpass_hz - lp_width)) / lp_width);
      }
    }
    if (highpass) {
      const double r = f / spec.highpass_hz;
      g *= r / std::sqrt(1.0 + r * r);
    }
    fft.freq()[k][0] *= static_cast<float>(g);
    fft.freq()[k][1] *= static_cast<float>(g);
  }
  fft.inverse();
  std::copy(fft.time(), fft.time() + n, x.begin());
}

void hard_clip(std::vector<float>& x, float level) {
  if (!(level > 0.0f && level <= 1.0f)) throw std::invalid_argument("clip level must be in (0, 1], got " + std::to_string(level));
  for (float& s : x) s = std::clamp(s, -level, level);
}

}  // namespace escd

// Room and microphone simulation: noise colour and level, SNR, room impulse responses (checked with
// the Schroeder estimator, itself checked on an exact exponential), reverberation, microphone
// colouration, room tones and the textual condition spec. Spectra here are computed with a direct
// DFT rather than FFTW, so a check does not share its transform with the code it checks.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <set>
#include <stdexcept>

#include "data/room_acoustics.h"
#include "data/room_condition.h"
#include "data/room_tone.h"

namespace escd {
namespace {

constexpr int kRate = 16000;
constexpr double kPi = 3.14159265358979323846;

std::vector<float> sine(double freq, size_t n, double amplitude = 0.5) {
  std::vector<float> x(n);
  for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(amplitude * std::sin(2.0 * kPi * freq * i / kRate));
  return x;
}

double db(double power_ratio) { return 10.0 * std::log10(power_ratio); }

double power(const std::vector<float>& x) { return mean_square(x.data(), x.size()); }

// Mean power of DFT bins [k_lo, k_hi] over non-overlapping Hann-windowed segments of `seg` samples.
std::vector<double> welch_power(const std::vector<float>& x, size_t seg, size_t k_lo, size_t k_hi) {
  std::vector<double> cos_t(seg), sin_t(seg), window(seg);
  for (size_t i = 0; i < seg; ++i) {
    cos_t[i] = std::cos(2.0 * kPi * i / seg);
    sin_t[i] = std::sin(2.0 * kPi * i / seg);
    window[i] = 0.5 - 0.5 * std::cos(2.0 * kPi * i / seg);
  }
  std::vector<double> p(k_hi - k_lo + 1, 0.0), w(seg);
  const size_t n_seg = x.size() / seg;
  for (size_t s = 0; s < n_seg; ++s) {
    for (size_t i = 0; i < seg; ++i) w[i] = window[i] * x[s * seg + i];
    for (size_t k = k_lo; k <= k_hi; ++k) {
      double re = 0.0, im = 0.0;
      for (size_t i = 0, idx = 0; i < seg; ++i, idx = (idx + k) % seg) {
        re += w[i] * cos_t[idx];
        im -= w[i] * sin_t[idx];
      }
      p[k - k_lo] += re * re + im * im;
    }
  }
  for (double& v : p) v /= static_cast<double>(n_seg);
  return p;
}

// Slope of the octave-band power in dB per octave, bands centred on 125 Hz .. 4 kHz.
double octave_slope_db(const std::vector<float>& x) {
  const size_t seg = 1024;
  const double bin_hz = static_cast<double>(kRate) / seg;
  const size_t k_lo = static_cast<size_t>(std::ceil(125.0 / std::sqrt(2.0) / bin_hz));
  const size_t k_hi = static_cast<size_t>(std::floor(4000.0 * std::sqrt(2.0) / bin_hz));
  const std::vector<double> p = welch_power(x, seg, k_lo, k_hi);
  std::vector<double> xs, ys;
  for (int o = 0; o < 6; ++o) {
    const double centre = 125.0 * std::pow(2.0, o);
    double sum = 0.0;
    int count = 0;
    for (size_t k = k_lo; k <= k_hi; ++k) {
      const double f = k * bin_hz;
      if (f >= centre / std::sqrt(2.0) && f < centre * std::sqrt(2.0)) {
        sum += p[k - k_lo];
        ++count;
      }
    }
    xs.push_back(o);
    ys.push_back(db(sum / count));
  }
  const double n = static_cast<double>(xs.size());
  double sx = 0, sy = 0, sxx = 0, sxy = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    sx += xs[i];
    sy += ys[i];
    sxx += xs[i] * xs[i];
    sxy += xs[i] * ys[i];
  }
  return (n * sxy - sx * sy) / (n * sxx - sx * sx);
}

TEST(RoomAcoustics, NoiseColourNamesRoundTripAndBadNameThrows) {
  for (NoiseColour c : {NoiseColour::white, NoiseColour::pink, NoiseColour::brown}) {
    EXPECT_EQ(parse_noise_colour(noise_colour_name(c)), c);
  }
  try {
    parse_noise_colour("purple");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("purple"), std::string::npos) << e.what();
  }
}

TEST(RoomAcoustics, ColouredNoiseHasUnitRmsZeroMeanAndTheRightSlope) {
  const double expected[] = {0.0, -3.0103, -6.0206};
  const NoiseColour colours[] = {NoiseColour::white, NoiseColour::pink, NoiseColour::brown};
  for (int c = 0; c < 3; ++c) {
    Rng rng(11 + c);
    const std::vector<float> x = coloured_noise(32768, colours[c], rng);
    ASSERT_EQ(x.size(), 32768u);
    EXPECT_NEAR(std::sqrt(power(x)), 1.0, 1e-4) << noise_colour_name(colours[c]);
    double mean = 0.0;
    for (float v : x) mean += v;
    EXPECT_NEAR(mean / x.size(), 0.0, 1e-4) << noise_colour_name(colours[c]);
    const double slope = octave_slope_db(x);
    EXPECT_NEAR(slope, expected[c], 0.7) << noise_colour_name(colours[c]);
    RecordProperty(std::string("slope_") + noise_colour_name(colours[c]), std::to_string(slope));
  }
  Rng a(3), b(3);
  EXPECT_EQ(coloured_noise(1000, NoiseColour::pink, a), coloured_noise(1000, NoiseColour::pink, b));
  EXPECT_TRUE(coloured_noise(0, NoiseColour::white, a).empty());
}

TEST(RoomAcoustics, LevelsAndGain) {
  EXPECT_EQ(rms_dbfs(std::vector<float>(100, 0.0f)), -200.0);
  EXPECT_EQ(rms_dbfs({}), -200.0);
  EXPECT_NEAR(rms_dbfs(std::vector<float>(100, 0.5f)), 20.0 * std::log10(0.5), 1e-9);
  std::vector<float> x = sine(440.0, 8000);
  const double before = rms_dbfs(x);
  apply_gain_db(x, -20.0);
  EXPECT_NEAR(rms_dbfs(x), before - 20.0, 1e-3);
  apply_gain_db(x, 6.0);
  EXPECT_NEAR(rms_dbfs(x), before - 14.0, 1e-3);
}

TEST(RoomAcoustics, NoiseIsAddedAtTheRequestedSnr) {
  Rng rng(5);
  const std::vector<float> clean = sine(440.0, 16000);
  for (NoiseColour colour : {NoiseColour::white, NoiseColour::brown}) {
    // Longer than the signal: only its first signal.size() samples are used.
    const std::vector<float> noise = coloured_noise(16100, colour, rng);
    for (double snr : {-10.0, 0.0, 10.0, 35.0}) {
      std::vector<float> x = clean;
      ASSERT_TRUE(add_noise_at_snr(x, noise, snr));
      ASSERT_EQ(x.size(), clean.size());
      double p_noise = 0.0;
      for (size_t i = 0; i < x.size(); ++i) p_noise += (static_cast<double>(x[i]) - clean[i]) * (static_cast<double>(x[i]) - clean[i]);
      p_noise /= static_cast<double>(x.size());
      EXPECT_NEAR(db(power(clean) / p_noise), snr, 0.01) << noise_colour_name(colour) << " at " << snr;
    }
  }
  std::vector<float> silent(1000, 0.0f);
  EXPECT_FALSE(add_noise_at_snr(silent, coloured_noise(1000, NoiseColour::white, rng), 10.0));
  EXPECT_EQ(silent, std::vector<float>(1000, 0.0f));
  std::vector<float> x = clean;
  EXPECT_THROW(add_noise_at_snr(x, std::vector<float>(10, 1.0f), 10.0), std::invalid_argument);
}

TEST(RoomAcoustics, Rt60EstimatorIsExactOnAnExponentialDecay) {
  const double t60 = 0.4;
  std::vector<float> h(static_cast<size_t>(1.5 * t60 * kRate));
  for (size_t i = 0; i < h.size(); ++i) h[i] = static_cast<float>(std::exp(-3.0 * std::log(10.0) * i / (t60 * kRate)));
  EXPECT_NEAR(estimate_rt60(h, kRate), t60, 0.01 * t60);
  EXPECT_EQ(estimate_rt60({1.0f}, kRate), 0.0);
  // Direct: up to 2.5 ms (40 samples) after the peak; everything later is reverberant.
  std::vector<float> d(100, 0.0f);
  d[3] = 1.0f;
  d[40] = 0.5f;  // within the window: direct
  d[60] = 0.5f;  // reverberant
  EXPECT_NEAR(direct_to_reverberant_db(d, kRate), db(1.25 / 0.25), 1e-6);
}

TEST(RoomAcoustics, ImpulseResponseHasTheRequestedRt60) {
  for (double rt60 : {0.2, 0.5, 1.0}) {
    for (int seed = 1; seed <= 4; ++seed) {
      Rng rng(seed);
      const std::vector<float> h = room_impulse_response(kRate, {rt60, 0.0}, rng);
      ASSERT_EQ(h.size(), static_cast<size_t>(std::ceil(1.2 * rt60 * kRate)));
      EXPECT_EQ(h[0], 1.0f);
      // The gap of at least 1 ms after the direct path.
      for (int i = 1; i < kRate / 1000; ++i) EXPECT_EQ(h[i], 0.0f) << i;
      const double measured = estimate_rt60(h, kRate);
      EXPECT_NEAR(measured, rt60, 0.15 * rt60) << "seed " << seed;
    }
  }
  Rng rng(1);
  EXPECT_EQ(room_impulse_response(kRate, {1e-5, 0.0}, rng), std::vector<float>{1.0f});
}

TEST(RoomAcoustics, ImpulseResponseHasTheRequestedDrr) {
  for (double rt60 : {0.5, 1.0}) {
    for (double drr : {-5.0, 0.0, 10.0}) {
      for (int seed = 1; seed <= 3; ++seed) {
        Rng rng(seed);
        const std::vector<float> h = room_impulse_response(kRate, {rt60, drr}, rng);
        // By construction: the tail's energy against the unit direct path.
        double tail = 0.0;
        for (size_t i = 1; i < h.size(); ++i) tail += static_cast<double>(h[i]) * h[i];
        EXPECT_NEAR(db(1.0 / tail), drr, 1e-3);
        // As measured with the usual 2.5 ms direct window.
        EXPECT_NEAR(direct_to_reverberant_db(h, kRate), drr, 1.5) << "rt60 " << rt60 << " seed " << seed;
      }
    }
  }
}

TEST(RoomAcoustics, ReverberationKeepsLengthAndLevelAndAlignsWithTheDrySignal) {
  Rng rng(2);
  const std::vector<float> h = room_impulse_response(kRate, {0.5, 0.0}, rng);
  std::vector<float> x = coloured_noise(12000, NoiseColour::pink, rng);
  apply_gain_db(x, -12.0);
  const std::vector<float> dry = x;
  reverberate(x, h);
  ASSERT_EQ(x.size(), dry.size());
  EXPECT_NEAR(rms_dbfs(x), rms_dbfs(dry), 1e-3);
  EXPECT_NE(x, dry);

  // An impulse gives back the response's prefix, at the impulse's RMS.
  std::vector<float> impulse(4000, 0.0f);
  impulse[0] = 1.0f;
  ASSERT_GT(h.size(), impulse.size());
  const std::vector<float> prefix(h.begin(), h.begin() + impulse.size());
  const double k = std::sqrt(power(impulse) / power(prefix));
  reverberate(impulse, h);
  ASSERT_EQ(impulse.size(), prefix.size());
  for (size_t i = 0; i < prefix.size(); ++i) ASSERT_NEAR(impulse[i], k * prefix[i], 1e-5 * k) << i;

  std::vector<float> zeros(500, 0.0f);
  reverberate(zeros, h);
  EXPECT_EQ(zeros, std::vector<float>(500, 0.0f));
  EXPECT_THROW(reverberate(zeros, {}), std::invalid_argument);
}

TEST(RoomAcoustics, MicrophoneLowPassRemovesHighTonesAndEqStaysWithinRange) {
  const MicSpec spec{6.0, 4000.0, 100.0};
  std::set<long> pass_gains;
  for (int seed = 1; seed <= 4; ++seed) {
    Rng rng(seed);
    std::vector<float> high = sine(6000.0, 16000);
    const double p_high = power(high);
    microphone_response(high, kRate, spec, rng);
    ASSERT_EQ(high.size(), 16000u);
    EXPECT_LT(db(power(high) / p_high), -30.0) << "seed " << seed;

    Rng rng2(seed);
    std::vector<float> pass = sine(1000.0, 16000);
    const double p_pass = power(pass);
    microphone_response(pass, kRate, spec, rng2);
    const double gain = db(power(pass) / p_pass);
    EXPECT_LE(std::fabs(gain), spec.max_eq_db + 0.1) << "seed " << seed;
    pass_gains.insert(std::lround(gain * 100.0));
  }
  EXPECT_GT(pass_gains.size(), 1u) << "the EQ curve should differ between seeds";

  // No EQ and no band limit: the signal passes unchanged.
  Rng rng(1);
  std::vector<float> x = sine(1000.0, 4000);
  const std::vector<float> before = x;
  microphone_response(x, kRate, {0.0, 0.0, 0.0}, rng);
  for (size_t i = 0; i < x.size(); ++i) ASSERT_NEAR(x[i], before[i], 1e-5) << i;
}

TEST(RoomAcoustics, HardClip) {
  std::vector<float> x = {-1.0f, -0.3f, 0.0f, 0.2f, 0.9f};
  hard_clip(x, 0.25f);
  EXPECT_EQ(x, (std::vector<float>{-0.25f, -0.25f, 0.0f, 0.2f, 0.25f}));
  EXPECT_THROW(hard_clip(x, 0.0f), std::invalid_argument);
  EXPECT_THROW(hard_clip(x, 1.5f), std::invalid_argument);
}

TEST(RoomAcoustics, RoomTonesHaveTheRequestedLevel) {
  ASSERT_EQ(room_tone_kinds(), (std::vector<std::string>{"silence", "white", "pink", "brown", "hum", "hvac"}));
  for (const std::string& kind : room_tone_kinds()) {
    for (int seed = 1; seed <= 2; ++seed) {
      Rng rng(seed);
      const std::vector<float> x = room_tone(kind, 16000, kRate, -35.0, rng);
      ASSERT_EQ(x.size(), 16000u) << kind;
      if (kind == "silence") {
        EXPECT_EQ(x, std::vector<float>(16000, 0.0f));
      } else {
        EXPECT_NEAR(rms_dbfs(x), -35.0, 0.1) << kind;
      }
    }
  }
  Rng rng(1);
  EXPECT_THROW(room_tone("traffic", 100, kRate, -30.0, rng), std::invalid_argument);
}

TEST(RoomAcoustics, VentilationBreathesDeeperWithALargerDepthLimit) {
  // The same seed draws the same noise, tones and place in the depth range, so the two signals differ
  // only in the envelope's depth: their level difference per half second swings with the deeper
  // envelope (brown noise's own slow swings, tens of dB, cancel in the difference).
  const size_t block = kRate / 2;
  double mean_swing_db = 0.0;
  for (int seed = 1; seed <= 8; ++seed) {
    Rng a(seed), b(seed);
    const std::vector<float> shallow = room_tone("hvac", 20 * kRate, kRate, -30.0, a);
    const std::vector<float> deep = room_tone("hvac", 20 * kRate, kRate, -30.0, b, 0.9);
    double lo = 1e300, hi = -1e300;
    for (size_t start = 0; start + block <= shallow.size(); start += block) {
      const double difference = rms_dbfs(deep.data() + start, block) - rms_dbfs(shallow.data() + start, block);
      lo = std::min(lo, difference);
      hi = std::max(hi, difference);
    }
    mean_swing_db += (hi - lo) / 8.0;
  }
  EXPECT_GT(mean_swing_db, 3.0) << "mean swing of the level difference " << mean_swing_db << " dB";
  Rng rng(1);
  EXPECT_THROW(room_tone("hvac", 100, kRate, -30.0, rng, 0.01), std::invalid_argument);
  EXPECT_THROW(room_tone("hvac", 100, kRate, -30.0, rng, 1.5), std::invalid_argument);
}

TEST(RoomAcoustics, HumPeaksAtTheMainsFrequency) {
  // One second at integer frequencies: every DFT twiddle is an entry of a one-period table.
  std::vector<double> cos_t(kRate), sin_t(kRate);
  for (int i = 0; i < kRate; ++i) {
    cos_t[i] = std::cos(2.0 * kPi * i / kRate);
    sin_t[i] = std::sin(2.0 * kPi * i / kRate);
  }
  std::set<size_t> mains;
  for (int seed = 1; seed <= 6; ++seed) {
    Rng rng(seed);
    const std::vector<float> x = room_tone("hum", kRate, kRate, -30.0, rng);
    size_t peak = 0;
    double peak_power = -1.0;
    for (size_t f = 20; f <= 500; ++f) {  // the fundamental and its strongest harmonics
      double re = 0.0, im = 0.0;
      for (size_t i = 0, idx = 0; i < x.size(); ++i, idx = idx + f >= kRate ? idx + f - kRate : idx + f) {
        re += x[i] * cos_t[idx];
        im += x[i] * sin_t[idx];
      }
      if (re * re + im * im > peak_power) {
        peak_power = re * re + im * im;
        peak = f;
      }
    }
    EXPECT_TRUE(peak == 50 || peak == 60) << "seed " << seed << " peak " << peak;
    mains.insert(peak);
  }
  EXPECT_EQ(mains, (std::set<size_t>{50, 60}));
}

TEST(RoomAcoustics, ConditionSpecsParseToCanonicalText) {
  const RoomCondition clean = parse_room_condition("clean");
  EXPECT_EQ(clean.text, "clean");
  EXPECT_FALSE(clean.gain_db || clean.noise_colour || clean.rt60_s || clean.clip_level);

  const RoomCondition c = parse_room_condition("gain=-20,noise=pink@10,rt60=0.5");
  EXPECT_EQ(c.text, "rt60=0.5,noise=pink@10,gain=-20");
  ASSERT_TRUE(c.gain_db && c.noise_colour && c.rt60_s);
  EXPECT_EQ(*c.gain_db, -20.0);
  EXPECT_EQ(*c.noise_colour, NoiseColour::pink);
  EXPECT_EQ(c.snr_db, 10.0);
  EXPECT_EQ(*c.rt60_s, 0.5);
  EXPECT_EQ(c.drr_db, 0.0);
  EXPECT_FALSE(c.clip_level);

  const std::pair<const char*, const char*> cases[] = {
      {"gain=+10", "gain=10"},
      {"rt60=0.5,drr=0", "rt60=0.5"},
      {"drr=-3,rt60=1.25", "rt60=1.25,drr=-3"},
      {"clip=0.5,noise=brown@-5", "noise=brown@-5,clip=0.5"},
      {"clip=1,gain=0.1,noise=white@80,rt60=3,drr=7.5", "rt60=3,drr=7.5,noise=white@80,gain=0.1,clip=1"},
  };
  for (const auto& [in, canonical] : cases) {
    const RoomCondition p = parse_room_condition(in);
    EXPECT_EQ(p.text, canonical) << in;
    const RoomCondition again = parse_room_condition(p.text);
    EXPECT_EQ(again.text, p.text);
    EXPECT_EQ(again.gain_db, p.gain_db);
    EXPECT_EQ(again.noise_colour, p.noise_colour);
    EXPECT_EQ(again.snr_db, p.snr_db);
    EXPECT_EQ(again.rt60_s, p.rt60_s);
    EXPECT_EQ(again.drr_db, p.drr_db);
    EXPECT_EQ(again.clip_level, p.clip_level);
  }
}

TEST(RoomAcoustics, BadConditionSpecsThrowNamingTheItem) {
  const std::pair<const char*, const char*> cases[] = {
      {"", ""},                                    // empty
      {"gain=1,", ""},                             // empty item
      {"loud=3", "loud=3"},                        // unknown key
      {"gain", "gain"},                            // no value
      {"gain=abc", "gain=abc"},                    // malformed
      {"gain=1e", "gain=1e"},                      // malformed
      {"gain= 1", "gain= 1"},                      // malformed
      {"gain=nan", "gain=nan"},                    // not finite
      {"gain=-81", "gain=-81"},                    // out of range
      {"noise=pink@90", "noise=pink@90"},          // out of range
      {"noise=pink@-21", "noise=pink@-21"},        // out of range
      {"noise=purple@10", "noise=purple@10"},      // unknown colour
      {"noise=pink", "noise=pink"},                // no SNR
      {"rt60=0", "rt60=0"},                        // out of range
      {"rt60=3.5", "rt60=3.5"},                    // out of range
      {"rt60=0.5,drr=50", "drr=50"},               // out of range
      {"drr=3", "drr=3"},                          // without rt60
      {"clip=0", "clip=0"},                        // out of range
      {"clip=1.01", "clip=1.01"},                  // out of range
      {"gain=1,rt60=1,gain=2", "gain=2"},          // repeated
      {"clean,gain=1", "clean"},                   // clean not alone
  };
  for (const auto& [spec, item] : cases) {
    try {
      parse_room_condition(spec);
      ADD_FAILURE() << "no exception for '" << spec << "'";
    } catch (const std::invalid_argument& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("item '" + std::string(item) + "'"), std::string::npos) << spec << ": " << what;
      EXPECT_NE(what.find("grammar"), std::string::npos) << what;
    }
  }
}

TEST(RoomAcoustics, ApplyingAConditionIsDeterministicPerSeed) {
  const RoomCondition c = parse_room_condition("rt60=0.3,drr=3,noise=pink@10,gain=-6,clip=0.2");
  const std::vector<float> dry = sine(300.0, 8000, 0.8);
  std::vector<float> a = dry, b = dry, other = dry;
  Rng r1(7), r2(7), r3(8);
  apply_room_condition(a, kRate, c, r1);
  apply_room_condition(b, kRate, c, r2);
  apply_room_condition(other, kRate, c, r3);
  ASSERT_EQ(a.size(), dry.size());
  EXPECT_EQ(a, b);
  EXPECT_NE(a, other);
  EXPECT_LE(*std::max_element(a.begin(), a.end()), 0.2f);
  EXPECT_GE(*std::min_element(a.begin(), a.end()), -0.2f);

  std::vector<float> x = dry;
  Rng rng(1);
  apply_room_condition(x, kRate, parse_room_condition("clean"), rng);
  EXPECT_EQ(x, dry);
  apply_room_condition(x, kRate, parse_room_condition("gain=-20"), rng);
  EXPECT_NEAR(rms_dbfs(x), rms_dbfs(dry) - 20.0, 1e-3);
  std::vector<float> silent(800, 0.0f);
  apply_room_condition(silent, kRate, parse_room_condition("rt60=0.5,noise=white@0"), rng);
  EXPECT_EQ(silent, std::vector<float>(800, 0.0f));
}

}  // namespace
}  // namespace escd

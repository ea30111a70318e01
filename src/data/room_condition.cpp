#include "data/room_condition.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string_view>

#include "util/number_text.h"

namespace escd {

namespace {

const char* const kConditionGrammar =
    "grammar: 'clean', or comma-separated items gain=DB, noise=white|pink|brown@SNR_DB, rt60=SECONDS, "
    "drr=DB (with rt60), clip=LEVEL, each at most once";

[[noreturn]] void bad_condition_item(const std::string& item, const std::string& why) {
  throw std::invalid_argument("room condition item '" + item + "': " + why + " (" + kConditionGrammar + ")");
}

// A whole-string decimal number (an optional leading '+' allowed), finite; locale-independent.
double parse_condition_number(const std::string& item, const std::string& text) {
  std::string_view s(text);
  if (s.size() > 1 && s[0] == '+' && s[1] != '-' && s[1] != '+') s.remove_prefix(1);
  double value = 0.0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || !std::isfinite(value)) {
    bad_condition_item(item, "'" + text + "' is not a number");
  }
  return value;
}

}  // namespace

RoomCondition parse_room_condition(const std::string& text) {
  RoomCondition c;
  if (text == "clean") return c;
  std::vector<std::string> items;
  for (size_t pos = 0;;) {
    const size_t comma = text.find(',', pos);
    items.push_back(text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos));
    if (comma == std::string::npos) break;
    pos = comma + 1;
  }
  std::vector<std::string> seen;
  std::optional<double> drr;
  for (const std::string& item : items) {
    const size_t eq = item.find('=');
    if (eq == std::string::npos) {
      bad_condition_item(item, item == "clean" ? "'clean' must stand alone" : "expected KEY=VALUE");
    }
    const std::string key = item.substr(0, eq), value = item.substr(eq + 1);
    if (std::find(seen.begin(), seen.end(), key) != seen.end()) bad_condition_item(item, "'" + key + "' given twice");
    seen.push_back(key);
    if (key == "gain") {
      const double v = parse_condition_number(item, value);
      if (std::fabs(v) > kRoomGainDbLimit) bad_condition_item(item, "gain must be within [-80, 80] dB");
      c.gain_db = v;
    } else if (key == "noise") {
      const size_t at = value.find('@');
      if (at == std::string::npos) bad_condition_item(item, "expected noise=COLOUR@SNR_DB");
      try {
        c.noise_colour = parse_noise_colour(value.substr(0, at));
      } catch (const std::invalid_argument& e) {
        bad_condition_item(item, e.what());
      }
      const double v = parse_condition_number(item, value.substr(at + 1));
      if (v < kRoomSnrDbMin || v > kRoomSnrDbMax) bad_condition_item(item, "SNR must be within [-20, 80] dB");
      c.snr_db = v;
    } else if (key == "rt60") {
      const double v = parse_condition_number(item, value);
      if (!(v > 0.0 && v <= kRoomRt60MaxSeconds)) bad_condition_item(item, "RT60 must be in (0, 3] seconds");
      c.rt60_s = v;
    } else if (key == "drr") {
      const double v = parse_condition_number(item, value);
      if (std::fabs(v) > kRoomDrrDbLimit) bad_condition_item(item, "DRR must be within [-40, 40] dB");
      drr = v;
    } else if (key == "clip") {
      const double v = parse_condition_number(item, value);
      if (!(v > 0.0 && v <= 1.0)) bad_condition_item(item, "clip level must be in (0, 1]");
      c.clip_level = v;
    } else {
      bad_condition_item(item, "unknown key '" + key + "'");
    }
  }
  if (drr) {
    if (!c.rt60_s) bad_condition_item("drr=" + number_text(*drr), "drr needs rt60");
    c.drr_db = *drr;
  }

  std::vector<std::string> parts;
  if (c.rt60_s) {
    parts.push_back("rt60=" + number_text(*c.rt60_s));
    if (c.drr_db != 0.0) parts.push_back("drr=" + number_text(c.drr_db));
  }
  if (c.noise_colour) parts.push_back(std::string("noise=") + noise_colour_name(*c.noise_colour) + "@" + number_text(c.snr_db));
  if (c.gain_db) parts.push_back("gain=" + number_text(*c.gain_db));
  if (c.clip_level) parts.push_back("clip=" + number_text(*c.clip_level));
  c.text.clear();
  for (const std::string& p : parts) c.text += (c.text.empty() ? "" : ",") + p;
  return c;
}

void apply_room_condition(std::vector<float>& x, int sample_rate, const RoomCondition& c, Rng& rng) {
  if (c.rt60_s) reverberate(x, room_impulse_response(sample_rate, {*c.rt60_s, c.drr_db}, rng));
  if (c.noise_colour) {
    const std::vector<float> noise = coloured_noise(x.size(), *c.noise_colour, rng);
    if (mean_square(noise.data(), noise.size()) > 0.0) add_noise_at_snr(x, noise, c.snr_db);
  }
  if (c.gain_db) apply_gain_db(x, *c.gain_db);
  if (c.clip_level) hard_clip(x, static_cast<float>(*c.clip_level));
}

}  // namespace escd

// One room perturbation as text, so that a command line (esc-train eval --condition) can ask for
// exactly it: microphone gain, background noise at an SNR, reverberation, clipping.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "data/room_acoustics.h"

namespace escd {

// One deterministic perturbation, as text so that a command line can ask for it. Grammar: "clean"
// alone, or comma-separated items gain=DB, noise=COLOUR@SNR_DB, rt60=SECONDS, drr=DB (needs rt60),
// clip=LEVEL, each at most once. The canonical text lists them in the order they are applied.
struct RoomCondition {
  std::optional<double> gain_db;
  std::optional<NoiseColour> noise_colour;
  double snr_db = 0;  // meaningful only with noise_colour
  std::optional<double> rt60_s;
  double drr_db = 0;  // meaningful only with rt60_s
  std::optional<double> clip_level;
  std::string text = "clean";  // canonical, e.g. "rt60=0.5,noise=pink@10,gain=-20"
};

// Ranges: |gain| <= 80, snr in [-20, 80], rt60 in (0, 3], |drr| <= 40, clip in (0, 1]. Unknown keys,
// malformed numbers, out-of-range values, repeated keys: std::invalid_argument naming the item.
RoomCondition parse_room_condition(const std::string& text);

// Applies c in physical order: reverberation (the room), noise (its background), gain (the
// microphone level), clipping. Every random draw comes from rng. Noise is not added to a silent
// signal (its SNR is undefined).
void apply_room_condition(std::vector<float>& x, int sample_rate, const RoomCondition& c, Rng& rng);

}  // namespace escd

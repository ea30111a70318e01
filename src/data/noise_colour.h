// The colours of background noise that the room simulation makes (room_acoustics.h) and that a
// training recipe or a room condition names: white, pink (power falling as 1/f) and brown (1/f^2).
#pragma once

#include <string>

namespace escd {

enum class NoiseColour { white, pink, brown };

// "white", "pink" or "brown"; anything else throws std::invalid_argument naming the value.
NoiseColour parse_noise_colour(const std::string& name);
const char* noise_colour_name(NoiseColour colour);

}  // namespace escd

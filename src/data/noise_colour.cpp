#include "data/noise_colour.h"

#include <stdexcept>

namespace escd {

NoiseColour parse_noise_colour(const std::string& name) {
  if (name == "white") return NoiseColour::white;
  if (name == "pink") return NoiseColour::pink;
  if (name == "brown") return NoiseColour::brown;
  throw std::invalid_argument("unknown noise colour '" + name + "' (expected white, pink or brown)");
}

const char* noise_colour_name(NoiseColour colour) {
  switch (colour) {
    case NoiseColour::white: return "white";
    case NoiseColour::pink: return "pink";
    case NoiseColour::brown: return "brown";
  }
  return "unknown";
}

}  // namespace escd

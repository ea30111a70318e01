#include "models/common/json_fields.h"

#include <limits>
#include <stdexcept>

namespace escd {
namespace {

const nlohmann::json& field(const nlohmann::json& object, const std::string& key) {
  if (!object.is_object()) throw std::invalid_argument("expected a JSON object holding '" + key + "', got " + object.dump());
  const auto it = object.find(key);
  if (it == object.end()) throw std::invalid_argument("'" + key + "' is missing");
  return *it;
}

}  // namespace

int64_t integer_field(const nlohmann::json& object, const std::string& key, int64_t lo, int64_t hi) {
  const nlohmann::json& v = field(object, key);
  // An unsigned value beyond INT64_MAX would wrap to a negative int64: compare it as unsigned.
  const bool in_range = v.is_number_unsigned()
                            ? hi >= 0 && v.get<uint64_t>() <= static_cast<uint64_t>(hi) && static_cast<int64_t>(v.get<uint64_t>()) >= lo
                            : v.is_number_integer() && v.get<int64_t>() >= lo && v.get<int64_t>() <= hi;
  if (!in_range) {
    throw std::invalid_argument("'" + key + "': expected an integer " + std::to_string(lo) + ".." + std::to_string(hi) +
                                ", got " + v.dump());
  }
  return v.get<int64_t>();
}

double number_field(const nlohmann::json& object, const std::string& key, double lo, double hi) {
  const nlohmann::json& v = field(object, key);
  if (!v.is_number() || !(v.get<double>() >= lo && v.get<double>() <= hi)) {
    const bool bounded = lo > -std::numeric_limits<double>::max() || hi < std::numeric_limits<double>::max();
    const std::string range = bounded ? " in [" + nlohmann::json(lo).dump() + ", " + nlohmann::json(hi).dump() + "]" : "";
    throw std::invalid_argument("'" + key + "': expected a number" + range + ", got " + v.dump());
  }
  return v.get<double>();
}

std::string string_field(const nlohmann::json& object, const std::string& key) {
  const nlohmann::json& v = field(object, key);
  if (!v.is_string()) throw std::invalid_argument("'" + key + "': expected a string, got " + v.dump());
  return v.get<std::string>();
}

}  // namespace escd

// Typed reads of numbers and strings from JSON that came from a file: checkpoint metadata, a
// model's hyperparameters (checkpoints and recipes). nlohmann's get<int64_t>() of 1e300 is undefined
// behaviour, of 2.5 a silent truncation and of 5e9 into an int a wrap, and any of them would size an
// allocation. Each read checks the type and the range first and throws std::invalid_argument naming
// the key, what was expected and what was there; callers add the file or the model.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <limits>
#include <string>

namespace escd {

// object[key]: an integer in [lo, hi] (1e3 and 2.5 are not integers).
int64_t integer_field(const nlohmann::json& object, const std::string& key, int64_t lo, int64_t hi);

// object[key]: a number in [lo, hi] (integers are numbers).
double number_field(const nlohmann::json& object, const std::string& key,
                    double lo = -std::numeric_limits<double>::max(), double hi = std::numeric_limits<double>::max());

// object[key]: a string.
std::string string_field(const nlohmann::json& object, const std::string& key);

}  // namespace escd

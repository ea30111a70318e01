#include "util/toml_json.h"

#include <toml++/toml.h>

#include <filesystem>
#include <fstream>
#include <sstream>

namespace escd {
namespace {

nlohmann::json to_json(const toml::node& node) {
  if (const auto* table = node.as_table()) {
    nlohmann::json out = nlohmann::json::object();
    for (const auto& [key, value] : *table) out[std::string(key.str())] = to_json(value);
    return out;
  }
  if (const auto* array = node.as_array()) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& value : *array) out.push_back(to_json(value));
    return out;
  }
  if (const auto* v = node.as_string()) return v->get();
  if (const auto* v = node.as_integer()) return v->get();
  if (const auto* v = node.as_floating_point()) return v->get();
  if (const auto* v = node.as_boolean()) return v->get();
  std::ostringstream s;  // dates and times: kept as their TOML text
  node.visit([&s](const auto& value) {
    if constexpr (toml::is_date<decltype(value)> || toml::is_time<decltype(value)> ||
                  toml::is_date_time<decltype(value)>) {
      s << value;
    }
  });
  return s.str();
}

}  // namespace

nlohmann::json parse_toml(const std::string& text, const std::string& source) {
  try {
    return to_json(toml::parse(text, source));
  } catch (const toml::parse_error& e) {
    const auto& where = e.source().begin;
    throw ConfigError(source + ":" + std::to_string(where.line) + ":" + std::to_string(where.column) + ": " +
                      std::string(e.description()));
  }
}

nlohmann::json load_toml_file(const std::string& path) {
  std::ifstream in(path);
  if (!in) {
    throw ConfigError(path + ": " + (std::filesystem::exists(path) ? "cannot be read" : "no such config file"));
  }
  std::stringstream text;
  text << in.rdbuf();
  return parse_toml(text.str(), path);
}

}  // namespace escd

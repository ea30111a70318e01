#include "settings_difference.h"

namespace escd::train {
namespace {

std::string shown(const nlohmann::json* value) {
  if (value == nullptr) return "absent";
  // Invalid UTF-8 in a value is replaced, and the cut backs off to a character's first byte, so that
  // the message stays valid text (a refusal is itself sent on as JSON between ranks).
  const std::string text = value->dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
  if (text.size() <= 200) return text;
  size_t end = 200;
  while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80) --end;
  return text.substr(0, end) + "...";
}

SettingsDifference leaf(const std::string& name, const nlohmann::json* was, const nlohmann::json* now) {
  if (was != nullptr && now != nullptr && was->is_object() && now->is_object()) {
    if (auto inner = first_difference(*was, *now)) {
      inner->name = name + "." + inner->name;
      return *inner;
    }
  }
  return {name, shown(was), shown(now)};
}

}  // namespace

std::optional<SettingsDifference> first_difference(const nlohmann::json& was, const nlohmann::json& now) {
  if (!was.is_object() || !now.is_object()) {
    if (was == now) return std::nullopt;
    return SettingsDifference{"", shown(&was), shown(&now)};
  }
  for (const auto& [key, value] : now.items()) {
    const auto it = was.find(key);
    if (it == was.end()) return leaf(key, nullptr, &value);
    if (*it != value) return leaf(key, &*it, &value);
  }
  for (const auto& [key, value] : was.items()) {
    if (!now.contains(key)) return leaf(key, &value, nullptr);
  }
  return std::nullopt;
}

nlohmann::json recorded_settings(const nlohmann::json& record, const nlohmann::json& settings) {
  nlohmann::json recorded = nlohmann::json::object();
  for (const auto& [key, value] : settings.items()) {
    if (record.contains(key)) recorded[key] = record.at(key);
  }
  return recorded;
}

std::optional<SettingsDifference> difference_from_record(const nlohmann::json& record, const nlohmann::json& settings) {
  return first_difference(recorded_settings(record, settings), settings);
}

}  // namespace escd::train

#include "curve_keys.h"

#include <zmq.h>

#include <cstdint>
#include <stdexcept>

#include "util/toml_json.h"

namespace escd::daemon {
namespace {

using Json = nlohmann::json;

std::string checked_key(const std::string& path, const std::string& field, const Json& value) {
  const std::string where = path + ": " + field + ": ";
  if (!value.is_string()) throw ConfigError(where + "expected a quoted Z85 key (40 characters), got " + value.dump());
  const std::string key = value.get<std::string>();
  if (!is_z85_key(key)) {
    throw ConfigError(where + "expected a Z85 CURVE key of 40 characters, got " + std::to_string(key.size()) +
                      " characters that " + (key.size() == 40 ? "are not valid Z85" : "cannot be one"));
  }
  return key;
}

}  // namespace

void require_curve_support(const std::string& what) {
  if (!zmq_has("curve")) {
    throw std::runtime_error(what + ": this libzmq was built without CURVE security (zmq_has(\"curve\") is false); "
                             "install a libzmq5 built with libsodium");
  }
}

bool is_z85_key(const std::string& text) {
  if (text.size() != 40) return false;
  uint8_t decoded[32];
  return zmq_z85_decode(decoded, text.c_str()) != nullptr;
}

CurveKeypair read_curve_key_file(const std::string& path, bool need_secret) {
  const Json file = load_toml_file(path);
  for (const auto& [key, value] : file.items()) {
    if (key != "public" && key != "secret") {
      throw ConfigError(path + ": " + key + ": unknown key (a key file has public = \"...\" and, for a key pair, secret = \"...\")");
    }
  }
  if (!file.contains("public")) throw ConfigError(path + ": public: missing (expected public = \"<40 Z85 characters>\")");
  CurveKeypair keys;
  keys.public_key = checked_key(path, "public", file["public"]);
  if (need_secret) {
    if (!file.contains("secret")) {
      throw ConfigError(path + ": secret: missing; this is a public key file, a key pair (as written by "
                        "escd --generate-curve-keypair) is needed here");
    }
    keys.secret_key = checked_key(path, "secret", file["secret"]);
    uint8_t secret[32];
    char derived[41];
    zmq_z85_decode(secret, keys.secret_key.c_str());
    // The public key is derived from the secret one: a pair that does not match is a pasting
    // mistake that would otherwise show up as every handshake failing.
    if (zmq_curve_public(derived, keys.secret_key.c_str()) == 0 && keys.public_key != derived) {
      throw ConfigError(path + ": public: does not belong to secret (expected \"" + std::string(derived) + "\")");
    }
  }
  return keys;
}

std::map<std::string, std::string> read_curve_client_keys(const std::string& path) {
  const Json file = load_toml_file(path);
  for (const auto& [key, value] : file.items()) {
    if (key != "clients") throw ConfigError(path + ": " + key + ": unknown key (expected a [clients] table of name = \"<public key>\")");
  }
  if (!file.contains("clients") || !file["clients"].is_object() || file["clients"].empty()) {
    throw ConfigError(path + ": [clients]: expected at least one entry  <name> = \"<40 Z85 characters>\"");
  }
  std::map<std::string, std::string> by_key;
  for (const auto& [name, value] : file["clients"].items()) {
    const std::string key = checked_key(path, "[clients] " + name, value);
    const auto [at, inserted] = by_key.emplace(key, name);
    if (!inserted) throw ConfigError(path + ": [clients] " + name + ": the same key as " + at->second);
  }
  return by_key;
}

}  // namespace escd::daemon

// ZeroMQ CURVE keys on disk. Every key file is TOML with Z85-encoded keys (40 characters, as
// zmq_curve_keypair() makes them):
//   key pair (secret, mode 0600)   public = "<z85>"  secret = "<z85>"   escd's own, or a subscriber's
//   public key (NAME.pub)          public = "<z85>"                      given to the other side
//   client allowlist               [clients]  <name> = "<z85>"           subscribers escd accepts
// `escd --generate-curve-keypair NAME` writes NAME and NAME.pub (curve_keygen.h). Errors name the
// file and the key.
#pragma once

#include <map>
#include <string>

namespace escd::daemon {

struct CurveKeypair {
  std::string public_key;  // Z85, 40 characters
  std::string secret_key;  // Z85, 40 characters; empty when read from a public key file
};

// Throws std::runtime_error if this libzmq cannot do CURVE (zmq_has("curve") is false); `what`
// names the option that asked for it.
void require_curve_support(const std::string& what);

// Reads `public` (and `secret` when `need_secret`) from a key file. Throws ConfigError
// "<file>: <key>: expected ..." for missing, unknown or malformed keys.
CurveKeypair read_curve_key_file(const std::string& path, bool need_secret);

// Reads a client allowlist: a [clients] table of name = public key. Returns public key -> name.
// Throws ConfigError naming the file and the entry; an empty list is an error (it would lock
// every subscriber out, which is never what the operator meant).
std::map<std::string, std::string> read_curve_client_keys(const std::string& path);

// True for a 40-character Z85 string that decodes to a 32-byte key.
bool is_z85_key(const std::string& text);

}  // namespace escd::daemon

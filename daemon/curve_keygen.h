// `escd --generate-curve-keypair NAME`: a fresh CURVE key pair written in curve_keys.h's format.
#pragma once

#include <string>

#include "curve_keys.h"

namespace escd::daemon {

// A fresh key pair from libzmq (libsodium's random generator).
CurveKeypair generate_curve_keypair();

// Writes `path` (public and secret key, mode 0600) and `path`.pub (public key only, mode 0644),
// each atomically. Refuses to replace an existing key pair: throws naming the file.
void write_curve_keypair(const std::string& path, const CurveKeypair& keys);

}  // namespace escd::daemon

#include "curve_keygen.h"

#include <zmq.h>

#include <filesystem>
#include <stdexcept>

#include "util/atomic_file.h"

namespace escd::daemon {

CurveKeypair generate_curve_keypair() {
  require_curve_support("--generate-curve-keypair");
  char public_key[41], secret_key[41];
  if (zmq_curve_keypair(public_key, secret_key) != 0) {
    throw std::runtime_error(std::string("zmq_curve_keypair failed: ") + zmq_strerror(zmq_errno()));
  }
  return {public_key, secret_key};
}

void write_curve_keypair(const std::string& path, const CurveKeypair& keys) {
  if (std::filesystem::exists(path)) {
    throw std::runtime_error(path + ": exists; refusing to replace a key pair (remove it first if you mean to)");
  }
  const std::string name = std::filesystem::path(path).filename().string();
  write_file_atomic(path,
                    "# escd CURVE key pair (ZeroMQ Z85). SECRET: keep this file private; give out " + name +
                        ".pub instead.\npublic = \"" + keys.public_key + "\"\nsecret = \"" + keys.secret_key + "\"\n",
                    0600);
  write_file_atomic(path + ".pub",
                    "# escd CURVE public key of " + name + " (ZeroMQ Z85). In escd's curve_client_keys file it is\n"
                    "# one line of the [clients] table:  <name> = \"" + keys.public_key + "\"\npublic = \"" +
                        keys.public_key + "\"\n",
                    0644);
}

}  // namespace escd::daemon

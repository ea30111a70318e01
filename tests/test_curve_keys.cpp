// CURVE key files (format, validation, error messages), the [security] settings, and which
// endpoints count as reachable only from this machine.
#include <gtest/gtest.h>
#include <zmq.h>

#include <fstream>

#include "curve_keygen.h"
#include "curve_keys.h"
#include "daemon_options.h"
#include "endpoint_scope.h"
#include "test_support.h"
#include "util/toml_json.h"

namespace escd::daemon {
namespace {

// The message of the ConfigError `f` throws ("" if it throws none).
template <typename F>
std::string error_of(F f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

TEST(EndpointScope, LoopbackAndLocalTransportsAreLocalEverythingElseIsNot) {
  for (const char* local : {"tcp://127.0.0.1:5556", "tcp://127.3.4.5:1", "tcp://localhost:5556", "tcp://[::1]:5556",
                            "tcp://::1:5556", "ipc:///run/escd/escd.sock", "inproc://x"}) {
    EXPECT_TRUE(is_local_only_endpoint(local)) << local;
  }
  for (const char* remote : {"tcp://*:5556", "tcp://0.0.0.0:5556", "tcp://[::]:5556", "tcp://192.168.1.10:5556",
                             "tcp://eth0:5556", "tcp://128.0.0.1:5556", "tcp://escd.example.org:5556",
                             "pgm://eth0;239.192.1.1:5555", "tcp://127.0.0.1"}) {
    EXPECT_FALSE(is_local_only_endpoint(remote)) << remote;
  }
}

TEST(CurveKeys, ThisLibzmqSupportsCurve) {
  // Debian 12's libzmq5 is built with libsodium; if that ever changes, escd says so at start.
  EXPECT_TRUE(zmq_has("curve"));
  EXPECT_NO_THROW(require_curve_support("test"));
}

TEST(CurveKeys, AGeneratedPairReadsBackAndMismatchesAreCaught) {
  test::TempDir dir;
  const CurveKeypair keys = generate_curve_keypair();
  const CurveKeypair other = generate_curve_keypair();
  EXPECT_NE(keys.secret_key, other.secret_key);
  write_curve_keypair(dir.path("a.key"), keys);
  const CurveKeypair back = read_curve_key_file(dir.path("a.key"), true);
  EXPECT_EQ(back.public_key, keys.public_key);
  EXPECT_EQ(back.secret_key, keys.secret_key);
  EXPECT_THROW(write_curve_keypair(dir.path("a.key"), other), std::runtime_error);

  std::ofstream(dir.path("mixed.key")) << "public = \"" << other.public_key << "\"\nsecret = \"" << keys.secret_key << "\"\n";
  EXPECT_EQ(error_of([&] { read_curve_key_file(dir.path("mixed.key"), true); }),
            dir.path("mixed.key") + ": public: does not belong to secret (expected \"" + keys.public_key + "\")");
}

TEST(CurveKeys, MalformedKeyFilesNameTheFileTheKeyAndWhatWasExpected) {
  test::TempDir dir;
  const CurveKeypair keys = generate_curve_keypair();
  const std::string bad_z85 = std::string(39, 'a') + "~";  // 40 characters, '~' is not Z85
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"public = \"abc\"\n", ": public: expected a Z85 CURVE key of 40 characters, got 3 characters"},
      {"public = \"" + bad_z85 + "\"\n", ": public: expected a Z85 CURVE key of 40 characters, got 40 characters that are not valid Z85"},
      {"public = 7\n", ": public: expected a quoted Z85 key (40 characters), got 7"},
      {"secret = \"" + keys.secret_key + "\"\n", ": public: missing"},
      {"public = \"" + keys.public_key + "\"\nowner = \"me\"\n", ": owner: unknown key"},
      {"public = \"" + keys.public_key + "\n", ":1:"},  // TOML syntax: file:line:column
  };
  for (const auto& [text, expected] : cases) {
    std::ofstream(dir.path("k.key")) << text;
    const std::string error = error_of([&] { read_curve_key_file(dir.path("k.key"), false); });
    EXPECT_NE(error.find(dir.path("k.key") + expected), std::string::npos) << "got: " << error << "\nfor: " << text;
  }
  std::ofstream(dir.path("pub.key")) << "public = \"" << keys.public_key << "\"\n";
  EXPECT_NO_THROW(read_curve_key_file(dir.path("pub.key"), false));
  EXPECT_NE(error_of([&] { read_curve_key_file(dir.path("pub.key"), true); }).find("pub.key: secret: missing"),
            std::string::npos);
}

TEST(CurveKeys, ClientAllowlistMapsKeysToNamesAndRejectsBadEntries) {
  test::TempDir dir;
  const CurveKeypair a = generate_curve_keypair(), b = generate_curve_keypair();
  std::ofstream(dir.path("clients.toml")) << "[clients]\nkitchen = \"" << a.public_key << "\"\nphone = \"" << b.public_key << "\"\n";
  const auto allowed = read_curve_client_keys(dir.path("clients.toml"));
  EXPECT_EQ(allowed.size(), 2u);
  EXPECT_EQ(allowed.at(a.public_key), "kitchen");
  EXPECT_EQ(allowed.at(b.public_key), "phone");

  const std::vector<std::pair<std::string, std::string>> cases = {
      {"[clients]\n", ": [clients]: expected at least one entry"},
      {"", ": [clients]: expected at least one entry"},
      {"[clients]\nbob = \"nope\"\n", ": [clients] bob: expected a Z85 CURVE key of 40 characters"},
      {"[clients]\nx = \"" + a.public_key + "\"\ny = \"" + a.public_key + "\"\n", ": [clients] y: the same key as x"},
      {"[client]\nx = \"" + a.public_key + "\"\n", ": client: unknown key"},
  };
  for (const auto& [text, expected] : cases) {
    std::ofstream(dir.path("c.toml")) << text;
    const std::string error = error_of([&] { read_curve_client_keys(dir.path("c.toml")); });
    EXPECT_NE(error.find(dir.path("c.toml") + expected), std::string::npos) << "got: " << error << "\nfor: " << text;
  }
}

TEST(SecuritySettings, ComeFromTheSecurityTableAndClientKeysNeedAServerKey) {
  test::TempDir dir;
  std::ofstream(dir.path("escd.toml")) << "[security]\ncurve_server_key = \"/k/server.key\"\ncurve_client_keys = \"/k/clients.toml\"\n";
  DaemonOptions options;
  apply_config_file(options, dir.path("escd.toml"));
  EXPECT_EQ(options.curve_server_key, "/k/server.key");
  EXPECT_EQ(options.curve_client_keys, "/k/clients.toml");
  EXPECT_NO_THROW(validate(options));
  options.curve_server_key.clear();
  EXPECT_NE(error_of([&] { validate(options); }).find("curve_client_keys: needs curve_server_key"), std::string::npos);

  std::ofstream(dir.path("bad.toml")) << "[security]\ncurve_server_key = 5\n";
  EXPECT_NE(error_of([&] { apply_config_file(options, dir.path("bad.toml")); })
                .find("bad.toml: [security] curve_server_key: expected a string"),
            std::string::npos);
}

}  // namespace
}  // namespace escd::daemon

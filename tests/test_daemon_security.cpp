// escd's network security end to end: CURVE with a client allowlist (a listed subscriber receives,
// an unlisted or plain one receives nothing), key files checked at start, a warning when binding
// beyond loopback without CURVE, and nothing a peer sends makes escd open or write a file.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>
#include <zmq.hpp>

#include "curve_keys.h"
#include "escd_process.h"
#include "test_support.h"

namespace escd {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;
using test::Escd;
using test::Message;
using test::Subscriber;

class SecurityTest : public test::EscdFixture {
 protected:
  // `escd --generate-curve-keypair NAME` in the test directory; returns the pair as read back.
  daemon::CurveKeypair generate(const std::string& name) {
    Escd keygen({"--generate-curve-keypair", dir_.path(name)}, dir_.path(name + ".log"));
    EXPECT_EQ(keygen.wait(60s), 0) << test::read_text(dir_.path(name + ".log"));
    return daemon::read_curve_key_file(dir_.path(name), /*need_secret=*/true);
  }
  // esc-sub's exit code with `extra` arguments; its output goes to `out`.
  int esc_sub(const std::string& extra, const std::string& out) const {
    const std::string command = std::string(ESC_SUB_BIN) + " --connect " + endpoint_ + " " + extra + " > " + out + " 2>&1";
    const int status = std::system(command.c_str());
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  }
};

TEST_F(SecurityTest, KeygenWritesAPrivateKeyPairAndAPublicFileAndNeverOverwrites) {
  const auto server = generate("server.key");
  EXPECT_TRUE(daemon::is_z85_key(server.public_key));
  EXPECT_NE(test::read_text(dir_.path("server.key.log")).find(server.public_key), std::string::npos)
      << "the public key is printed";
  struct stat st {};
  ASSERT_EQ(stat(dir_.path("server.key").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  const auto pub = daemon::read_curve_key_file(dir_.path("server.key.pub"), /*need_secret=*/false);
  EXPECT_EQ(pub.public_key, server.public_key);
  EXPECT_EQ(test::read_text(dir_.path("server.key.pub")).find(server.secret_key), std::string::npos);

  Escd again({"--generate-curve-keypair", dir_.path("server.key")}, dir_.path("again.log"));
  EXPECT_EQ(again.wait(60s), 2);
  EXPECT_NE(test::read_text(dir_.path("again.log")).find("refusing to replace"), std::string::npos);
  EXPECT_EQ(daemon::read_curve_key_file(dir_.path("server.key"), true).secret_key, server.secret_key);
}

TEST_F(SecurityTest, OnlyAListedSubscriberKeyReceivesAnything) {
  const auto server = generate("server.key");
  const auto alice = generate("alice.key");
  const auto mallory = generate("mallory.key");
  std::ofstream(dir_.path("clients.toml")) << "[clients]\nalice = \"" << alice.public_key << "\"\n";
  Escd escd(args({"--curve-server-key", dir_.path("server.key"), "--curve-client-keys", dir_.path("clients.toml")}),
            log_path());

  const test::CurveClient alice_keys{server.public_key, alice.public_key, alice.secret_key};
  const test::CurveClient mallory_keys{server.public_key, mallory.public_key, mallory.secret_key};
  // Alice's keys, but the wrong server key: she must not talk to an impostor (nor it to her).
  const test::CurveClient wrong_server{mallory.public_key, alice.public_key, alice.secret_key};
  Subscriber listed(endpoint_, 1000, &alice_keys);
  std::vector<Message> seen;
  ASSERT_TRUE(await_health(listed, seen)) << log();
  Subscriber unlisted(endpoint_, 1000, &mallory_keys), plain(endpoint_), misdirected(endpoint_, 1000, &wrong_server);
  // Health comes every second: three seconds of nothing is three missed messages.
  EXPECT_TRUE(unlisted.collect(3s).empty()) << "a subscriber whose key is not listed received messages";
  EXPECT_TRUE(plain.collect(100ms).empty()) << "a subscriber without CURVE received messages";
  EXPECT_TRUE(misdirected.collect(100ms).empty()) << "a subscriber with the wrong server key received messages";

  const auto more = listed.collect(5s, [](const Message& m) { return m.topic == "esc.health"; });
  seen.insert(seen.end(), more.begin(), more.end());
  const nlohmann::json* health = last_health(seen);
  ASSERT_NE(health, nullptr);
  const auto& publisher = (*health)["publisher"];
  EXPECT_TRUE(publisher["curve"].get<bool>());
  EXPECT_GE(publisher["allowlist"]["admitted"].get<int>(), 1) << health->dump();
  EXPECT_GE(publisher["allowlist"]["refused"].get<int>(), 1) << health->dump();
  EXPECT_GE(publisher["connections"]["auth_failures"].get<int>(), 1) << health->dump();
  EXPECT_NE(log().find("not in escd's client allowlist"), std::string::npos) << log();

  // esc-sub with the matching options: the listed key gets a message, the unlisted one times out.
  const std::string pub = dir_.path("server.key.pub");
  EXPECT_EQ(esc_sub("--json --count 1 --timeout 20 --curve-server-key " + pub + " --curve-client-key " +
                        dir_.path("alice.key"),
                    dir_.path("alice.out")),
            0)
      << test::read_text(dir_.path("alice.out"));
  EXPECT_NE(test::read_text(dir_.path("alice.out")).find("\"topic\""), std::string::npos);
  EXPECT_EQ(esc_sub("--json --count 1 --timeout 2 --curve-server-key " + pub + " --curve-client-key " +
                        dir_.path("mallory.key"),
                    dir_.path("mallory.out")),
            1)
      << test::read_text(dir_.path("mallory.out"));
  escd.signal(SIGTERM);
  EXPECT_EQ(escd.wait(5s), 0) << log();
}

TEST_F(SecurityTest, BadKeySettingsAreClearErrorsAtStart) {
  const auto server = generate("server.key");
  struct Case {
    std::vector<std::string> extra;
    std::string expected;
  };
  std::ofstream(dir_.path("short.key")) << "public = \"abc\"\nsecret = \"" << server.secret_key << "\"\n";
  std::ofstream(dir_.path("empty.toml")) << "[clients]\n";
  const std::vector<Case> cases = {
      {{"--curve-server-key", dir_.path("short.key")}, "short.key: public: expected a Z85 CURVE key of 40 characters"},
      {{"--curve-server-key", dir_.path("server.key.pub")}, "server.key.pub: secret: missing"},
      {{"--curve-server-key", dir_.path("no-such.key")}, "no-such.key"},
      {{"--curve-client-keys", dir_.path("empty.toml")}, "curve_client_keys: needs curve_server_key"},
      {{"--curve-server-key", dir_.path("server.key"), "--curve-client-keys", dir_.path("empty.toml")},
       "empty.toml: [clients]: expected at least one entry"},
  };
  for (const Case& c : cases) {
    Escd escd(args(c.extra), log_path());
    EXPECT_EQ(escd.wait(30s), 2) << log();
    EXPECT_NE(log().find(c.expected), std::string::npos) << "expected '" << c.expected << "' in:\n" << log();
  }
}

TEST_F(SecurityTest, BindingBeyondLoopbackWithoutCurveWarns) {
  const std::string warning = "without CURVE: anyone who can reach this address";
  {
    Escd escd(args({"--pub", "tcp://127.0.0.1:*"}), log_path());
    escd.close_stdin();  // the input ends at once: escd starts, publishes nothing, exits
    ASSERT_EQ(escd.wait(30s), 0) << log();
    EXPECT_EQ(log().find(warning), std::string::npos) << log();
    EXPECT_NE(log().find("publishing on tcp://127.0.0.1:"), std::string::npos) << "the chosen port is logged";
  }
  {
    Escd escd(args({"--pub", "tcp://0.0.0.0:*"}), log_path());
    escd.close_stdin();
    ASSERT_EQ(escd.wait(30s), 0) << log();
    EXPECT_NE(log().find(warning), std::string::npos) << log();
  }
}

// The peers a hostile network offers: subscriptions that look like paths, a peer of the wrong socket
// type sending messages, and bytes that are not ZMTP at all. escd interprets none of it: it goes on
// publishing to a healthy subscriber, its working directory stays empty, no file the peers named
// appears, and it holds no regular file open.
TEST_F(SecurityTest, NothingAPeerSendsMakesEscdOpenOrWriteAFile) {
  fs::create_directory(dir_.path("state"));
  Escd escd(args(), log_path(), dir_.path("state"));
  Subscriber healthy(endpoint_);
  std::vector<Message> seen;
  ASSERT_TRUE(await_health(healthy, seen)) << log();

  const std::string probe = dir_.path("written-because-a-peer-asked");
  zmq::context_t context(1);
  zmq::socket_t prober(context, zmq::socket_type::sub);
  prober.set(zmq::sockopt::linger, 0);
  for (const std::string& topic : {probe, std::string("../../../../") + probe, std::string("/etc/passwd"),
                                   std::string(65536, 'A'), std::string("esc.\0\n%s%n", 10)}) {
    prober.set(zmq::sockopt::subscribe, topic);
  }
  prober.connect(endpoint_);
  zmq::socket_t pusher(context, zmq::socket_type::push);  // PUSH cannot talk to PUB: the handshake fails
  pusher.set(zmq::sockopt::linger, 0);
  pusher.connect(endpoint_);
  (void)pusher.send(zmq::buffer(probe), zmq::send_flags::dontwait);
  // Raw bytes on the socket: not a ZMTP greeting.
  const int raw = socket(AF_UNIX, SOCK_STREAM, 0);
  sockaddr_un address{};
  address.sun_family = AF_UNIX;
  const std::string socket_path = dir_.path("pub.sock");
  ASSERT_LT(socket_path.size(), sizeof(address.sun_path));
  std::copy(socket_path.begin(), socket_path.end(), address.sun_path);
  ASSERT_EQ(connect(raw, reinterpret_cast<sockaddr*>(&address), sizeof address), 0);
  const std::string junk = "GET /" + probe + " HTTP/1.0\r\n\r\n" + std::string(4096, '\xff');
  EXPECT_GT(write(raw, junk.data(), junk.size()), 0);

  std::thread reader([&] {
    const auto more = healthy.collect(3s);
    seen.insert(seen.end(), more.begin(), more.end());
  });
  escd.write_samples(test::analytic_signal(3.0, 16000));
  std::this_thread::sleep_for(1500ms);  // a health report after the peers had their go

  // Every descriptor escd holds is a socket, a pipe, an event fd or a device: no regular file but
  // the log this test gave it as stdout and stderr.
  std::vector<std::string> files;
  for (const auto& fd : fs::directory_iterator("/proc/" + std::to_string(escd.pid()) + "/fd")) {
    std::error_code ec;
    const auto target = fs::read_symlink(fd.path(), ec).string();
    if (!ec && target.rfind("/", 0) == 0 && target.rfind("/dev/", 0) != 0 && target != log_path()) {
      files.push_back(target);
    }
  }
  EXPECT_TRUE(files.empty()) << "escd holds open: " << testing::PrintToString(files);
  escd.close_stdin();
  const int code = escd.wait(15s);
  reader.join();
  close(raw);
  ASSERT_EQ(code, 0) << log();

  EXPECT_FALSE(fs::exists(probe));
  EXPECT_TRUE(fs::is_empty(dir_.path("state"))) << "escd wrote into its working directory";
  for (const auto& [topic, gaps] : test::seq_gaps(seen)) EXPECT_EQ(gaps, 0u) << topic;
  const nlohmann::json* health = last_health(seen);
  ASSERT_NE(health, nullptr);
  // Not asserted: whether the junk peer is already counted in the last health report depends on
  // when libzmq's monitor thread reports the failed handshake (it was not, once, on a loaded CI run).
  std::printf("junk peer: protocol_failures %d in the last health report\n",
              (*health)["publisher"]["connections"]["protocol_failures"].get<int>());
}

}  // namespace
}  // namespace escd

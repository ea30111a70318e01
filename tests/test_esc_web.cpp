// esc-web end to end: escd (the shipped Mamba) plays a clip, esc-web serves it. The HTTP endpoints
// (status codes, content types, the stream's first event, metrics that Prometheus's parser reads),
// a clear error for a bad address, a warning off loopback, a CURVE-secured escd reached with a listed
// key and not without one, and the page in a real browser: headless
// Chromium reads the DOM until the clip's label is the top-1 and escd's spectrogram is on the canvas
// (a screenshot is kept in the build tree as tests/artefacts/esc-web.png). Without Chromium or
// ESC-50 that test is skipped, saying so.
#include <gtest/gtest.h>
#include <httplib.h>
#include <sndfile.h>

#include <array>
#include <filesystem>
#include <fstream>
#include <memory>
#include <regex>
#include <thread>

#include "child_process.h"
#include "curve_keys.h"
#include "test_support.h"

namespace escd::test {
namespace {

using namespace std::chrono_literals;

// The port esc-web chose for --listen 127.0.0.1:0, from its log; 0 if it did not say within `timeout`.
int served_port(const std::string& log, std::chrono::milliseconds timeout) {
  const std::regex line(R"(live view on http://127\.0\.0\.1:(\d+)/)");
  for (const auto deadline = std::chrono::steady_clock::now() + timeout; std::chrono::steady_clock::now() < deadline;) {
    std::smatch m;
    const std::string text = read_text(log);
    if (std::regex_search(text, m, line)) return std::stoi(m[1]);
    std::this_thread::sleep_for(50ms);
  }
  return 0;
}

// The port of an esc-web listening on any address, from its log.
int served_port_any(const std::string& log) {
  std::smatch m;
  const std::string text = read_text(log);
  return std::regex_search(text, m, std::regex(R"(live view on http://[^/]*:(\d+)/)")) ? std::stoi(m[1]) : 0;
}

class EscWebTest : public ::testing::Test {
 protected:
  // escd on `clip` in real time (so that the page can watch it), and esc-web on a free port.
  void start(const std::string& clip) {
    endpoint_ = "ipc://" + dir_.path("pub.sock");
    web_ = std::make_unique<ChildProcess>(ESC_WEB_BIN,
                                          std::vector<std::string>{"--connect", endpoint_, "--listen", "127.0.0.1:0",
                                                                   "--name", "test room", "--offline-after", "120"},
                                          dir_.path("esc-web.log"));
    port_ = served_port(dir_.path("esc-web.log"), 20s);
    ASSERT_GT(port_, 0) << logs();
    escd_ = std::make_unique<ChildProcess>(
        ESCD_BIN,
        std::vector<std::string>{"--model", "mamba", "--checkpoint", std::string(ESCD_SOURCE_DIR) + "/models/mamba.pt",
                                 "--config", "/dev/null", "--input", clip, "--pub", endpoint_, "--spectrogram"},
        dir_.path("escd.log"));
  }
  std::string logs() const {
    return "\n--- esc-web:\n" + read_text(dir_.path("esc-web.log")) + "\n--- escd:\n" + read_text(dir_.path("escd.log"));
  }
  // GET `path` until `ok` accepts it or `timeout` passes; the last response.
  httplib::Result get_until(const std::string& path, const std::function<bool(const httplib::Response&)>& ok,
                            std::chrono::milliseconds timeout) {
    httplib::Client client("127.0.0.1", port_);
    for (const auto deadline = std::chrono::steady_clock::now() + timeout;;) {
      httplib::Result r = client.Get(path);
      if ((r && ok(*r)) || std::chrono::steady_clock::now() >= deadline) return r;
      std::this_thread::sleep_for(200ms);
    }
  }

  TempDir dir_;
  std::string endpoint_;
  int port_ = 0;
  std::unique_ptr<ChildProcess> web_, escd_;
};

TEST_F(EscWebTest, ServesThePageTheStreamAndMetricsThatPrometheusReads) {
  start(fixture("synthetic_16k.wav"));
  const httplib::Result page = get_until("/", [](const httplib::Response&) { return true; }, 5s);
  ASSERT_TRUE(page) << logs();
  EXPECT_EQ(page->status, 200);
  EXPECT_EQ(page->get_header_value("Content-Type"), "text/html; charset=utf-8");
  EXPECT_NE(page->body.find("EventSource"), std::string::npos);
  EXPECT_EQ(page->body.find("http://"), std::string::npos) << "the page must not load anything from elsewhere";

  // escd's health arrives within a second or two: escd_up turns 1.
  const httplib::Result metrics = get_until(
      "/metrics", [](const httplib::Response& r) { return r.body.find("escd_windows_total{") != std::string::npos; }, 20s);
  ASSERT_TRUE(metrics) << logs();
  EXPECT_EQ(metrics->status, 200);
  EXPECT_EQ(metrics->get_header_value("Content-Type"), "text/plain; version=0.0.4; charset=utf-8");
  EXPECT_NE(metrics->body.find("escd_up{source=\"test room\"} 1\n"), std::string::npos) << metrics->body << logs();
  EXPECT_NE(metrics->body.find("escd_windows_total{source=\"test room\",model=\"mamba\"}"), std::string::npos) << metrics->body;
  if (std::system("/usr/bin/python3 -c 'import prometheus_client.parser' >/dev/null 2>&1") == 0) {
    std::ofstream(dir_.path("metrics.txt")) << metrics->body;
    const std::string check = "/usr/bin/python3 -c \"import sys; from prometheus_client.parser import "
                              "text_string_to_metric_families as p; n=[f.name for f in p(open(sys.argv[1]).read())]; "
                              "assert len(n) == len(set(n)) and 'escd_up' in n\" " + dir_.path("metrics.txt");
    EXPECT_EQ(std::system(check.c_str()), 0) << "Prometheus's parser refused:\n" << metrics->body;
  }

  httplib::Client client("127.0.0.1", port_);
  EXPECT_EQ(client.Get("/no-such-page")->status, 404);
  // The stream: text/event-stream, a snapshot first.
  std::string first;
  std::string type;
  client.Get(
      "/events",
      [&](const httplib::Response& r) {
        type = r.get_header_value("Content-Type");
        return true;
      },
      [&](const char* data, size_t n) {
        first.append(data, n);
        return first.find("event: health\n") == std::string::npos;  // the snapshot, then live messages
      });
  EXPECT_EQ(type, "text/event-stream");
  EXPECT_EQ(first.rfind("event: snapshot\ndata: {", 0), 0u) << first.substr(0, 200);
  EXPECT_NE(first.find("\"name\":\"test room\""), std::string::npos);
  EXPECT_NE(first.find("\n\nevent: health\ndata: {"), std::string::npos) << "no live message after the snapshot";
}

TEST_F(EscWebTest, ChromiumShowsTheTopLabelOfAClipAsEscdPlaysIt) {
  std::string chromium;
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (std::filesystem::exists(candidate)) chromium = candidate;
  }
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium): the page was not rendered";
  SKIP_WITHOUT_ESC50();
  // ESC-50's first dog clip, three times over (15 s in real time), which the shipped Mamba calls dog.
  int rate = 0;
  const std::vector<float> dog = read_audio(esc50_dir() + "/audio/1-100032-A-0.flac", &rate);
  std::vector<float> clip;
  for (int i = 0; i < 3; ++i) clip.insert(clip.end(), dog.begin(), dog.end());
  write_audio(dir_.path("dog.wav"), clip, rate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  start(dir_.path("dog.wav"));

  const std::string url = "http://127.0.0.1:" + std::to_string(port_) + "/";
  const std::string browser = chromium + " --headless=new --no-sandbox --disable-gpu --user-data-dir=" + dir_.path("profile") +
                              " --timeout=5000 --window-size=1200,800";
  const std::regex top1(R"(id="top1-mamba"[^>]*>([^<]*)<)");
  std::string seen, dom;
  for (const auto deadline = std::chrono::steady_clock::now() + 60s; std::chrono::steady_clock::now() < deadline;) {
    dom.clear();
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen((browser + " --dump-dom " + url + " 2>/dev/null").c_str(), "r"), pclose);
    ASSERT_TRUE(pipe);
    std::array<char, 4096> buffer{};
    for (size_t n; (n = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0;) dom.append(buffer.data(), n);
    std::smatch m;
    seen = std::regex_search(dom, m, top1) ? m[1].str() : "";
    if (seen == "dog") break;
  }
  EXPECT_EQ(seen, "dog") << "the page never showed dog as Mamba's top-1; last DOM:\n" << dom.substr(0, 3000) << logs();
  EXPECT_NE(dom.find(R"(id="status" class="live">live<)"), std::string::npos) << dom.substr(0, 3000);
  // escd's spectrogram reached the canvas.
  std::smatch columns;
  ASSERT_TRUE(std::regex_search(dom, columns, std::regex(R"re(id="spectrogram"[^>]*data-columns="(\d+)")re")) ||
              std::regex_search(dom, columns, std::regex(R"re(data-columns="(\d+)"[^>]*id="spectrogram")re")))
      << dom.substr(0, 3000);
  EXPECT_GT(std::stoi(columns[1]), 0) << "no spectrogram column drawn";
  const std::string artefacts = std::string(ESC_WEB_ARTEFACT_DIR);
  std::filesystem::create_directories(artefacts);
  EXPECT_EQ(std::system((browser + " --screenshot=" + artefacts + "/esc-web.png " + url + " >/dev/null 2>&1").c_str()), 0);
  EXPECT_TRUE(std::filesystem::exists(artefacts + "/esc-web.png"));
}

TEST(EscWeb, ABadAddressIsAClearErrorAndAnAddressOffLoopbackIsWarnedAbout) {
  TempDir dir;
  {
    ChildProcess web(ESC_WEB_BIN, {"--listen", "localhost", "--connect", "tcp://127.0.0.1:1"}, dir.path("bad.log"));
    EXPECT_EQ(web.wait(20s), 2);
    EXPECT_NE(read_text(dir.path("bad.log")).find("--listen: expected HOST:PORT"), std::string::npos) << read_text(dir.path("bad.log"));
  }
  {
    ChildProcess web(ESC_WEB_BIN, {"--listen", "0.0.0.0:0", "--connect", "tcp://127.0.0.1:1"}, dir.path("any.log"));
    EXPECT_TRUE(wait_for_text(dir.path("any.log"), "anyone who can reach it", 20s)) << read_text(dir.path("any.log"));
    const int port = served_port_any(dir.path("any.log"));
    ASSERT_GT(port, 0) << read_text(dir.path("any.log"));
    // The same port again: refused, not shared.
    ChildProcess second(ESC_WEB_BIN, {"--listen", "127.0.0.1:" + std::to_string(port), "--connect", "tcp://127.0.0.1:1"},
                        dir.path("second.log"));
    EXPECT_EQ(second.wait(20s), 2) << read_text(dir.path("second.log"));
    EXPECT_NE(read_text(dir.path("second.log")).find("cannot listen on 127.0.0.1:" + std::to_string(port)), std::string::npos)
        << read_text(dir.path("second.log"));
    web.signal(SIGTERM);  // at once: stopping must not hang
    EXPECT_EQ(web.wait(20s), 0) << read_text(dir.path("any.log"));
  }
}

TEST(EscWeb, ReachesACurveSecuredEscdWithAListedKeyOnly) {
  TempDir dir;
  // `escd --generate-curve-keypair NAME`: the key pair as read back.
  const auto generate = [&](const std::string& name) {
    ChildProcess keygen(ESCD_BIN, {"--generate-curve-keypair", dir.path(name)}, dir.path(name + ".log"));
    EXPECT_EQ(keygen.wait(60s), 0) << read_text(dir.path(name + ".log"));
    return daemon::read_curve_key_file(dir.path(name), /*need_secret=*/true);
  };
  generate("server.key");
  const auto alice = generate("alice.key");
  generate("mallory.key");
  std::ofstream(dir.path("clients.toml")) << "[clients]\nalice = \"" << alice.public_key << "\"\n";
  // The 5 s fixture three times over, so that escd is still playing when both views have connected.
  int rate = 0;
  const std::vector<float> once = read_audio(fixture("synthetic_16k.wav"), &rate);
  std::vector<float> clip;
  for (int i = 0; i < 3; ++i) clip.insert(clip.end(), once.begin(), once.end());
  write_audio(dir.path("clip.wav"), clip, rate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
  const std::string endpoint = "ipc://" + dir.path("pub.sock");
  ChildProcess escd(ESCD_BIN,
                    {"--model", "mamba", "--checkpoint", std::string(ESCD_SOURCE_DIR) + "/models/mamba.pt", "--config",
                     "/dev/null", "--input", dir.path("clip.wav"), "--pub", endpoint, "--curve-server-key",
                     dir.path("server.key"), "--curve-client-keys", dir.path("clients.toml")},
                    dir.path("escd.log"));
  // esc-web with `key`: its port, from its log.
  const auto web = [&](const std::string& key) {
    auto child = std::make_unique<ChildProcess>(
        ESC_WEB_BIN,
        std::vector<std::string>{"--connect", endpoint, "--listen", "127.0.0.1:0", "--curve-server-key",
                                 dir.path("server.key.pub"), "--curve-client-key", dir.path(key)},
        dir.path(key + ".web.log"));
    return std::make_pair(std::move(child), served_port(dir.path(key + ".web.log"), 20s));
  };
  auto [listed, listed_port] = web("alice.key");
  auto [unlisted, unlisted_port] = web("mallory.key");
  ASSERT_GT(listed_port, 0) << read_text(dir.path("alice.key.web.log"));
  ASSERT_GT(unlisted_port, 0) << read_text(dir.path("mallory.key.web.log"));
  const auto metrics = [](int port) {
    const httplib::Result r = httplib::Client("127.0.0.1", port).Get("/metrics");
    return r ? r->body : std::string();
  };
  std::string seen;
  for (const auto deadline = std::chrono::steady_clock::now() + 20s; std::chrono::steady_clock::now() < deadline;) {
    seen = metrics(listed_port);
    if (seen.find("escd_up{source=\"main\"} 1\n") != std::string::npos) break;
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_NE(seen.find("escd_up{source=\"main\"} 1\n"), std::string::npos)
      << "the listed key never heard escd:\n" << seen << read_text(dir.path("escd.log"));
  // escd refused the unlisted key's handshake; by now health has come several times, none to it.
  EXPECT_TRUE(wait_for_text(dir.path("escd.log"), "not in escd's client allowlist", 20s)) << read_text(dir.path("escd.log"));
  const std::string refused = metrics(unlisted_port);
  EXPECT_NE(refused.find("escd_up{source=\"main\"} 0\n"), std::string::npos) << refused;
  EXPECT_EQ(refused.find("escd_windows_total{"), std::string::npos) << refused;
}

}  // namespace
}  // namespace escd::test

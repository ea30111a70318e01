// escd's settings file: the shipped one loads, and mistakes are named with file, table and key.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "command_line.h"
#include "daemon_options.h"
#include "model_runner.h"
#include "test_support.h"
#include "util/toml_json.h"

namespace escd::daemon {
namespace {

std::string error_of(const std::string& toml) {
  test::TempDir dir;
  std::ofstream(dir.path("e.toml")) << toml;
  DaemonOptions o;
  try {
    apply_config_file(o, dir.path("e.toml"));
    validate(o);
  } catch (const ConfigError& e) {
    return e.what();
  }
  return "no error";
}

TEST(DaemonOptions, ShippedConfigLoadsAndValidates) {
  DaemonOptions o;
  apply_config_file(o, std::string(ESCD_SOURCE_DIR) + "/config/escd.toml");
  EXPECT_NO_THROW(validate(o));
  EXPECT_EQ(o.models, std::vector<std::string>{"mamba"});
  EXPECT_EQ(o.pub, "tcp://127.0.0.1:5556");
  EXPECT_DOUBLE_EQ(o.hop_ms, 500.0);
  EXPECT_EQ(o.events.min_hits, 2);
}

TEST(DaemonOptions, ValuesApply) {
  test::TempDir dir;
  std::ofstream(dir.path("c.toml")) << "[daemon]\nmodels = [\"liquid_s4\", \"mamba\"]\nhop_ms = 64\n"
                                       "[events]\nexclude = [\"rain\"]\n[events.thresholds]\ndog = 0.7\n"
                                       "[models.mamba]\ncheckpoint = \"/x/m.ckpt\"\n";
  DaemonOptions o;
  apply_config_file(o, dir.path("c.toml"));
  EXPECT_EQ(o.models.size(), 2u);
  EXPECT_DOUBLE_EQ(o.hop_ms, 64.0);
  EXPECT_EQ(o.events.exclude.count("rain"), 1u);
  EXPECT_DOUBLE_EQ(o.events.class_thresholds.at("dog"), 0.7);
  EXPECT_EQ(o.checkpoints_by_model, std::vector<std::string>{"mamba=/x/m.ckpt"});
}

TEST(DaemonOptions, MistakesAreNamed) {
  EXPECT_NE(error_of("[daemon]\nhop = 5\n").find("[daemon] hop: unknown key"), std::string::npos);
  EXPECT_NE(error_of("[sound]\n").find("unknown table [sound]"), std::string::npos);
  EXPECT_NE(error_of("[daemon]\nthreads = \"two\"\n").find("[daemon] threads: expected an integer"), std::string::npos);
  EXPECT_NE(error_of("[daemon]\nhop_ms = 0\n").find("hop_ms"), std::string::npos);
  EXPECT_NE(error_of("[input]\nformat = \"mp3\"\n").find("format: unknown raw PCM format 'mp3'"), std::string::npos);
  EXPECT_EQ(error_of("[input]\nformat = \"S24_3LE\"\n"), "no error");
  EXPECT_NE(error_of("[recordings]\nmodels = [\"resnet\"]\n").find("recordings.models: 'resnet': no such model"),
            std::string::npos);
  EXPECT_NE(error_of("[recordings]\nmax_files_per_class = 2.5\n").find("[recordings] max_files_per_class: expected an integer"),
            std::string::npos);
  EXPECT_NE(error_of("[recordings]\nsample_rate = \"48k\"\n").find("recordings.sample_rate"), std::string::npos);
  EXPECT_NE(error_of("[daemon]\nmodels = [\"resnet\"]\n").find("model 'resnet': no such model (escd has liquid_s4, mamba, vjepa2)"),
            std::string::npos);
  EXPECT_NE(error_of("[models.resnet]\ncheckpoint = \"/x/r.pt\"\n").find("[models.resnet] checkpoint: no such model"),
            std::string::npos);
  EXPECT_NE(error_of("[daemon]\npub = \"localhost:5556\"\n").find("ZeroMQ endpoint"), std::string::npos);
  EXPECT_NE(error_of("[events]\ninclude = [1]\n").find("class names"), std::string::npos);
  EXPECT_NE(error_of("[daemon\n").find("e.toml:1:"), std::string::npos);  // TOML syntax: line and column
  EXPECT_NE(error_of("[daemon]\nensemble = true\n").find("ensemble: needs at least two models"), std::string::npos);
  EXPECT_NE(error_of("[daemon]\nensemble = \"yes\"\n").find("[daemon] ensemble: expected true or false"),
            std::string::npos);
  EXPECT_EQ(error_of("[daemon]\nmodels = [\"mamba\", \"vjepa2\"]\nensemble = true\n"), "no error");
}

// A source name ends every topic; publishing through a proxy takes the proxy's key, and leaves the
// subscriber allowlist to the proxy.
TEST(DaemonOptions, SourceAndProxyMistakesAreNamed) {
  EXPECT_EQ(error_of("[daemon]\nsource = \"kitchen-1\"\nproxy = \"tcp://10.0.0.2:5565\"\n"), "no error");
  EXPECT_NE(error_of("[daemon]\nsource = \"kitchen.left\"\n").find("source: expected 1-64 characters"), std::string::npos);
  EXPECT_NE(error_of("[daemon]\nsource = \"\"\n").find("source: expected"), std::string::npos);
  EXPECT_NE(error_of("[daemon]\nproxy = \"10.0.0.2:5565\"\n").find("proxy: expected the esc-proxy's ZeroMQ endpoint"),
            std::string::npos);
  EXPECT_NE(error_of("[daemon]\nproxy = \"inproc://x\"\n").find("proxy: expected"), std::string::npos);
  EXPECT_NE(error_of("[security]\ncurve_proxy_key = \"p.pub\"\n").find("curve_proxy_key: needs proxy"), std::string::npos);
  EXPECT_NE(error_of("[daemon]\nproxy = \"tcp://10.0.0.2:5565\"\n[security]\ncurve_server_key = \"e.key\"\n")
                .find("needs curve_proxy_key"),
            std::string::npos);
  EXPECT_NE(error_of("[daemon]\nproxy = \"tcp://10.0.0.2:5565\"\n[security]\ncurve_server_key = \"e.key\"\n"
                     "curve_proxy_key = \"p.pub\"\ncurve_client_keys = \"c.toml\"\n")
                .find("give the allowlist to esc-proxy"),
            std::string::npos);
  DaemonOptions defaults;
  EXPECT_TRUE(is_source_name(defaults.source)) << defaults.source;
}

// The lookup order of checkpoints: --checkpoint, then the config's [models.<name>], then the
// installed models directory (compiled in from CMAKE_INSTALL_FULL_DATADIR), then models/ in the
// source tree; both *.ckpt and *.pt.
TEST(ResolveCheckpoint, CommandLineThenConfigThenInstalledThenSourceTree) {
  DaemonOptions o;
  o.checkpoints_by_model = {"mamba=/from/config.ckpt"};
  EXPECT_EQ(resolve_checkpoint("mamba", o), "/from/config.ckpt");
  o.checkpoint = "/from/command/line.pt";
  EXPECT_EQ(resolve_checkpoint("mamba", o), "/from/command/line.pt");
  o = DaemonOptions{};
  // Not installed on the test machine (or installed: then that copy wins, by design).
  const std::string installed = std::string(ESCD_SHARE_DIR) + "/models/mamba.pt";
  const std::string expected = std::filesystem::exists(installed) ? installed : std::string(ESCD_SOURCE_DIR) + "/models/mamba.pt";
  if (!std::filesystem::exists(expected)) GTEST_SKIP() << "no shipped mamba checkpoint in " << ESCD_SOURCE_DIR << "/models";
  EXPECT_EQ(resolve_checkpoint("mamba", o), expected);
}

TEST(ResolveCheckpoint, NoCheckpointNamesEveryPlaceTried) {
  try {
    resolve_checkpoint("no_such_model", DaemonOptions{});
    FAIL() << "no exception";
  } catch (const std::runtime_error& e) {
    const std::string m = e.what();
    for (const std::string& place : {std::string(ESCD_SHARE_DIR) + "/models/no_such_model.ckpt",
                                     std::string(ESCD_SHARE_DIR) + "/models/no_such_model.pt",
                                     std::string(ESCD_SOURCE_DIR) + "/models/no_such_model.ckpt",
                                     std::string(ESCD_SOURCE_DIR) + "/models/no_such_model.pt", std::string("--checkpoint")}) {
      EXPECT_NE(m.find(place), std::string::npos) << place << " not in: " << m;
    }
  }
}

// The command line is one more table of settings over the file's: every option lands on its config
// key, the file's other keys stay, and a bad value is named as the command line's.
TEST(DaemonOptions, TheCommandLineWinsOverTheFileKeyByKey) {
  test::TempDir dir;
  std::ofstream(dir.path("c.toml")) << "[daemon]\nhop_ms = 64\npub = \"tcp://127.0.0.1:6000\"\n[input]\nrate = 44100\n";
  auto parse = [](std::vector<std::string> args, CommandLine& line) {
    CLI::App app;
    add_command_line(app, line);
    std::reverse(args.begin(), args.end());  // CLI11 takes a vector in reverse order
    app.parse(args);
  };
  CommandLine line;
  parse({"--model", "mamba,liquid_s4", "--ensemble", "--pub", "ipc:///tmp/x", "--rate", "48000", "--format", "S32_LE",
         "--fast", "--checkpoint", "m.pt", "--threads", "2", "--device", "USB", "--input", "-", "--channels", "2",
         "--log-level", "debug", "--curve-server-key", "s.key", "--curve-client-keys", "c.toml", "--config", "x.toml",
         "--record", "/srv/sounds"},
        line);
  DaemonOptions o;
  apply_config_file(o, dir.path("c.toml"));
  apply_config(o, line.overrides, "command line");
  EXPECT_EQ(o.models, (std::vector<std::string>{"mamba", "liquid_s4"}));
  EXPECT_TRUE(o.ensemble);
  EXPECT_EQ(o.pub, "ipc:///tmp/x");
  EXPECT_DOUBLE_EQ(o.hop_ms, 64.0) << "a key the command line did not give keeps the file's value";
  EXPECT_EQ(o.rate, 48000);
  EXPECT_EQ(o.format, "S32_LE");
  EXPECT_TRUE(o.fast);
  EXPECT_EQ(o.threads, 2);
  EXPECT_EQ(line.checkpoint, "m.pt");
  EXPECT_EQ(o.device, "USB");
  EXPECT_EQ(o.input, "-");
  EXPECT_EQ(o.channels, 2);
  EXPECT_EQ(o.log_level, "debug");
  EXPECT_EQ(o.curve_server_key, "s.key");
  EXPECT_EQ(o.curve_client_keys, "c.toml");
  EXPECT_EQ(line.config, "x.toml");
  EXPECT_TRUE(o.recordings.enabled);
  EXPECT_EQ(o.recordings.directory, "/srv/sounds");
  CommandLine hop;
  parse({"--hop-ms", "128", "--device", ""}, hop);
  DaemonOptions h;
  h.device = "from the file";
  apply_config(h, hop.overrides, "command line");
  EXPECT_DOUBLE_EQ(h.hop_ms, 128.0);
  EXPECT_EQ(h.device, "from the file") << "an empty text leaves the file's value";

  CommandLine empty_models;
  parse({"--model", ","}, empty_models);
  DaemonOptions p;
  try {
    apply_config(p, empty_models.overrides, "command line");
    FAIL() << "an empty model list was accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("command line: [daemon] models"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace escd::daemon

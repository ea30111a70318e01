// Event recordings end to end: escd (a tiny checkpoint, raw PCM on stdin) with [recordings] on.
// The event's end message names the file and its span, the file holds the input's samples over
// that span (at 16 kHz, or at the input's own rate), esc.recording.<model> says it is written, and a
// disk that refuses the file is counted in esc.health while escd goes on.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "escd_process.h"
#include "scratch_mount.h"
#include "test_support.h"

namespace escd::test {
namespace {

using namespace std::chrono_literals;

class RecordingsTest : public EscdFixture {
 protected:
  // An event that certainly starts at the first full window and lasts until the input ends:
  // class3 is "on" at any probability above 0.001.
  void write_recording_config(const std::string& directory, const std::string& extra = "") {
    write_config("[events]\nthreshold = 0.001\nmin_hits = 1\ninclude = [\"class3\"]\n[recordings]\nenabled = true\n"
                 "directory = \"" + directory + "\"\npre_roll_s = 3.0\n" + extra);
  }

  // Runs escd on `audio` (s16le at `rate`) until it exits at the end of the input; every message.
  std::vector<Message> run(const std::vector<float>& audio, int rate) {
    std::vector<std::string> a = args();
    *(std::find(a.begin(), a.end(), "--rate") + 1) = std::to_string(rate);
    Escd escd(a, log_path());
    Subscriber sub(endpoint_);
    std::vector<Message> messages;
    EXPECT_TRUE(await_health(sub, messages)) << log();
    escd.write_samples(audio);
    escd.close_stdin();
    EXPECT_EQ(escd.wait(60s), 0) << log();
    const auto rest = sub.collect(2s);
    messages.insert(messages.end(), rest.begin(), rest.end());
    return messages;
  }

  static const Message* find(const std::vector<Message>& messages, const std::string& topic, const char* type = nullptr) {
    for (const auto& m : messages) {
      if (m.topic == topic && (!type || m.body.value("type", "") == type)) return &m;
    }
    return nullptr;
  }

  // The end message's recording: the file holds the input from its start to its end.
  void expect_file_holds_the_input(const std::vector<Message>& messages, const std::vector<float>& audio, int rate,
                                   const std::string& directory) {
    const Message* end = find(messages, "esc.event.mamba", "end");
    ASSERT_NE(end, nullptr) << log();
    ASSERT_TRUE(end->body.contains("recording")) << end->body.dump();
    const nlohmann::json& r = end->body["recording"];
    const double event_start = end->body["started_at"].get<double>();
    EXPECT_NEAR(r["start"].get<double>(), event_start - 3.0, 1.0 / rate) << "the 3 s pre-roll";
    EXPECT_NEAR(r["end"].get<double>(), 8.0, 1.0 / rate) << "to the end of the input (no post-roll at shutdown)";
    const Message* written = find(messages, "esc.recording.mamba");
    ASSERT_NE(written, nullptr) << log();
    EXPECT_EQ(written->body["written"], true) << written->body.dump();
    EXPECT_EQ(written->body["file"], r["file"]);
    int file_rate = 0;
    const std::vector<float> file = read_audio(directory + "/" + r["file"].get<std::string>(), &file_rate);
    EXPECT_EQ(file_rate, rate);
    const auto first = static_cast<size_t>(std::llround(r["start"].get<double>() * rate));
    const auto last = static_cast<size_t>(std::llround(r["end"].get<double>() * rate));
    ASSERT_EQ(file.size(), last - first);
    size_t differing = 0;
    for (size_t i = 0; i < file.size(); ++i) differing += std::fabs(file[i] - audio[first + i]) > 2.0f / 32767.0f;
    EXPECT_EQ(differing, 0u) << "samples of the file that are not the input's";
  }
};

TEST_F(RecordingsTest, TheEndMessageNamesTheFileThatHoldsTheInput) {
  const std::string directory = dir_.path("recordings");
  write_recording_config(directory);
  const std::vector<float> audio = analytic_signal(8.0, 16000);
  const std::vector<Message> messages = run(audio, 16000);
  expect_file_holds_the_input(messages, audio, 16000, directory);
  const nlohmann::json* health = last_health(messages);
  ASSERT_NE(health, nullptr);
  EXPECT_EQ((*health)["recordings"]["written"], 1) << health->dump();
  EXPECT_EQ((*health)["recordings"]["directory"], directory);
}

TEST_F(RecordingsTest, AtTheInputsOwnRate) {
  const std::string directory = dir_.path("recordings");
  write_recording_config(directory, "sample_rate = \"input\"\n");
  const std::vector<float> audio = analytic_signal(8.0, 48000);
  expect_file_holds_the_input(run(audio, 48000), audio, 48000, directory);
}

TEST_F(RecordingsTest, ADiskThatRefusesTheFileIsCountedAndEscdGoesOn) {
  ScratchMount disk(dir_.path("disk"), "1m");
  if (!disk.available()) GTEST_SKIP() << "needs root to mount a small tmpfs: " << disk.error();
  ASSERT_TRUE(disk.make_read_only());
  write_recording_config(dir_.path("disk"));
  const std::vector<Message> messages = run(analytic_signal(8.0, 16000), 16000);
  const Message* end = find(messages, "esc.event.mamba", "end");
  ASSERT_NE(end, nullptr) << log();
  const Message* refused = find(messages, "esc.recording.mamba");
  ASSERT_NE(refused, nullptr) << log();
  EXPECT_EQ(refused->body["written"], false);
  EXPECT_NE(refused->body["error"].get<std::string>().find("Read-only file system"), std::string::npos)
      << refused->body.dump();
  const nlohmann::json* health = last_health(messages);
  ASSERT_NE(health, nullptr);
  EXPECT_EQ((*health)["recordings"]["failed"], 1) << health->dump();
  size_t scores = 0;
  for (const auto& m : messages) scores += m.topic == "esc.scores.mamba" && !m.body["warming_up"].get<bool>();
  EXPECT_GE(scores, 6u) << "escd stopped classifying";
  EXPECT_NE(log().find("recordings:"), std::string::npos) << "the failure was not logged";
}

TEST_F(RecordingsTest, RecordingsOnWithoutADirectoryIsAClearErrorAtStart) {
  write_config("[recordings]\nenabled = true\n");
  Escd escd(args(), log_path(), "", {"STATE_DIRECTORY="});
  EXPECT_EQ(escd.wait(30s), 2) << log();
  EXPECT_NE(log().find("StateDirectory=escd"), std::string::npos) << log();
}

}  // namespace
}  // namespace escd::test

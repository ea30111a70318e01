// What ALSA and JACK report goes to escd's log at debug level, as one line each, instead of stderr
// (audio/sound_library_log.h): the default handlers print to stderr and leave the log empty.
#include <alsa/asoundlib.h>
#include <gtest/gtest.h>
#include <jack/jack.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <cerrno>
#include <memory>
#include <sstream>
#include <string>

#include "audio/sound_library_log.h"

namespace escd {
namespace {

// Makes the default logger write "<level> <message>" lines into `lines` for the test's duration.
class SoundLibraryLog : public ::testing::Test {
 protected:
  void SetUp() override {
    saved_ = spdlog::default_logger();
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(lines_);
    sink->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("sound_library_log_test", sink);
    logger->set_level(spdlog::level::debug);
    spdlog::set_default_logger(logger);
    route_sound_library_messages_to_log();
  }
  void TearDown() override { spdlog::set_default_logger(saved_); }

  std::ostringstream lines_;
  std::shared_ptr<spdlog::logger> saved_;
};

TEST_F(SoundLibraryLog, AlsaErrorsAreDebugLinesNamingWhereTheyCameFrom) {
  snd_pcm_t* pcm = nullptr;
  ASSERT_LT(snd_pcm_open(&pcm, "escd_no_such_pcm", SND_PCM_STREAM_CAPTURE, 0), 0);
  const std::string text = lines_.str();
  EXPECT_NE(text.find("debug ALSA pcm.c:"), std::string::npos) << text;
  EXPECT_NE(text.find("(snd_pcm_open_noupdate) Unknown PCM escd_no_such_pcm\n"), std::string::npos) << text;
}

// The error number is spelt out as ALSA's own handler does, and a message's trailing newline (the
// pulse plugin's end in one) does not leave an empty line behind.
TEST_F(SoundLibraryLog, AlsaErrorNumbersAreSpeltOutAndTrailingNewlinesDropped) {
  snd_lib_error("conf.c", 42, "escd_test", ENOENT, "cannot open %s\n", "card 0");
  EXPECT_EQ(lines_.str(), "debug ALSA conf.c:42 (escd_test) cannot open card 0: No such file or directory\n");
}

TEST_F(SoundLibraryLog, JackErrorsAndInfoAreDebugLines) {
  jack_error_callback("Cannot connect to server socket err = No such file or directory");
  jack_info_callback("escd test info");
  EXPECT_EQ(lines_.str(),
            "debug JACK Cannot connect to server socket err = No such file or directory\n"
            "debug JACK escd test info\n");
}

}  // namespace
}  // namespace escd

// Event recordings without a model: the audio kept for the pre-roll, the recorder following an
// event (the file holds exactly the input's samples over the span it reports), the writer thread on
// a disk that fills up, turns read-only or vanishes, and each retention rule.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>

#include "audio_history.h"
#include "event_recorder.h"
#include "recording_retention.h"
#include "recording_writer.h"
#include "scratch_mount.h"
#include "test_support.h"
#include "util/toml_json.h"

namespace escd::daemon {
namespace {

namespace fs = std::filesystem;
using std::chrono::system_clock;

constexpr int kRate = 16000;
// libsndfile writes floats as 16-bit FLAC: a sample comes back within one 16-bit step.
constexpr float kPcm16Step = 1.0f / 32767.0f;

// Deterministic, incompressible-ish audio: a FLAC of it is about as large as its 16-bit samples.
std::vector<float> noise(size_t n, uint32_t seed) {
  std::vector<float> out(n);
  for (size_t i = 0; i < n; ++i) {
    seed = seed * 1664525u + 1013904223u;
    out[i] = static_cast<float>(static_cast<int32_t>(seed) / 4294967296.0);  // [-0.5, 0.5)
  }
  return out;
}

// Feeds `audio` in 1000-sample blocks from sample `from` to `to`.
void feed(EventRecorder& recorder, const std::vector<float>& audio, size_t from, size_t to) {
  for (size_t i = from; i < to; i += 1000) recorder.push(audio.data() + i, std::min<size_t>(1000, to - i));
}

RecordingOptions options_with(double pre, double post, double max_event = 300) {
  RecordingOptions o;
  o.enabled = true;
  o.pre_roll_s = pre;
  o.post_roll_s = post;
  o.max_event_s = max_event;
  return o;
}

void expect_samples_equal(const std::vector<float>& file, const std::vector<float>& audio, size_t first) {
  ASSERT_LE(first + file.size(), audio.size());
  size_t differing = 0;
  for (size_t i = 0; i < file.size(); ++i) differing += std::fabs(file[i] - audio[first + i]) > kPcm16Step;
  EXPECT_EQ(differing, 0u) << "of " << file.size() << " samples, first input sample " << first;
}

#define SKIP_WITHOUT_MOUNT(m) \
  if (!(m).available()) GTEST_SKIP() << "needs root to mount a small tmpfs: " << (m).error()

// Records 3 s of noise (about 96 KB as FLAC) as one event of `label`; returns the writer's result.
RecordingResult record_one(RecordingWriter& writer, uint64_t id, const std::string& file) {
  writer.begin(id, file, kRate, {"dog", "{}", "2026-12-02T00:00:00Z"}, noise(3 * kRate, static_cast<uint32_t>(id)));
  writer.finish(id);
  writer.drain();
  auto results = writer.take_results();
  EXPECT_EQ(results.size(), 1u);
  return results.empty() ? RecordingResult{} : results[0];
}

std::vector<std::string> files_under(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().filename() != ".filler") out.push_back(fs::relative(e.path(), dir).string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

TEST(AudioHistory, KeepsTheNewestSamplesByTheirStreamIndex) {
  AudioHistory h(10);
  std::vector<float> in(25);
  for (size_t i = 0; i < in.size(); ++i) in[i] = static_cast<float>(i);
  h.push(in.data(), 7);
  h.push(in.data() + 7, 18);  // longer than the capacity: only the last 10 stay
  EXPECT_EQ(h.end(), 25u);
  EXPECT_EQ(h.begin(), 15u);
  std::vector<float> out;
  EXPECT_EQ(h.copy(3, 18, out), 15u);  // clamped to what is held
  EXPECT_EQ(out, (std::vector<float>{15, 16, 17}));
  out.clear();
  EXPECT_EQ(h.copy(20, 40, out), 20u);
  EXPECT_EQ(out, (std::vector<float>{20, 21, 22, 23, 24}));
}

TEST(EventRecorder, TheFileHoldsTheInputFromPreRollToPostRoll) {
  test::TempDir dir;
  const std::vector<float> audio = noise(14 * kRate, 1);
  std::optional<RecordingSpan> span;
  std::vector<std::pair<std::string, nlohmann::json>> done;
  {
    RecordingWriter writer(dir.str(), {}, 1 << 22);
    EventRecorder recorder(options_with(3, 2), kRate, writer);
    feed(recorder, audio, 0, 6 * kRate);
    recorder.start("mamba", 5, "dog", 0.9, 6.0, system_clock::now());
    feed(recorder, audio, 6 * kRate, 9 * kRate);
    span = recorder.end("mamba", 5, 9.0);
    feed(recorder, audio, 9 * kRate, 14 * kRate);
    writer.drain();
    done = recorder.finished();
    EXPECT_EQ(recorder.stats()["recording"], 0) << "the recording did not finish after its post-roll";
  }
  ASSERT_TRUE(span);
  EXPECT_DOUBLE_EQ(span->start, 3.0);
  EXPECT_DOUBLE_EQ(span->end, 11.0);
  EXPECT_FALSE(span->truncated);
  EXPECT_EQ(span->file.rfind("dog/", 0), 0u) << span->file;
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].first, "mamba");
  EXPECT_EQ(done[0].second["written"], true) << done[0].second.dump();
  EXPECT_EQ(done[0].second["file"], span->file);
  EXPECT_EQ(done[0].second["samples"], 8 * kRate);
  int rate = 0;
  const std::vector<float> file = test::read_audio(dir.path(span->file), &rate);
  EXPECT_EQ(rate, kRate);
  ASSERT_EQ(file.size(), 8u * kRate);
  expect_samples_equal(file, audio, 3 * kRate);
  // The file names its class and says where it came from.
  SF_INFO info{};
  SNDFILE* f = sf_open(dir.path(span->file).c_str(), SFM_READ, &info);
  ASSERT_NE(f, nullptr);
  EXPECT_STREQ(sf_get_string(f, SF_STR_TITLE), "dog");
  const nlohmann::json about = nlohmann::json::parse(sf_get_string(f, SF_STR_COMMENT));
  EXPECT_EQ(about["model"], "mamba");
  EXPECT_DOUBLE_EQ(about["event_start"].get<double>(), 6.0);
  sf_close(f);
}

TEST(EventRecorder, PreRollAtStartUpIsWhatExists) {
  test::TempDir dir;
  const std::vector<float> audio = noise(6 * kRate, 2);
  std::optional<RecordingSpan> span;
  {
    RecordingWriter writer(dir.str(), {}, 1 << 22);
    EventRecorder recorder(options_with(3, 1), kRate, writer);
    feed(recorder, audio, 0, kRate);  // one second of audio so far
    recorder.start("mamba", 0, "dog", 0.9, 1.0, system_clock::now());
    feed(recorder, audio, kRate, 2 * kRate);
    span = recorder.end("mamba", 0, 2.0);
    feed(recorder, audio, 2 * kRate, 6 * kRate);
  }
  ASSERT_TRUE(span);
  EXPECT_DOUBLE_EQ(span->start, 0.0);
  EXPECT_DOUBLE_EQ(span->end, 3.0);
  const std::vector<float> file = test::read_audio(dir.path(span->file));
  ASSERT_EQ(file.size(), 3u * kRate);
  expect_samples_equal(file, audio, 0);
}

TEST(EventRecorder, AnEventLongerThanTheLimitStopsTheFileThereAndSaysSo) {
  test::TempDir dir;
  const std::vector<float> audio = noise(12 * kRate, 3);
  std::optional<RecordingSpan> span;
  {
    RecordingWriter writer(dir.str(), {}, 1 << 22);
    EventRecorder recorder(options_with(1, 1, 4), kRate, writer);
    feed(recorder, audio, 0, 2 * kRate);
    recorder.start("mamba", 0, "rain", 0.9, 2.0, system_clock::now());
    feed(recorder, audio, 2 * kRate, 10 * kRate);
    span = recorder.end("mamba", 0, 10.0);
    feed(recorder, audio, 10 * kRate, 12 * kRate);
  }
  ASSERT_TRUE(span);
  EXPECT_TRUE(span->truncated);
  EXPECT_DOUBLE_EQ(span->start, 1.0);
  EXPECT_DOUBLE_EQ(span->end, 5.0);
  const std::vector<float> file = test::read_audio(dir.path(span->file));
  ASSERT_EQ(file.size(), 4u * kRate);
  expect_samples_equal(file, audio, kRate);
}

TEST(EventRecorder, AGapCutsAnEndedEventsPostRollAndTimesFollowTheNewAnchor) {
  test::TempDir dir;
  const std::vector<float> audio = noise(5 * kRate, 4);
  std::optional<RecordingSpan> first, second;
  {
    RecordingWriter writer(dir.str(), {}, 1 << 22);
    EventRecorder recorder(options_with(1, 2), kRate, writer);
    feed(recorder, audio, 0, 3 * kRate);
    recorder.start("mamba", 0, "dog", 0.9, 3.0, system_clock::now());
    first = recorder.end("mamba", 0, 3.0);
    feed(recorder, audio, 3 * kRate, 4 * kRate);  // half of the post-roll
    recorder.realign(100.0);                       // a gap: the next sample is at 100 s
    feed(recorder, audio, 4 * kRate, 5 * kRate);
    recorder.start("mamba", 1, "cat", 0.9, 101.0, system_clock::now() + std::chrono::seconds(1));
    second = recorder.end("mamba", 1, 101.0, false);
  }
  ASSERT_TRUE(first && second);
  const std::vector<float> cut = test::read_audio(dir.path(first->file));
  EXPECT_EQ(cut.size(), 2u * kRate) << "pre-roll and the first second of post-roll, nothing from after the gap";
  EXPECT_DOUBLE_EQ(second->start, 100.0);
  EXPECT_DOUBLE_EQ(second->end, 101.0);
  const std::vector<float> after = test::read_audio(dir.path(second->file));
  ASSERT_EQ(after.size(), 1u * kRate);
  expect_samples_equal(after, audio, 4 * kRate);
}

TEST(EventRecorder, OnlyTheChosenModelsAreRecorded) {
  test::TempDir dir;
  RecordingOptions o = options_with(1, 0);
  o.models = {"ensemble"};
  RecordingWriter writer(dir.str(), {}, 1 << 22);
  EventRecorder recorder(o, kRate, writer);
  const std::vector<float> audio = noise(kRate, 5);
  feed(recorder, audio, 0, kRate);
  recorder.start("mamba", 0, "dog", 0.9, 1.0, system_clock::now());
  EXPECT_FALSE(recorder.end("mamba", 0, 1.0));
  recorder.start("ensemble", 0, "dog", 0.9, 1.0, system_clock::now());
  EXPECT_TRUE(recorder.end("ensemble", 0, 1.0));
}

TEST(EventRecorder, EventsInTheSameMillisecondGetTheirOwnFiles) {
  test::TempDir dir;
  std::vector<std::string> files;
  {
    RecordingWriter writer(dir.str(), {}, 1 << 22);
    EventRecorder recorder(options_with(0.5, 0), kRate, writer);
    const std::vector<float> audio = noise(kRate, 7);
    feed(recorder, audio, 0, kRate);
    const auto wall = system_clock::now();
    for (int c = 0; c < 3; ++c) {
      recorder.start("mamba", 0, "dog", 0.9, 1.0, wall);  // as fast as a file decodes: one wall-clock millisecond
      files.push_back(recorder.end("mamba", 0, 1.0)->file);
    }
  }
  EXPECT_NE(files[0], files[1]);
  EXPECT_NE(files[1], files[2]);
  EXPECT_EQ(files_under(dir.str()).size(), 3u);
}

TEST(EventRecorder, APreRollLongerThanTheLimitIsCutToIt) {
  test::TempDir dir;
  std::optional<RecordingSpan> span;
  {
    RecordingWriter writer(dir.str(), {}, 1 << 22);
    EventRecorder recorder(options_with(3, 0, 1), kRate, writer);
    const std::vector<float> audio = noise(4 * kRate, 8);
    feed(recorder, audio, 0, 4 * kRate);
    recorder.start("mamba", 0, "dog", 0.9, 4.0, system_clock::now());
    span = recorder.end("mamba", 0, 4.0);
  }
  ASSERT_TRUE(span);
  EXPECT_DOUBLE_EQ(span->start, 1.0);
  EXPECT_DOUBLE_EQ(span->end, 2.0);
  EXPECT_TRUE(span->truncated);
  EXPECT_EQ(test::read_audio(dir.path(span->file)).size(), 1u * kRate);
}

TEST(RecordingWriter, AnExistingFileIsNeverReplaced) {
  test::TempDir dir;
  fs::create_directories(dir.path("dog"));
  std::ofstream(dir.path("dog/a.flac")) << "an earlier recording";
  RecordingWriter writer(dir.str(), {}, 1 << 22);
  const RecordingResult r = record_one(writer, 1, "dog/a.flac");
  EXPECT_FALSE(r.written);
  EXPECT_NE(r.error.find("File exists"), std::string::npos) << r.error;
  std::ifstream in(dir.path("dog/a.flac"));
  EXPECT_EQ(std::string(std::istreambuf_iterator<char>(in), {}), "an earlier recording");
}

TEST(RecordingWriter, AFullQueueDropsTheRecordingAndCountsIt) {
  test::TempDir dir;
  RecordingWriter writer(dir.str(), {}, 1000);  // a disk far behind: 1000 samples may wait
  EventRecorder recorder(options_with(1, 0), kRate, writer);
  const std::vector<float> audio = noise(2 * kRate, 6);
  feed(recorder, audio, 0, 2 * kRate);
  recorder.start("mamba", 0, "dog", 0.9, 2.0, system_clock::now());  // a 16000-sample pre-roll
  writer.drain();
  const auto done = recorder.finished();
  ASSERT_EQ(done.size(), 1u);
  EXPECT_EQ(done[0].second["written"], false);
  EXPECT_NE(done[0].second["error"].get<std::string>().find("not keeping up"), std::string::npos);
  EXPECT_EQ(writer.stats()["dropped"], 1);
  EXPECT_FALSE(fs::exists(dir.path("dog")) && !fs::is_empty(dir.path("dog"))) << "a dropped recording left a file";
}

TEST(RecordingWriter, AFullDiskFailsThatRecordingLeavesNoFileAndTheNextOneIsWrittenWhenThereIsRoom) {
  test::TempDir dir;
  test::ScratchMount disk(dir.path("disk"), "1m");
  SKIP_WITHOUT_MOUNT(disk);
  RecordingWriter writer(dir.path("disk"), {}, 1 << 22);
  fs::create_directories(dir.path("disk/dog"));
  disk.fill(16384);
  const RecordingResult full = record_one(writer, 1, "dog/a.flac");
  EXPECT_FALSE(full.written);
  EXPECT_NE(full.error.find("No space left on device"), std::string::npos) << full.error;
  EXPECT_EQ(files_under(dir.path("disk")), std::vector<std::string>{}) << "a partial file was left";
  EXPECT_EQ(writer.stats()["failed"], 1);
  EXPECT_NE(writer.stats()["last_error"].get<std::string>().find("No space left"), std::string::npos);
  fs::remove(dir.path("disk/.filler"));
  const RecordingResult later = record_one(writer, 2, "dog/b.flac");
  EXPECT_TRUE(later.written) << later.error;
  EXPECT_EQ(files_under(dir.path("disk")), std::vector<std::string>{"dog/b.flac"});
  EXPECT_EQ(writer.stats()["written"], 1);
}

TEST(RecordingWriter, AReadOnlyDiskFailsClearly) {
  test::TempDir dir;
  test::ScratchMount disk(dir.path("disk"), "1m");
  SKIP_WITHOUT_MOUNT(disk);
  RecordingWriter writer(dir.path("disk"), {}, 1 << 22);
  fs::create_directories(dir.path("disk/dog"));  // the file itself is refused, not only its directory
  ASSERT_TRUE(disk.make_read_only());
  const RecordingResult r = record_one(writer, 1, "dog/a.flac");
  EXPECT_FALSE(r.written);
  EXPECT_NE(r.error.find("Read-only file system"), std::string::npos) << r.error;
  EXPECT_EQ(writer.stats()["failed"], 1);
}

TEST(RecordingWriter, AVanishedDirectoryIsCreatedAgain) {
  test::TempDir dir;
  RecordingWriter writer(dir.path("recordings"), {}, 1 << 22);
  EXPECT_TRUE(record_one(writer, 1, "dog/a.flac").written);
  fs::remove_all(dir.path("recordings"));
  const RecordingResult r = record_one(writer, 2, "dog/b.flac");
  EXPECT_TRUE(r.written) << r.error;
  EXPECT_EQ(files_under(dir.path("recordings")), std::vector<std::string>{"dog/b.flac"});
}

TEST(RecordingWriter, ADirectoryThatCannotBeCreatedFailsTheRecordingNotTheWriter) {
  test::TempDir dir;
  std::ofstream(dir.path("not-a-directory")) << "x";
  RecordingWriter writer(dir.path("not-a-directory"), {}, 1 << 22);
  const RecordingResult r = record_one(writer, 1, "dog/a.flac");
  EXPECT_FALSE(r.written);
  EXPECT_NE(r.error.find("cannot create the directory"), std::string::npos) << r.error;
}

// A file name as escd gives recordings; `n` makes it unique.
std::string name(const std::string& label, int n) {
  return label + "/2026-12-01T00-00-" + (n < 10 ? "0" : "") + std::to_string(n) + ".000Z_mamba.flac";
}

// A file of `bytes` bytes, last modified `age` ago.
void old_file(const std::string& dir, const std::string& name, size_t bytes, std::chrono::seconds age) {
  fs::create_directories(fs::path(dir + "/" + name).parent_path());
  std::ofstream(dir + "/" + name) << std::string(bytes, 'x');
  fs::last_write_time(dir + "/" + name, fs::file_time_type::clock::now() - age);
}

using std::chrono::hours;

TEST(RecordingRetention, MaxAgeDeletesOlderFiles) {
  test::TempDir dir;
  old_file(dir.str(), name("dog", 1), 10, hours(1));
  old_file(dir.str(), name("dog", 2), 10, hours(50));
  old_file(dir.str(), name("cat", 3), 10, hours(49));
  const RetentionResult r = enforce_retention(dir.str(), {48 * 3600.0, 0, 0}, fs::file_time_type::clock::now(), false);
  EXPECT_EQ(r.deleted, 2u);
  EXPECT_EQ(files_under(dir.str()), std::vector<std::string>{name("dog", 1)});
}

TEST(RecordingRetention, MaxFilesPerClassKeepsTheNewestOfEachClass) {
  test::TempDir dir;
  for (int i = 0; i < 4; ++i) old_file(dir.str(), name("dog", i), 10, hours(i));
  old_file(dir.str(), name("cat", 9), 10, hours(9));
  const RetentionResult r = enforce_retention(dir.str(), {0, 0, 2}, fs::file_time_type::clock::now(), false);
  EXPECT_EQ(r.deleted, 2u);
  EXPECT_EQ(files_under(dir.str()), (std::vector<std::string>{name("cat", 9), name("dog", 0), name("dog", 1)}));
}

TEST(RecordingRetention, MaxTotalSizeDeletesTheOldestFirst) {
  test::TempDir dir;
  old_file(dir.str(), name("dog", 1), 400, hours(1));
  old_file(dir.str(), name("cat", 2), 400, hours(2));
  old_file(dir.str(), name("dog", 3), 400, hours(3));
  old_file(dir.str(), name("dog", 4), 10, hours(4));  // small, but older than one that did not fit
  const RetentionResult r = enforce_retention(dir.str(), {0, 1000, 0}, fs::file_time_type::clock::now(), false);
  EXPECT_EQ(r.deleted, 2u);
  EXPECT_EQ(r.kept_bytes, 800u);
  EXPECT_EQ(files_under(dir.str()), (std::vector<std::string>{name("cat", 2), name("dog", 1)}));
  // The newest file stays even when it alone is over the limit.
  EXPECT_EQ(enforce_retention(dir.str(), {0, 100, 0}, fs::file_time_type::clock::now(), false).kept_files, 1u);
  EXPECT_EQ(files_under(dir.str()), std::vector<std::string>{name("dog", 1)});
}

TEST(RecordingRetention, FilesEscdDidNotNameAreLeftAndCrashLeftoversGoOnlyAtStartUp) {
  test::TempDir dir;
  old_file(dir.str(), name("dog", 1) + ".tmp.Xy12ab", 10, hours(100));
  old_file(dir.str(), "dog/notes.txt", 10, hours(100));
  old_file(dir.str(), "Album/01 Track.flac", 10, hours(100));  // recordings pointed at a music library
  old_file(dir.str(), "README", 10, hours(100));
  const RetentionLimits strict{3600.0, 1, 1};
  EXPECT_EQ(enforce_retention(dir.str(), strict, fs::file_time_type::clock::now(), false).leftovers, 0u);
  EXPECT_EQ(files_under(dir.str()).size(), 4u);
  EXPECT_EQ(enforce_retention(dir.str(), strict, fs::file_time_type::clock::now(), true).leftovers, 1u);
  EXPECT_EQ(files_under(dir.str()), (std::vector<std::string>{"Album/01 Track.flac", "README", "dog/notes.txt"}));
  EXPECT_EQ(enforce_retention(dir.path("missing"), strict, fs::file_time_type::clock::now(), true).error, "");
}

TEST(RecordingWriter, RetentionRunsAtStartAndAfterEachFile) {
  test::TempDir dir;
  for (int i = 0; i < 3; ++i) old_file(dir.str(), name("dog", i), 10, hours(i + 1));
  RecordingWriter writer(dir.str(), {0, 0, 2}, 1 << 22);
  writer.drain();
  EXPECT_EQ(files_under(dir.str()), (std::vector<std::string>{name("dog", 0), name("dog", 1)}));
  EXPECT_TRUE(record_one(writer, 1, name("dog", 59)).written);
  EXPECT_EQ(files_under(dir.str()), (std::vector<std::string>{name("dog", 0), name("dog", 59)}));
  EXPECT_EQ(writer.stats()["deleted"], 2);
}

TEST(RecordingOptions, ValuesAreCheckedAndTheDirectoryComesFromSystemdWhenUnset) {
  RecordingOptions o;
  o.enabled = true;
  o.sample_rate = "44100";
  EXPECT_THROW(validate(o), ConfigError);
  o.sample_rate = "input";
  o.pre_roll_s = -1;
  EXPECT_THROW(validate(o), ConfigError);
  o.pre_roll_s = 3;
  ::unsetenv("STATE_DIRECTORY");
  try {
    validate(o);
    FAIL() << "recordings on without a directory were accepted";
  } catch (const ConfigError& e) {
    EXPECT_NE(std::string(e.what()).find("StateDirectory=escd"), std::string::npos) << e.what();
  }
  ::setenv("STATE_DIRECTORY", "/var/lib/escd:/var/lib/other", 1);
  EXPECT_EQ(recordings_directory(o), "/var/lib/escd/recordings");
  o.directory = "/srv/sounds";
  EXPECT_EQ(recordings_directory(o), "/srv/sounds");
  ::unsetenv("STATE_DIRECTORY");
}

}  // namespace
}  // namespace escd::daemon

// The user's own data (src/data/dataset_reader.h): a folder per class and a CSV become the same clips,
// long recordings become windows that keep their file's fold, folds are stratified and seeded, and
// every bad dataset is an error naming the file.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

#include "data/clip_dataset.h"
#include "data/dataset_reader.h"
#include "test_support.h"

namespace escd {
namespace {

namespace fs = std::filesystem;

// `seconds` of a tone at `hz`, at `rate`.
std::vector<float> tone(double seconds, double hz, int rate) {
  std::vector<float> out(static_cast<size_t>(seconds * rate));
  for (size_t i = 0; i < out.size(); ++i) out[i] = 0.3f * static_cast<float>(std::sin(2 * M_PI * hz * i / rate));
  return out;
}

void write_tone(const std::string& path, double seconds, double hz, int rate = 16000) {
  fs::create_directories(fs::path(path).parent_path());
  test::write_audio(path, tone(seconds, hz, rate), rate, 1, SF_FORMAT_WAV | SF_FORMAT_PCM_16);
}

std::string error_of(const std::string& path, const DatasetOptions& options = {}) {
  try {
    read_dataset(path, options);
  } catch (const DatasetError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(DatasetReader, ClassFoldersGiveSortedClassesStratifiedFoldsAndWindowsOfLongFiles) {
  test::TempDir dir;
  for (int i = 0; i < 10; ++i) write_tone(dir.path("kettle/k" + std::to_string(i) + ".wav"), 2.0, 1000);
  for (int i = 0; i < 7; ++i) write_tone(dir.path("doorbell/sub/d" + std::to_string(i) + ".wav"), 1.0, 600, 44100);
  write_tone(dir.path("doorbell/.hidden.wav"), 1.0, 600);  // skipped
  // 12 s: windows at 0 and 5 s; the last 2 s are under half a clip and dropped.
  write_tone(dir.path("alarm/long.wav"), 12.0, 3000);
  write_tone(dir.path("alarm/short.wav"), 3.0, 3000);
  std::ofstream(dir.path("README.txt")) << "not a class\n";

  const ClipIndex index = read_dataset(dir.str());
  EXPECT_EQ(index.class_names, (std::vector<std::string>{"alarm", "doorbell", "kettle"}));
  ASSERT_EQ(index.clips.size(), 3u + 7u + 10u);
  std::map<std::string, std::set<int>> folds_of_file;
  std::map<int, std::map<int, int>> per_class_fold;
  for (const ClipInfo& clip : index.clips) {
    EXPECT_EQ(index.class_names[clip.target], clip.category);
    EXPECT_GE(clip.fold, 1);
    EXPECT_LE(clip.fold, 5);
    folds_of_file[clip.audio_path].insert(clip.fold);
    ++per_class_fold[clip.target][clip.fold];
  }
  for (const auto& [file, folds] : folds_of_file) EXPECT_EQ(folds.size(), 1u) << file << ": windows in two folds";
  // kettle: 10 files, two in each fold; doorbell: 7, dealt 1, 4, 5, 2, 3, 1, 4.
  for (int f = 1; f <= 5; ++f) EXPECT_EQ(per_class_fold[2][f], 2) << "fold " << f;
  EXPECT_EQ(per_class_fold[1][1], 2);
  EXPECT_EQ(per_class_fold[1][4], 2);
  EXPECT_EQ(per_class_fold[1][3], 1);
  // The long file's windows: at 0 and 80000 samples, named by their start.
  std::vector<int64_t> starts;
  for (const ClipInfo& clip : index.clips) {
    if (clip.audio_path == dir.path("alarm/long.wav")) {
      starts.push_back(clip.start_sample);
      EXPECT_NE(clip.filename.find("alarm/long.wav@"), std::string::npos) << clip.filename;
    }
  }
  EXPECT_EQ(starts, (std::vector<int64_t>{0, 80000}));

  // The same seed gives the same split; another seed another one (for some class).
  DatasetOptions other;
  other.split_seed = 7;
  const ClipIndex again = read_dataset(dir.str()), reseeded = read_dataset(dir.str(), other);
  bool differs = false;
  for (size_t i = 0; i < index.clips.size(); ++i) {
    EXPECT_EQ(again.clips[i].fold, index.clips[i].fold);
    differs = differs || reseeded.clips[i].fold != index.clips[i].fold;
  }
  EXPECT_TRUE(differs) << "--split-seed changed nothing";

  // Decoded: the 44.1 kHz files resampled, every clip 5 s, the long file's second window its 5..10 s.
  const ClipDataset data = load_clips(index);
  for (const auto& w : data.waveforms) ASSERT_EQ(w.size(), 80000u);
  int rate = 0;
  const std::vector<float> long_audio = test::read_audio(dir.path("alarm/long.wav"), &rate);
  for (size_t i = 0; i < index.clips.size(); ++i) {
    if (index.clips[i].start_sample == 80000) {
      EXPECT_NEAR(data.waveforms[i][123], long_audio[80000 + 123], 1e-4);
    }
  }
}

TEST(DatasetReader, ACsvNamesFilesLabelsAndFoldsRelativeToItself) {
  test::TempDir dir;
  write_tone(dir.path("audio/a1.flac"), 1.0, 500);
  write_tone(dir.path("audio/a2.flac"), 1.0, 500);
  write_tone(dir.path("audio/b1.wav"), 1.0, 900);
  write_tone(dir.path("audio/b2.wav"), 1.0, 900);
  std::ofstream(dir.path("labels.csv")) << "file,label,fold\naudio/a1.flac,hen,1\naudio/a2.flac,hen,5\n"
                                           "audio/b1.wav,\"saw, hand\",2\naudio/b2.wav,\"saw, hand\",5\n";
  const ClipIndex index = read_dataset(dir.path("labels.csv"));
  EXPECT_EQ(index.class_names, (std::vector<std::string>{"hen", "saw, hand"}));
  ASSERT_EQ(index.clips.size(), 4u);
  EXPECT_EQ(index.clips[1].fold, 5);
  EXPECT_EQ(index.clips[1].csv_line, 3);
  EXPECT_EQ(clips_in_folds(index, {5}).size(), 2u);

  // A spreadsheet's byte order mark before the header is not part of it.
  std::ofstream(dir.path("bom.csv")) << "\xEF\xBB\xBF" << "file,label\naudio/a1.flac,hen\naudio/a2.flac,hen\n"
                                        "audio/b1.wav,saw\naudio/b2.wav,saw\n";
  EXPECT_EQ(read_dataset(dir.path("bom.csv")).clips.size(), 4u);

  // Without a header, positional; without folds, assigned.
  std::ofstream(dir.path("plain.csv")) << "audio/a1.flac,hen\naudio/a2.flac,hen\naudio/b1.wav,saw\naudio/b2.wav,saw\n";
  const ClipIndex plain = read_dataset(dir.path("plain.csv"));
  EXPECT_EQ(plain.class_names, (std::vector<std::string>{"hen", "saw"}));
  EXPECT_EQ(clips_in_folds(plain, {1}).size(), 2u);
  EXPECT_EQ(clips_in_folds(plain, {4}).size(), 2u);
}

TEST(DatasetReader, BadDatasetsAreErrorsThatNameTheFile) {
  test::TempDir dir;
  const auto expect_error = [](const std::string& path, const std::string& needle) {
    const std::string what = error_of(path);
    EXPECT_NE(what.find(needle), std::string::npos) << "expected '" << needle << "' in: " << what;
  };
  expect_error(dir.path("nothing-here"), "no such file or directory");
  expect_error(dir.str(), "no class folders");

  write_tone(dir.path("one/a.wav"), 1.0, 500);
  write_tone(dir.path("one/b.wav"), 1.0, 500);
  expect_error(dir.str(), "one class ('one')");
  write_tone(dir.path("two/a.wav"), 1.0, 500);
  expect_error(dir.str(), "class 'two' has one file (" + dir.path("two/a.wav") + ")");
  write_tone(dir.path("two/b.wav"), 1.0, 500);
  EXPECT_EQ(read_dataset(dir.str()).clips.size(), 4u);

  fs::create_directories(dir.path("empty"));
  expect_error(dir.str(), dir.path("empty") + ": class folder without audio files");
  fs::remove(dir.path("empty"));
  std::ofstream(dir.path("two/notes.wav")) << "this is not audio";
  expect_error(dir.str(), dir.path("two/notes.wav") + ": not audio that libsndfile reads");
  fs::remove(dir.path("two/notes.wav"));
  write_tone(dir.path("background/a.wav"), 1.0, 500);
  write_tone(dir.path("background/b.wav"), 1.0, 500);
  expect_error(dir.str(), "the label 'background' is reserved");
  fs::remove_all(dir.path("background"));

  std::ofstream(dir.path("bad-fold.csv")) << "one/a.wav,one,1\none/b.wav,one,6\n";
  expect_error(dir.path("bad-fold.csv"), "bad-fold.csv:2: field 'fold': expected an integer 1..5, got '6'");
  std::ofstream(dir.path("missing.csv")) << "one/a.wav,one\none/gone.wav,one\n";
  expect_error(dir.path("missing.csv"), "missing.csv:2: " + dir.path("one/gone.wav") + ": no such file");
  std::ofstream(dir.path("ragged.csv")) << "one/a.wav,one\none/b.wav\n";
  expect_error(dir.path("ragged.csv"), "ragged.csv:2: expected 2 fields, got 1");
  std::ofstream(dir.path("no-label.csv")) << "file,fold\none/a.wav,1\n";
  expect_error(dir.path("no-label.csv"), "no-label.csv:1: header has a file column but no 'label' column");
  std::ofstream(dir.path("empty.csv")) << "";
  expect_error(dir.path("empty.csv"), "empty.csv: empty file");
  std::ofstream(dir.path("twice.csv")) << "one/a.wav,one,1\none/b.wav,one,2\n./one/a.wav,one,5\n";
  expect_error(dir.path("twice.csv"), "twice.csv:3: " + dir.path("one/a.wav") + " is listed again (first on line 1)");
}

TEST(DatasetReader, Esc50IsAPresetOfTheSameReader) {
  SKIP_WITHOUT_ESC50();
  EXPECT_TRUE(is_esc50_layout(test::esc50_dir()));
  const ClipIndex index = read_dataset(test::esc50_dir());
  EXPECT_EQ(index.clips.size(), 2000u);
  EXPECT_EQ(index.class_names.front(), "dog");  // ESC-50's own order, not sorted
  EXPECT_EQ(index.clips.front().start_sample, -1);
}

}  // namespace
}  // namespace escd

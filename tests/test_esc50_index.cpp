// The ESC-50 csv reader: the real metadata gives the standard splits and labels; malformed files
// give errors that name the file, the line and the field.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "data/esc50_index.h"
#include "test_support.h"

namespace escd {
namespace {

TEST(Esc50Index, RealCsvGivesStandardSplitsAndLabels) {
  SKIP_WITHOUT_ESC50();
  const ClipIndex index = read_esc50_index(test::esc50_dir());
  ASSERT_EQ(index.clips.size(), 2000u);
  EXPECT_EQ(clips_in_folds(index, {1, 2, 3}).size(), 1200u);
  EXPECT_EQ(clips_in_folds(index, {4}).size(), 400u);
  EXPECT_EQ(clips_in_folds(index, {5}).size(), 400u);
  ASSERT_EQ(index.class_names.size(), 50u);
  // ESC-50's own target column, not alphabetical order: 0 is dog, 1 rooster, 49 hand_saw.
  EXPECT_EQ(index.class_names[0], "dog");
  EXPECT_EQ(index.class_names[1], "rooster");
  EXPECT_EQ(index.class_names[49], "hand_saw");
  EXPECT_EQ(index.clips[0].filename, "1-100032-A-0.wav");
  EXPECT_EQ(index.clips[0].target, 0);
  EXPECT_EQ(index.clips[0].fold, 1);
  EXPECT_EQ(std::filesystem::path(index.clips[0].audio_path).filename(), "1-100032-A-0.flac");
  for (const ClipInfo& clip : index.clips) {
    // The filename ends with -<target>.wav in ESC-50's naming scheme.
    ASSERT_EQ(clip.filename.substr(clip.filename.rfind('-') + 1), std::to_string(clip.target) + ".wav");
    ASSERT_EQ(clip.filename.substr(0, 1), std::to_string(clip.fold));
  }
  // 8 clips per class in every fold.
  for (int fold = 1; fold <= 5; ++fold) {
    std::vector<int> per_class(50, 0);
    for (size_t i : clips_in_folds(index, {fold})) ++per_class[index.clips[i].target];
    for (int c = 0; c < 50; ++c) ASSERT_EQ(per_class[c], 8) << "fold " << fold << " class " << c;
  }
}

// A small fake ESC-50 directory with the given csv text and (empty) audio files for `audio`.
class FakeDataset {
 public:
  FakeDataset(const std::string& csv, const std::vector<std::string>& audio) {
    std::filesystem::create_directories(dir_.path("meta"));
    std::filesystem::create_directories(dir_.path("audio"));
    std::ofstream(dir_.path("meta/esc50.csv")) << csv;
    for (const auto& name : audio) std::ofstream(dir_.path("audio/" + name)) << "x";
  }
  std::string root() const { return dir_.str(); }
  std::string csv() const { return dir_.path("meta/esc50.csv"); }

 private:
  test::TempDir dir_;
};

const char* kHeader = "filename,fold,target,category,esc10,src_file,take\n";

std::string error_of(const FakeDataset& data, Esc50IndexOptions options = {}) {
  try {
    read_esc50_index(data.root(), options);
  } catch (const DatasetError& e) {
    return e.what();
  }
  return "no error";
}

TEST(Esc50Index, PartialDatasetLoadsWhenAllowedAndFindsWavOrFlac) {
  FakeDataset data(std::string(kHeader) + "1-1-A-0.wav,1,0,dog,True,1,A\n2-2-A-1.wav,2,1,rooster,False,2,A\n",
                   {"1-1-A-0.wav", "2-2-A-1.flac"});
  const ClipIndex index = read_esc50_index(data.root(), {.allow_partial = true});
  ASSERT_EQ(index.clips.size(), 2u);
  EXPECT_EQ(std::filesystem::path(index.clips[1].audio_path).extension(), ".flac");
  EXPECT_EQ(index.class_names[1], "rooster");
  EXPECT_EQ(index.class_names[2], "class_2");
}

TEST(Esc50Index, PartialDatasetIsAnErrorByDefault) {
  FakeDataset data(std::string(kHeader) + "1-1-A-0.wav,1,0,dog,True,1,A\n", {"1-1-A-0.wav"});
  const std::string e = error_of(data);
  EXPECT_NE(e.find("expected 2000 clips"), std::string::npos) << e;
  EXPECT_NE(e.find("found 1"), std::string::npos) << e;
}

TEST(Esc50Index, MissingCsvNamesTheFile) {
  test::TempDir dir;
  try {
    read_esc50_index(dir.str());
    FAIL();
  } catch (const DatasetError& e) {
    EXPECT_NE(std::string(e.what()).find("meta/esc50.csv"), std::string::npos);
  }
}

TEST(Esc50Index, MissingColumnIsReported) {
  FakeDataset data("filename,fold,target\n1-1-A-0.wav,1,0\n", {"1-1-A-0.wav"});
  const std::string e = error_of(data, {.allow_partial = true});
  EXPECT_NE(e.find(data.csv() + ":1"), std::string::npos) << e;
  EXPECT_NE(e.find("'category'"), std::string::npos) << e;
}

TEST(Esc50Index, BadFoldNamesLineAndField) {
  FakeDataset data(std::string(kHeader) + "1-1-A-0.wav,1,0,dog,True,1,A\n1-2-A-0.wav,7,0,dog,True,1,A\n",
                   {"1-1-A-0.wav", "1-2-A-0.wav"});
  const std::string e = error_of(data, {.allow_partial = true});
  EXPECT_NE(e.find(data.csv() + ":3"), std::string::npos) << e;
  EXPECT_NE(e.find("'fold'"), std::string::npos) << e;
  EXPECT_NE(e.find("'7'"), std::string::npos) << e;
}

TEST(Esc50Index, NonIntegerTargetIsReported) {
  FakeDataset data(std::string(kHeader) + "1-1-A-0.wav,1,zero,dog,True,1,A\n", {"1-1-A-0.wav"});
  const std::string e = error_of(data, {.allow_partial = true});
  EXPECT_NE(e.find(":2: field 'target'"), std::string::npos) << e;
}

TEST(Esc50Index, WrongFieldCountIsReported) {
  FakeDataset data(std::string(kHeader) + "1-1-A-0.wav,1,0\n", {"1-1-A-0.wav"});
  const std::string e = error_of(data, {.allow_partial = true});
  EXPECT_NE(e.find(":2: expected 7 fields, got 3"), std::string::npos) << e;
}

TEST(Esc50Index, InconsistentCategoryIsReported) {
  FakeDataset data(std::string(kHeader) + "1-1-A-0.wav,1,0,dog,True,1,A\n1-2-A-0.wav,1,0,cat,True,1,A\n",
                   {"1-1-A-0.wav", "1-2-A-0.wav"});
  const std::string e = error_of(data, {.allow_partial = true});
  EXPECT_NE(e.find(":3: field 'category'"), std::string::npos) << e;
}

TEST(Esc50Index, MissingAudioIsListed) {
  FakeDataset data(std::string(kHeader) + "1-1-A-0.wav,1,0,dog,True,1,A\n1-2-A-0.wav,1,0,dog,True,1,A\n",
                   {"1-1-A-0.wav"});
  const std::string e = error_of(data);
  EXPECT_NE(e.find("1 clip(s)"), std::string::npos) << e;
  EXPECT_NE(e.find("1-2-A-0.wav"), std::string::npos) << e;
}

// Found by fuzz_esc50_csv: a file name too long for the file system to look up threw
// std::filesystem::filesystem_error out of the reader.
TEST(Esc50Index, AFileNameTooLongToLookUpIsAMissingClip) {
  const std::string long_name = std::string(300, 'a') + "-1-A-0.wav";
  FakeDataset data(std::string(kHeader) + "1-1-A-0.wav,1,0,dog,True,1,A\n" + long_name + ",1,0,dog,True,1,A\n",
                   {"1-1-A-0.wav"});
  const std::string e = error_of(data);
  EXPECT_NE(e.find("1 clip(s)"), std::string::npos) << e;
  EXPECT_NE(e.find(long_name), std::string::npos) << e;
  EXPECT_EQ(read_esc50_index(data.root(), {.allow_partial = true}).clips.size(), 1u);
}

TEST(Esc50Index, MalformedQuotingIsReported) {
  FakeDataset data(std::string(kHeader) + "\"1-1-A-0.wav,1,0,dog,True,1,A\n", {"1-1-A-0.wav"});
  const std::string e = error_of(data, {.allow_partial = true});
  EXPECT_NE(e.find("malformed CSV"), std::string::npos) << e;
}

}  // namespace
}  // namespace escd

// Checkpoint metadata the fuzzers (fuzz/) found or that fuzzing's review turned up: each must be a
// CheckpointError naming the file and the field, before any model memory is allocated.
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>

#include "checkpoint_errors.h"
#include "models/common/checkpoint.h"
#include "test_support.h"

namespace escd {
namespace {

// The metadata of a valid tiny mamba checkpoint (fuzz/corpus/fuzz_checkpoint_meta/mamba.json).
nlohmann::json valid_meta() {
  std::ifstream in(std::string(ESCD_SOURCE_DIR) + "/fuzz/corpus/fuzz_checkpoint_meta/mamba.json");
  return nlohmann::json::parse(std::string(std::istreambuf_iterator<char>(in), {}));
}

void expect_checkpoint_error(const std::string& meta_text, const std::string& fragment) {
  try {
    checkpoint_from_meta(meta_text, "x.ckpt");
    ADD_FAILURE() << "accepted: " << meta_text.substr(0, 200);
  } catch (const CheckpointError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("x.ckpt: ", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

TEST(FuzzRegressions, TheValidSeedLoads) {
  const Checkpoint ckpt = checkpoint_from_meta(valid_meta().dump(), "x.ckpt");
  EXPECT_EQ(ckpt.model->n_mels(), 4);
  EXPECT_EQ(ckpt.class_names.size(), 3u);
}

// fuzz_checkpoint_meta: metadata that is valid JSON but not an object ("{" as a JSON string) made
// nlohmann's value() throw a type_error past every handler.
TEST(FuzzRegressions, MetadataThatIsNotAnObjectIsACheckpointError) {
  std::ifstream in(test::fixture("fuzz/checkpoint-meta-not-an-object.json"));
  expect_checkpoint_error(std::string(std::istreambuf_iterator<char>(in), {}), "not a JSON object");
  expect_checkpoint_error("[1, 2]", "not a JSON object");
}

TEST(FuzzRegressions, FieldsOfTheWrongTypeAreCheckpointErrors) {
  auto meta = valid_meta();
  meta["format"] = 7;
  expect_checkpoint_error(meta.dump(), "'format'");
  meta = valid_meta();
  meta["version"] = "1";
  expect_checkpoint_error(meta.dump(), "version \"1\"");
}

// Conversions nlohmann would do silently or with undefined behaviour (1e300 to int) are refused.
TEST(FuzzRegressions, FrontEndNumbersAreTypeAndRangeChecked) {
  for (const auto& [key, value] : std::vector<std::pair<std::string, nlohmann::json>>{
           {"sample_rate", 1e300}, {"n_fft", -4}, {"hop", 5000000000LL}, {"f_max", 1e30}, {"log_offset", 0.0}}) {
    auto meta = valid_meta();
    meta["front_end"][key] = value;
    expect_checkpoint_error(meta.dump(), "'" + key + "'");
  }
}

TEST(FuzzRegressions, InconsistentShapesAreCheckpointErrors) {
  auto meta = valid_meta();
  meta["n_mels"] = 8;
  expect_checkpoint_error(meta.dump(), "the model takes 8 mel bands, its front end makes 4");
  meta = valid_meta();
  meta["n_classes"] = 4;
  expect_checkpoint_error(meta.dump(), "3 class names for 4 classes");
}

// Sizes that would allocate gigabytes (or overflow the size arithmetic) are refused up front.
TEST(FuzzRegressions, AbsurdModelSizesAreRefusedBeforeAllocating) {
  auto meta = valid_meta();
  meta["hyperparameters"]["d_model"] = 1000000;
  expect_checkpoint_error(meta.dump(), "at most 65536");
  meta["hyperparameters"]["d_model"] = 8192;
  meta["hyperparameters"]["expand"] = 16;
  expect_checkpoint_error(meta.dump(), "M parameters; at most 100 M are accepted");
  meta = valid_meta();
  meta["n_classes"] = 1LL << 40;
  expect_checkpoint_error(meta.dump(), "'n_classes'");
}

// fuzz_checkpoint: one 4-byte string length in data.pkl changed to ~4 GB. libtorch's unpickler
// reserved and filled it (2.6 GB resident) before failing; the pickle is now vetted first. The
// peak-RSS check is what makes this test fail without the vetting (measured: +2.6 GB).
TEST(FuzzRegressions, APickleStringLongerThanItsRecordIsRefusedBeforeLibtorchReadsIt) {
  const std::string path = test::fixture("fuzz/checkpoint-unpickler-4gb-string.ckpt");
  const long before_kb = test::peak_rss_kb();
  const std::string what = test::error_loading(path);
  EXPECT_NE(what.find(path), std::string::npos) << what;
  EXPECT_NE(what.find("data.pkl"), std::string::npos) << what;
  EXPECT_NE(what.find("bytes, the record has"), std::string::npos) << what;
  EXPECT_LT(test::peak_rss_kb() - before_kb, 256 * 1024) << "the load grew the peak RSS by more than 256 MiB";
}

// fuzz_checkpoint (after the pickle fix): a mutated class definition in code/__torch__.py made
// libtorch's TorchScript importer dereference a wild pointer (SEGV in parseClassConstant). The
// source is now checked line by line against what our archives contain.
TEST(FuzzRegressions, AMutatedTorchScriptClassDefinitionIsRefusedBeforeLibtorchCompilesIt) {
  const std::string path = test::fixture("fuzz/checkpoint-torchscript-crash.ckpt");
  const std::string what = test::error_loading(path);
  EXPECT_NE(what.find(path), std::string::npos) << what;
  EXPECT_NE(what.find("code/__torch__.py:"), std::string::npos) << what;
}

// fuzz_checkpoint in CI: a zip entry claiming 2 GB (compressed method, 7 kB file); libtorch's
// getRecord allocated the claim before extracting. Entries are now checked first.
TEST(FuzzRegressions, AZipEntryClaimingMoreThanTheFileIsRefusedBeforeLibtorchAllocatesIt) {
  const std::string path = test::fixture("fuzz/checkpoint-zip-entry-2gb.ckpt");
  const long before_kb = test::peak_rss_kb();
  const std::string what = test::error_loading(path);
  EXPECT_NE(what.find(path + ": zip entry "), std::string::npos) << what;
  EXPECT_LT(test::peak_rss_kb() - before_kb, 256 * 1024) << "the load grew the peak RSS by more than 256 MiB";
}

// fuzz_checkpoint in CI (ASan, bad-free inside torch::jit::import_ir_module): data.pkl cut down to
// PROTO, GLOBAL, BINPUT, BUILD, STOP. BUILD takes two stack items and had one; libtorch's unpickler
// does not check. The vetting now counts the stack as the unpickler would.
TEST(FuzzRegressions, APickleOpcodeTakingMoreStackItemsThanThereAreIsRefused) {
  const std::string path = test::fixture("fuzz/checkpoint-pickle-build-on-empty-stack.ckpt");
  const std::string what = test::error_loading(path);
  EXPECT_NE(what.find(path), std::string::npos) << what;
  EXPECT_NE(what.find("data.pkl"), std::string::npos) << what;
  EXPECT_NE(what.find("takes 2 stack item(s), 1 above the last MARK"), std::string::npos) << what;
}

}  // namespace
}  // namespace escd

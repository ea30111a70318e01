// Checkpoint metadata the fuzzers (fuzz/) found or that fuzzing's review turned up: each must be a
// CheckpointError naming the file and the field, before any model memory is allocated.
#include <gtest/gtest.h>

#include <fstream>
#include <functional>
#include <iterator>

#include "checkpoint_errors.h"
#include "models/common/checkpoint.h"
#include "models/common/json_fields.h"
#include "models/liquid_s4/liquid_s4_options.h"
#include "models/mamba/mamba.h"
#include "models/mamba/mamba_config.h"
#include "models/vjepa2/vjepa2_options.h"
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
  expect_checkpoint_error(meta.dump(), "'d_model': expected an integer 1..65536, got 1000000");
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


// fuzz_checkpoint in CI (2026-11-27; ASan: SEGV reading address 0 in copy_, reproduced locally from
// seed 1032): one storage reference's element count in data.pkl changed from 4 to 0. libtorch's
// unpickler makes a storage of the count the pickle claims, without memory when it is 0, and the
// load copied from it. Storage references are now checked against their records.
TEST(FuzzRegressions, AStorageClaimingOtherThanItsRecordIsRefusedBeforeLibtorchReadsIt) {
  for (const auto& [fixture, count] : std::vector<std::pair<std::string, std::string>>{
           {"fuzz/checkpoint-storage-count-zero.ckpt", "claims 0 element(s)"},
           {"fuzz/checkpoint-storage-count-larger-than-record.ckpt", "claims 200 element(s)"}}) {
    const std::string path = test::fixture(fixture);
    const std::string what = test::error_loading(path);
    EXPECT_NE(what.find(path), std::string::npos) << what;
    EXPECT_NE(what.find("data.pkl"), std::string::npos) << what;
    EXPECT_NE(what.find(count + " of 4 bytes, record data/12 holds 16 bytes"), std::string::npos) << what;
  }
}

// Found reviewing that fix: the unpickler also sets a tensor's storage offset and strides as the
// pickle says, unchecked; a tensor that does not lie inside its storage is refused before copying.
TEST(FuzzRegressions, ATensorOutsideItsStorageIsRefusedBeforeItIsCopied) {
  for (const std::string fixture : {"fuzz/checkpoint-tensor-offset-outside-storage.ckpt",
                                    "fuzz/checkpoint-tensor-strides-not-contiguous.ckpt"}) {
    const std::string path = test::fixture(fixture);
    const std::string what = test::error_loading(path);
    EXPECT_NE(what.find(path + ": tensor 'embedding.weight' lies outside its storage"), std::string::npos) << what;
  }
}

void expect_invalid(const std::function<void()>& parse, const std::string& fragment) {
  try {
    parse();
    ADD_FAILURE() << "accepted; expected an error containing: " << fragment;
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

// Checkpoints and recipes reach the models through merge_hyperparameters, which checks each value's
// type against the defaults. The models' own readers check again, on their own: nlohmann's
// get<int64_t>() of 1e300 is undefined behaviour and of 2.5 a truncation, and V-JEPA2 had no bound
// on the size its numbers multiply to.
TEST(FuzzRegressions, MambaHyperparametersAreTypeCheckedByTheModelItself) {
  for (const char* key : {"d_model", "n_layers", "d_state", "d_conv", "expand", "dt_rank", "d_intermediate",
                          "mel_conv_channels", "mel_conv_time_kernel"}) {
    for (const nlohmann::json& value : {nlohmann::json(1e300), nlohmann::json(-1e300), nlohmann::json(2.5),
                                        nlohmann::json("16"), nlohmann::json(true), nlohmann::json(nullptr)}) {
      auto h = mamba_defaults();
      h[key] = value;
      expect_invalid([&] { MambaConfig::from_json(h); }, std::string("mamba hyperparameters: '") + key + "': expected an integer");
    }
  }
  for (const char* key : {"dt_min", "dt_max", "dt_init_floor", "norm_eps"}) {
    auto h = mamba_defaults();
    h[key] = "0.1";
    expect_invalid([&] { MambaConfig::from_json(h); }, std::string("mamba hyperparameters: '") + key + "': expected a number");
  }
  EXPECT_NO_THROW(MambaConfig::from_json(mamba_defaults()));
}

TEST(FuzzRegressions, Vjepa2HyperparametersAreTypeRangeAndSizeChecked) {
  const int64_t n_mels = 64;
  for (const char* key : {"embed_dim", "depth", "heads", "mlp_ratio", "tubelet_frames", "patch_mels", "max_tubelets",
                          "pool_heads", "predictor_dim", "predictor_depth", "predictor_heads", "mel_conv_channels",
                          "mel_conv_time_kernel"}) {
    for (const nlohmann::json& value : {nlohmann::json(1e300), nlohmann::json(2.5), nlohmann::json("8")}) {
      auto h = vjepa2::vjepa2_defaults();
      h[key] = value;
      expect_invalid([&] { vjepa2::Options::from_json(h, n_mels); },
                     std::string("vjepa2 hyperparameters: '") + key + "': expected an integer");
    }
  }
  auto h = vjepa2::vjepa2_defaults();
  h["drop_path"] = "0.1";
  expect_invalid([&] { vjepa2::Options::from_json(h, n_mels); }, "vjepa2 hyperparameters: 'drop_path': expected a number");
  // Each size within bounds, together about 13 G parameters: refused before anything is allocated.
  h = vjepa2::vjepa2_defaults();
  h["embed_dim"] = 8192;
  h["depth"] = 16;
  h["mlp_ratio"] = 1000;
  expect_invalid([&] { vjepa2::Options::from_json(h, n_mels); }, "M parameters; at most 100 M are accepted");
  EXPECT_NO_THROW(vjepa2::Options::from_json(vjepa2::vjepa2_defaults(), n_mels));
}

TEST(FuzzRegressions, LiquidS4HyperparametersAreTypeChecked) {
  auto h = liquid_s4::Options{}.to_json();
  h["d_state"] = 1e300;
  expect_invalid([&] { liquid_s4::Options::from_json(h); }, "liquid_s4: hyperparameter 'd_state': expected an integer 2..2048");
  h = liquid_s4::Options{}.to_json();
  h["liquid_kernel"] = 3;
  expect_invalid([&] { liquid_s4::Options::from_json(h); }, "liquid_s4: hyperparameter 'liquid_kernel': expected a string");
  h = liquid_s4::Options{}.to_json();
  h["d_state"] = 63;
  expect_invalid([&] { liquid_s4::Options::from_json(h); }, "liquid_s4: hyperparameter 'd_state' should be even");
}

TEST(JsonFields, IntegersAreCheckedForTypeAndRangeBeforeConversion) {
  const auto j = nlohmann::json::parse(R"({"a": 3, "big": 18446744073709551615, "neg": -2, "f": 3.0, "s": "3"})");
  EXPECT_EQ(integer_field(j, "a", 0, 10), 3);
  EXPECT_EQ(integer_field(j, "neg", -5, 0), -2);
  // 2^64 - 1 is stored unsigned: it must not wrap to -1 and pass a range that admits -1.
  EXPECT_THROW(integer_field(j, "big", -5, 10), std::invalid_argument);
  EXPECT_THROW(integer_field(j, "a", 4, 10), std::invalid_argument);
  EXPECT_THROW(integer_field(j, "f", 0, 10), std::invalid_argument);
  EXPECT_THROW(integer_field(j, "s", 0, 10), std::invalid_argument);
  EXPECT_THROW(integer_field(j, "missing", 0, 10), std::invalid_argument);
  EXPECT_THROW(integer_field(nlohmann::json::array(), "a", 0, 10), std::invalid_argument);
  EXPECT_DOUBLE_EQ(number_field(j, "f", 0.0, 10.0), 3.0);
  EXPECT_DOUBLE_EQ(number_field(j, "a"), 3.0);
  EXPECT_THROW(number_field(j, "s"), std::invalid_argument);
  EXPECT_THROW(number_field(j, "f", 4.0, 10.0), std::invalid_argument);
  EXPECT_EQ(string_field(j, "s"), "3");
  EXPECT_THROW(string_field(j, "a"), std::invalid_argument);
  try {
    integer_field(j, "f", 0, 10);
  } catch (const std::invalid_argument& e) {
    EXPECT_STREQ(e.what(), "'f': expected an integer 0..10, got 3.0");
  }
}

}  // namespace
}  // namespace escd

// Your own sounds, as a user would go about it (README "Your own sounds"): a folder per class made by
// the test (tones, chirps, noise bursts), `esc-train fit --data DIR` learns it, `esc-train eval` on it
// agrees, a second label set is learnt by transfer with the backbone frozen (kept bit for bit), and
// escd serves the custom labels end to end.
#include <gtest/gtest.h>
#include <sndfile.h>

#include <ATen/Functions.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <random>

#include "escd_process.h"
#include "model_fixtures.h"
#include "models/common/checkpoint.h"
#include "test_support.h"

namespace escd {
namespace {

using namespace std::chrono_literals;
namespace fs = std::filesystem;

constexpr int kRate = 16000;

// Three seconds of one kind of sound, varied by `rng`: what a user's recordings of a class are.
std::vector<float> sound(const std::string& kind, std::mt19937& rng) {
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::normal_distribution<float> noise(0.0f, 1.0f);
  const size_t n = 3 * kRate;
  std::vector<float> x(n);
  const double gain = 0.1 + 0.3 * u(rng);
  if (kind == "tone") {  // a steady whistle
    const double hz = 300 + 600 * u(rng);
    for (size_t i = 0; i < n; ++i) x[i] = static_cast<float>(gain * std::sin(2 * M_PI * hz * i / kRate));
  } else if (kind == "chirp") {  // a rising sweep, twice a second
    const double f0 = 1000 + 500 * u(rng), f1 = 3000 + 1000 * u(rng);
    for (size_t i = 0; i < n; ++i) {
      const double t = std::fmod(static_cast<double>(i) / kRate, 0.5);
      x[i] = static_cast<float>(gain * std::sin(2 * M_PI * (f0 * t + (f1 - f0) * t * t)));
    }
  } else if (kind == "noise_burst") {  // 0.2 s of hiss every half second
    for (size_t i = 0; i < n; ++i) x[i] = std::fmod(static_cast<double>(i) / kRate, 0.5) < 0.2 ? gain * 0.5f * noise(rng) : 0.0f;
  } else if (kind == "hum") {  // mains hum with harmonics
    const double hz = 50 + 20 * u(rng);
    for (size_t i = 0; i < n; ++i) {
      x[i] = static_cast<float>(gain * (std::sin(2 * M_PI * hz * i / kRate) + 0.5 * std::sin(6 * M_PI * hz * i / kRate)));
    }
  } else {  // "click": a sharp tick ten times a second
    const size_t period = kRate / 10;
    for (size_t i = 0; i < n; ++i) x[i] = (i % period) < 16 ? static_cast<float>(gain) * (1.0f - (i % period) / 16.0f) : 0.0f;
  }
  for (float& v : x) v += 0.002f * noise(rng);  // room tone
  return x;
}

// DIR/<kind>/<kind>_<i>.wav, `per_class` files each.
void make_dataset(const std::string& dir, const std::vector<std::string>& kinds, int per_class, unsigned seed) {
  std::mt19937 rng(seed);
  for (const std::string& kind : kinds) {
    fs::create_directories(dir + "/" + kind);
    for (int i = 0; i < per_class; ++i) {
      test::write_audio(dir + "/" + kind + "/" + kind + "_" + std::to_string(i) + ".wav", sound(kind, rng), kRate, 1,
                        SF_FORMAT_WAV | SF_FORMAT_PCM_16);
    }
  }
}

// A quick recipe for a tiny Mamba: the model table of the tests' tiny models, a few epochs, no mixing.
void write_recipe(const std::string& path, int epochs) {
  std::ofstream out(path);
  out << "[model]\n";
  const nlohmann::json model = test::tiny_hyperparameters("mamba");
  for (const auto& [key, value] : model.items()) out << key << " = " << value.dump() << "\n";
  out << "[train]\nepochs = " << epochs
      << "\nbatch_size = 8\nlr = 3e-3\nwarmup_epochs = 0\nlabel_smoothing = 0.0\nema_decay = 0.9\nthreads = 1\n"
         "mix_prob = 0.0\ntime_mask_prob = 0.0\nfreq_mask_prob = 0.0\nfreq_shift_prob = 0.0\n";
}

// esc-train with `args`; its exit code, its output in `log`.
int esc_train(const std::string& args, const std::string& log) {
  const int status = std::system((std::string(ESC_TRAIN_BIN) + " " + args + " > " + log + " 2>&1").c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

nlohmann::json read_json(const std::string& path) { return nlohmann::json::parse(test::read_text(path)); }

// One walk-through, as the README's: the training run is the most expensive step, and each test of
// a suite runs in its own process under ctest, so the steps share one test.
TEST(CustomSounds, TrainEvaluateTransferWithAFrozenBackboneAndServeTheLabels) {
  test::TempDir dir;
  const auto path = [&](const std::string& name) { return dir.path(name); };
  make_dataset(path("sounds"), {"tone", "chirp", "noise_burst"}, 20, 1);
  write_recipe(path("recipe.toml"), 25);

  // 1. A folder per class trains to high accuracy. --refit keeps the last epoch: the validation fold
  // of so easy a set is perfect from the first epoch on, which would keep that one.
  ASSERT_EQ(esc_train("fit --model mamba --config " + path("recipe.toml") + " --data " + path("sounds") +
                          " --split-seed 3 --refit --out " + path("run"),
                      path("fit.log")),
            0)
      << test::read_text(path("fit.log"));
  const Checkpoint trained = load_checkpoint(path("run/best.ckpt"));
  EXPECT_EQ(trained.class_names, (std::vector<std::string>{"chirp", "noise_burst", "tone"}));
  EXPECT_EQ(trained.training["split_seed"], 3);
  const nlohmann::json summary = read_json(path("run/summary.json"));
  EXPECT_GE(summary["test_accuracy"].get<double>(), 0.9) << summary.dump(1) << test::read_text(path("fit.log"));

  // 2. eval on the same data (the same folds) agrees with fit's test evaluation; other classes are refused.
  ASSERT_EQ(esc_train("eval --checkpoint " + path("run/best.ckpt") + " --data " + path("sounds") +
                          " --fold 5 --per-clip --json " + path("eval.json"),
                      path("eval.log")),
            0)
      << test::read_text(path("eval.log"));
  const nlohmann::json evaluated = read_json(path("eval.json"));
  EXPECT_DOUBLE_EQ(evaluated["accuracy"].get<double>(), summary["test_accuracy"].get<double>());
  // --per-clip: each clip's file and its class log-probabilities, whose top class is the prediction.
  ASSERT_EQ(evaluated["files"].size(), evaluated["clips"].get<size_t>()) << evaluated.dump().substr(0, 400);
  ASSERT_EQ(evaluated["log_probabilities"].size(), evaluated["files"].size());
  for (size_t i = 0; i < evaluated["files"].size(); ++i) {
    const std::vector<double> row = evaluated["log_probabilities"][i].get<std::vector<double>>();
    ASSERT_EQ(row.size(), 3u);
    double total = 0;
    for (double v : row) total += std::exp(v);
    EXPECT_NEAR(total, 1.0, 1e-3) << evaluated["files"][i];
    EXPECT_EQ(std::max_element(row.begin(), row.end()) - row.begin(), evaluated["predictions"][i].get<int64_t>())
        << evaluated["files"][i];
  }
  EXPECT_NE(evaluated["files"][0].get<std::string>().find(".wav"), std::string::npos) << evaluated["files"][0];
  EXPECT_NE(test::read_text(path("eval.log")).find("folds dealt by split seed 3"), std::string::npos)
      << "eval did not take the checkpoint's split seed:\n" << test::read_text(path("eval.log"));
  make_dataset(path("new"), {"hum", "click"}, 10, 2);
  EXPECT_EQ(esc_train("eval --checkpoint " + path("run/best.ckpt") + " --data " + path("new"), path("refused.log")), 2);
  EXPECT_NE(test::read_text(path("refused.log")).find("different classes: 2 classes (click, hum) against 3 classes"),
            std::string::npos)
      << test::read_text(path("refused.log"));

  // 3. Transfer to the new classes with the backbone frozen (no --model: the checkpoint's).
  ASSERT_EQ(esc_train("fit --init " + path("run/best.ckpt") + " --freeze-backbone --config " + path("recipe.toml") +
                          " --epochs 3 --data " + path("new") + " --out " + path("transfer"),
                      path("transfer.log")),
            0)
      << test::read_text(path("transfer.log"));
  const Checkpoint transferred = load_checkpoint(path("transfer/best.ckpt"));
  EXPECT_EQ(transferred.class_names, (std::vector<std::string>{"click", "hum"}));
  EXPECT_EQ(transferred.training["train_config"]["freeze_backbone"], true);
  EXPECT_EQ(transferred.training["init_checkpoint"], path("run/best.ckpt"));
  const auto before = trained.model->named_parameters();
  size_t kept = 0;
  for (const auto& p : transferred.model->named_parameters()) {
    if (p.key().rfind("head.", 0) == 0) {
      EXPECT_EQ(p.value().size(0), 2) << p.key();
      continue;
    }
    EXPECT_TRUE(at::equal(p.value(), before[p.key()])) << p.key() << " changed under --freeze-backbone";
    ++kept;
  }
  EXPECT_GT(kept, 10u);
  EXPECT_TRUE(at::equal(transferred.model->input_mean(), trained.model->input_mean()));
  EXPECT_TRUE(at::allclose(transferred.model->input_inv_std(), trained.model->input_inv_std()));
  // Freezing without a backbone to keep is refused before anything is written.
  EXPECT_EQ(esc_train("fit --model mamba --set freeze_backbone=true --data " + path("new") + " --out " + path("no-init"),
                      path("no-init.log")),
            1);
  EXPECT_NE(test::read_text(path("no-init.log")).find("freeze_backbone needs a trained backbone"), std::string::npos)
      << test::read_text(path("no-init.log"));
  EXPECT_FALSE(fs::exists(path("no-init")));
  // Nor can --set change the architecture of the backbone --init brings.
  EXPECT_EQ(esc_train("fit --init " + path("run/best.ckpt") + " --set model.d_model=8 --data " + path("new") +
                          " --out " + path("wider"),
                      path("wider.log")),
            1);
  EXPECT_NE(test::read_text(path("wider.log")).find("--set model.d_model: with --init the model is the checkpoint's"),
            std::string::npos)
      << test::read_text(path("wider.log"));
  EXPECT_FALSE(fs::exists(path("wider")));

  // 4. escd serves the custom labels: in its health, and as the top-1 of chirps.
  const std::string endpoint = "ipc://" + path("pub.sock");
  test::Subscriber sub(endpoint);
  test::Escd escd({"--model", "mamba", "--checkpoint", path("run/best.ckpt"), "--config", "/dev/null", "--input", "-",
                   "--format", "s16le", "--rate", "16000", "--pub", endpoint},
                  path("escd.log"));
  const auto health = sub.until(30s, [](const test::Message& m) { return m.topic == "esc.health"; });
  ASSERT_TRUE(health) << test::read_text(path("escd.log"));
  EXPECT_EQ(health->body["models"]["mamba"]["labels"], nlohmann::json({"chirp", "noise_burst", "tone"}));
  std::mt19937 rng(77);
  std::vector<float> clip = sound("chirp", rng), more = sound("chirp", rng);
  clip.insert(clip.end(), more.begin(), more.end());
  escd.write_samples(clip);
  const auto scores = sub.until(30s, [](const test::Message& m) {
    return m.topic == "esc.scores.mamba" && !m.body["warming_up"].get<bool>();
  });
  ASSERT_TRUE(scores) << test::read_text(path("escd.log"));
  EXPECT_EQ(scores->body["top"][0]["label"], "chirp") << scores->body.dump();
  escd.close_stdin();
  EXPECT_EQ(escd.wait(20s), 0) << test::read_text(path("escd.log"));
}

}  // namespace
}  // namespace escd

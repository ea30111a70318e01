// esc-train fit as a real process, killed with SIGKILL at random moments (seeded) and resumed with
// --resume until it finishes: after every kill each checkpoint in the run directory loads and
// metrics.jsonl is whole, no completed epoch is ever lost, and the run ends with exactly the weights
// and per-epoch losses of an uninterrupted run. A tiny Mamba on the 80 clips of two ESC-50 classes
// keeps one run to a few seconds. Skips without ESC-50. Also: cross-validation split over processes.
#include <gtest/gtest.h>

#include <ATen/Functions.h>
#include <signal.h>

#include <chrono>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>
#include <sstream>

#include "child_process.h"
#include "models/common/checkpoint.h"
#include "test_support.h"
#include "tiny_training.h"

namespace escd {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kEpochs = 6;

std::vector<nlohmann::json> read_metrics(const std::string& path) {
  std::vector<nlohmann::json> lines;
  std::ifstream in(path);
  for (std::string line; std::getline(in, line);) lines.push_back(nlohmann::json::parse(line));
  return lines;
}

std::vector<std::string> temporaries(const std::string& dir) {
  std::vector<std::string> found;
  for (const auto& e : fs::directory_iterator(dir)) {
    if (e.path().filename().string().find(".tmp.") != std::string::npos) found.push_back(e.path().filename());
  }
  return found;
}

void expect_same_weights(const std::string& a_path, const std::string& b_path) {
  const Checkpoint a = load_checkpoint(a_path), b = load_checkpoint(b_path);
  auto pa = a.model->named_parameters(), pb = b.model->named_parameters();
  ASSERT_EQ(pa.size(), pb.size());
  for (const auto& p : pa) EXPECT_TRUE(at::equal(p.value(), pb[p.key()])) << a_path << " vs " << b_path << ": " << p.key();
}

class TrainerKill : public ::testing::Test {
 protected:
  void SetUp() override {
    SKIP_WITHOUT_ESC50();
    test::make_two_class_dataset(dir_.path("esc50"));
    test::write_tiny_mamba_recipe(dir_.path("tiny.toml"), kEpochs);
  }
  std::unique_ptr<test::ChildProcess> fit(const std::string& run, bool resume,
                                          const std::vector<std::string>& extra = {}) {
    std::vector<std::string> args{"fit", "--model", "mamba", "--data", dir_.path("esc50"), "--partial-data",
                                  "--config", dir_.path("tiny.toml"), "--out", run};
    if (resume) args.push_back("--resume");
    args.insert(args.end(), extra.begin(), extra.end());
    return std::make_unique<test::ChildProcess>(ESC_TRAIN_BIN, args, run + ".log");
  }
  std::string log(const std::string& run) const {
    std::ifstream in(run + ".log");
    return std::string(std::istreambuf_iterator<char>(in), {});
  }
  test::TempDir dir_;
};

TEST_F(TrainerKill, KilledAtRandomMomentsAndResumedEndsLikeAnUninterruptedRun) {
  const std::string straight = dir_.path("straight");
  const auto t0 = Clock::now();
  ASSERT_EQ(fit(straight, false)->wait(120s), 0) << log(straight);
  const double run_s = std::chrono::duration<double>(Clock::now() - t0).count();
  const auto reference = read_metrics(straight + "/metrics.jsonl");
  ASSERT_EQ(reference.size(), static_cast<size_t>(kEpochs));
  std::printf("uninterrupted run: %.2f s\n", run_s);

  for (unsigned seed : {1u, 2u, 3u}) {
    SCOPED_TRACE("kill-time seed " + std::to_string(seed));
    std::mt19937 rng(seed);
    // Anywhere in a whole run: start-up, epochs, validation, checkpoint writes, the final evaluation.
    std::uniform_real_distribution<double> kill_after(0.05 * run_s, 1.0 * run_s);
    const std::string run = dir_.path("killed" + std::to_string(seed));
    int kills = 0, last_epoch_seen = 0;
    std::string kill_times;
    for (int attempt = 0;; ++attempt) {
      auto trainer = fit(run, attempt > 0);
      // At most 4 kills per seed, then the run is left to finish.
      const auto delay = std::chrono::duration<double>(kill_after(rng));
      const int code = attempt < 4 ? trainer->wait(std::chrono::duration_cast<std::chrono::milliseconds>(delay)) : -1;
      if (code == 0) break;
      ASSERT_EQ(code, -1) << "esc-train failed on its own:\n" << log(run);
      if (attempt >= 4) {
        ASSERT_EQ(trainer->wait(120s), 0) << log(run);
        break;
      }
      trainer->signal(SIGKILL);
      const int killed = trainer->wait(10s);
      // The kill time can fall in the instant the run exits on its own (seen in CI): then the run
      // is complete, and it is checked below like any other.
      if (killed == 0) break;
      ASSERT_EQ(killed, 128 + SIGKILL);
      ++kills;
      kill_times += " " + std::to_string(delay.count()).substr(0, 4);
      if (!fs::exists(run)) continue;  // killed before it made the directory
      // Whatever is there is whole: checkpoints load, every metrics line parses, epochs in order.
      for (const char* name : {"best.ckpt", "last.ckpt"}) {
        if (fs::exists(run + "/" + name)) {
          EXPECT_NO_THROW(load_checkpoint(run + "/" + name)) << name;
        }
      }
      const auto metrics = read_metrics(run + "/metrics.jsonl");
      for (size_t i = 0; i < metrics.size(); ++i) EXPECT_EQ(metrics[i]["epoch"].get<size_t>(), i);
      // No completed epoch lost: last.ckpt never goes back to an earlier epoch.
      if (fs::exists(run + "/last.ckpt")) {
        const int epoch = load_checkpoint(run + "/last.ckpt").training["epoch"].get<int>();
        EXPECT_GE(epoch, last_epoch_seen);
        last_epoch_seen = epoch;
      }
    }
    std::printf("seed %u: %d kill(s) at%s s\n", seed, kills, kill_times.c_str());
    expect_same_weights(straight + "/last.ckpt", run + "/last.ckpt");
    expect_same_weights(straight + "/best.ckpt", run + "/best.ckpt");
    const auto metrics = read_metrics(run + "/metrics.jsonl");
    ASSERT_EQ(metrics.size(), reference.size());
    for (size_t i = 0; i < metrics.size(); ++i) {
      EXPECT_EQ(metrics[i]["train_loss"], reference[i]["train_loss"]) << "epoch " << i;
      EXPECT_EQ(metrics[i]["val_accuracy"], reference[i]["val_accuracy"]) << "epoch " << i;
    }
    EXPECT_TRUE(fs::exists(run + "/final.json"));
    EXPECT_TRUE(temporaries(run).empty()) << "left behind: " << temporaries(run)[0];
  }
}

// --cv split over two processes (--cv-folds), then collected by --cv --resume, gives the cv.json of one
// --cv run: the same folds, each trained exactly as in the single run. Same tiny model and data.
class CrossValidation : public TrainerKill {};

TEST_F(CrossValidation, SplitOverProcessesEqualsOneRun) {
  const std::vector<std::string> cv{"--cv", "--epochs", "2"};
  const std::string whole = dir_.path("cv-whole"), split = dir_.path("cv-split");
  ASSERT_EQ(fit(whole, false, cv)->wait(300s), 0) << log(whole);
  const auto expected = nlohmann::json::parse(std::ifstream(whole + "/cv.json"));
  ASSERT_EQ(expected["folds"].size(), 5u);
  EXPECT_FALSE(expected.contains("mean_event_accuracy")) << "no background output, no 50-class accuracy apart";
  EXPECT_FALSE(nlohmann::json::parse(std::ifstream(whole + "/fold1/summary.json")).contains("test_event_accuracy"));

  auto part = cv;
  part.insert(part.end(), {"--cv-folds", "4,2"});
  ASSERT_EQ(fit(split, false, part)->wait(300s), 0) << log(split);
  EXPECT_TRUE(fs::exists(split + "/fold2/final.json") && fs::exists(split + "/fold4/final.json"));
  EXPECT_FALSE(fs::exists(split + "/fold1")) << "a fold that was not asked for was trained";
  EXPECT_FALSE(fs::exists(split + "/cv.json")) << "cv.json written from 2 of 5 folds";
  part.back() = "1,3,5";
  ASSERT_EQ(fit(split, false, part)->wait(300s), 0) << log(split);
  EXPECT_FALSE(fs::exists(split + "/cv.json"));
  ASSERT_EQ(fit(split, true, cv)->wait(300s), 0) << log(split);  // collects the five finished folds
  const auto collected = nlohmann::json::parse(std::ifstream(split + "/cv.json"));
  EXPECT_EQ(collected, expected);
  // The summary itself: the mean and the spread of the five test accuracies, and each fold's validation fold.
  double mean = 0.0, squares = 0.0;
  for (const auto& fold : collected["folds"]) mean += fold["accuracy"].get<double>() / 5;
  for (const auto& fold : collected["folds"]) squares += std::pow(fold["accuracy"].get<double>() - mean, 2);
  EXPECT_NEAR(collected["mean_accuracy"].get<double>(), mean, 1e-12);
  EXPECT_NEAR(collected["std_accuracy"].get<double>(), std::sqrt(squares / 4), 1e-12);
  for (int k = 1; k <= 5; ++k) {
    EXPECT_EQ(collected["folds"][k - 1]["test_fold"], k);
    EXPECT_EQ(collected["folds"][k - 1]["val_fold"], k % 5 + 1);
  }
  for (int k = 1; k <= 5; ++k) {
    const auto summary = nlohmann::json::parse(std::ifstream(split + "/fold" + std::to_string(k) + "/summary.json"));
    EXPECT_EQ(summary["test_folds"], nlohmann::json::array({k}));
    EXPECT_EQ(summary["val_folds"], nlohmann::json::array({k % 5 + 1}));
  }
}

// The literature's protocol, --cv --refit: each fold's run trains on the other four folds with the
// recipe's epochs, validates nothing, keeps its last epoch and is tested on its own fold. Split over
// two processes and collected by --cv --refit --resume, as a long cross-validation is run.
TEST_F(CrossValidation, RefitFoldsTrainOnTheOtherFourAndKeepTheLastEpoch) {
  const std::string run = dir_.path("cv-refit");
  // With a background output, so that cv.json also has the 50 classes' accuracy alone.
  const std::vector<std::string> refit{"--cv", "--refit", "--epochs", "2", "--set", "background_fraction=0.2"};
  auto part = refit;
  part.insert(part.end(), {"--cv-folds", "2,4"});
  ASSERT_EQ(fit(run, false, part)->wait(300s), 0) << log(run);
  EXPECT_NE(log(run).find("--cv --refit --resume collects them"), std::string::npos) << log(run);
  part.back() = "1,3,5";
  ASSERT_EQ(fit(run, false, part)->wait(300s), 0) << log(run);
  EXPECT_FALSE(fs::exists(run + "/cv.json"));
  ASSERT_EQ(fit(run, true, refit)->wait(300s), 0) << log(run);  // collects the five finished folds
  const auto cv = nlohmann::json::parse(std::ifstream(run + "/cv.json"));
  EXPECT_EQ(cv["refit"], true);
  ASSERT_EQ(cv["folds"].size(), 5u);
  double event_mean = 0.0;
  for (int k = 1; k <= 5; ++k) {
    const auto& fold = cv["folds"][k - 1];
    EXPECT_EQ(fold["test_fold"], k);
    EXPECT_TRUE(fold["val_fold"].is_null()) << fold.dump();
    EXPECT_TRUE(fold["val_accuracy"].is_null()) << fold.dump();
    const std::string dir = run + "/fold" + std::to_string(k);
    const auto summary = nlohmann::json::parse(std::ifstream(dir + "/summary.json"));
    nlohmann::json others = nlohmann::json::array();
    for (int f = 1; f <= 5; ++f) {
      if (f != k) others.push_back(f);
    }
    EXPECT_EQ(summary["train_folds"], others);
    EXPECT_EQ(summary["val_folds"], nlohmann::json::array());
    EXPECT_EQ(summary["test_folds"], nlohmann::json::array({k}));
    EXPECT_DOUBLE_EQ(fold["accuracy"].get<double>(), summary["test_accuracy"].get<double>());
    EXPECT_DOUBLE_EQ(fold["event_accuracy"].get<double>(), summary["test_event_accuracy"].get<double>());
    EXPECT_DOUBLE_EQ(fold["called_background"].get<double>(), summary["test_called_background"].get<double>());
    // Kept out of the 50 classes, a background call can only move a clip from wrong to right.
    EXPECT_GE(fold["event_accuracy"].get<double>(), fold["accuracy"].get<double>()) << fold.dump();
    event_mean += fold["event_accuracy"].get<double>() / 5;
    expect_same_weights(dir + "/best.ckpt", dir + "/last.ckpt");  // the last epoch is the one kept
    EXPECT_EQ(load_checkpoint(dir + "/best.ckpt").training["train_clips"], 64);  // 2 classes x 8 clips x 4 folds
  }
  EXPECT_NEAR(cv["mean_event_accuracy"].get<double>(), event_mean, 1e-12);
  double event_squares = 0.0;
  for (const auto& fold : cv["folds"]) event_squares += std::pow(fold["event_accuracy"].get<double>() - event_mean, 2);
  EXPECT_NEAR(cv["std_event_accuracy"].get<double>(), std::sqrt(event_squares / 4), 1e-12);

  // A finished fold travels as its final.json and summary.json alone (to another machine, or through
  // git between sessions): a resume there keeps it without training, and cv.json comes out the same.
  const std::string carried = dir_.path("cv-carried");
  for (int k = 1; k <= 5; ++k) {
    const std::string from = run + "/fold" + std::to_string(k), to = carried + "/fold" + std::to_string(k);
    fs::create_directories(to);
    for (const char* name : {"final.json", "summary.json"}) fs::copy_file(from + "/" + name, to + "/" + name);
  }
  ASSERT_EQ(fit(carried, true, refit)->wait(300s), 0) << log(carried);
  EXPECT_EQ(nlohmann::json::parse(std::ifstream(carried + "/cv.json")), cv);
  for (int k = 1; k <= 5; ++k) {
    EXPECT_FALSE(fs::exists(carried + "/fold" + std::to_string(k) + "/best.ckpt")) << "fold " << k << " trained again";
  }
  // A finished fold of other settings is refused by name, not taken for this recipe's nor trained over.
  const std::string summary_path = carried + "/fold3/summary.json";
  auto summary = nlohmann::json::parse(std::ifstream(summary_path));
  summary["train_config"]["epochs"] = 3;
  std::ofstream(summary_path) << summary.dump();
  fs::remove(carried + "/cv.json");
  EXPECT_NE(fit(carried, true, refit)->wait(300s), 0) << log(carried);
  EXPECT_NE(log(carried).find("fold3/summary.json: the finished run had another train_config.epochs (was 3, now 2)"), std::string::npos)
      << log(carried);
  EXPECT_FALSE(fs::exists(carried + "/cv.json"));
  EXPECT_FALSE(fs::exists(carried + "/fold3/best.ckpt"));

  // A new run (no --resume) over a finished one forgets it: stopped early and resumed, it trains on
  // instead of handing back the old run's result.
  auto fresh = refit;
  fresh.insert(fresh.end(), {"--cv-folds", "3", "--stop-after", "1"});
  ASSERT_EQ(fit(carried, false, fresh)->wait(300s), 0) << log(carried);
  EXPECT_FALSE(fs::exists(carried + "/fold3/summary.json"));
  EXPECT_FALSE(fs::exists(carried + "/fold3/final.json"));
  fresh.resize(fresh.size() - 2);  // the same fold, to the end
  ASSERT_EQ(fit(carried, true, fresh)->wait(300s), 0) << log(carried);
  EXPECT_NE(log(carried).find("resuming"), std::string::npos) << log(carried);
  EXPECT_TRUE(fs::exists(carried + "/fold3/best.ckpt") && fs::exists(carried + "/fold3/summary.json"));
}

// The recipe can be changed from the command line (--set key=value) and a shipped model refitted on
// the validation fold (--refit); mistakes in either are refused before any training.
class FitCommandLine : public TrainerKill {};

TEST_F(FitCommandLine, SetOverridesRecipeKeysAndRefitTrainsOnTheValidationFold) {
  const std::string run = dir_.path("refit");
  ASSERT_EQ(fit(run, false, {"--refit", "--set", "epochs=2", "--set", "lr=1e-3", "--set", "model.d_model=24"})->wait(120s),
            0)
      << log(run);
  const auto summary = nlohmann::json::parse(std::ifstream(run + "/summary.json"));
  EXPECT_EQ(summary["train_folds"], nlohmann::json::array({1, 2, 3, 4}));
  EXPECT_EQ(summary["val_folds"], nlohmann::json::array());
  EXPECT_TRUE(summary["val_accuracy"].is_null());
  EXPECT_EQ(summary["epochs"], 2);
  EXPECT_EQ(read_metrics(run + "/metrics.jsonl").size(), 2u);
  const Checkpoint kept = load_checkpoint(run + "/best.ckpt");
  EXPECT_DOUBLE_EQ(kept.training["train_config"]["lr"].get<double>(), 1e-3);
  EXPECT_EQ(kept.model->hyperparameters()["d_model"], 24);  // the tiny recipe's is 16
  EXPECT_EQ(kept.model->hyperparameters()["n_layers"], 2);  // the recipe's other [model] keys stay
  EXPECT_EQ(kept.training["train_clips"], 64);  // 2 classes x 8 clips x folds 1-4
  expect_same_weights(run + "/best.ckpt", run + "/last.ckpt");

  const std::pair<std::vector<std::string>, std::string> refused[] = {
      {{"--set", "train_folds=[1,2,3,4]"}, "--set: fold 4 is in both train_folds and val_folds"},
      {{"--set", "lr"}, "--set lr: expected key=value"},
      {{"--set", "lr=fast"}, "--set: key 'lr': expected number, got \"fast\""},
      {{"--set", "epoch=3"}, "--set: unknown key 'epoch'"},
      {{"--set", "model.d_modle=24"}, "unknown hyperparameter 'd_modle'"},
      {{"--set", "model.d_model=wide"}, "hyperparameter 'd_model' should be a number, got \"wide\""},
      {{"--set", "model.=24"}, "--set model.=24: expected model.KEY=value"},
  };
  int n = 0;
  for (const auto& [extra, message] : refused) {
    const std::string bad = dir_.path("bad" + std::to_string(n++));
    EXPECT_NE(fit(bad, false, extra)->wait(60s), 0) << extra[0] << " " << extra[1];
    EXPECT_NE(log(bad).find(message), std::string::npos) << "expected \"" << message << "\" in:\n" << log(bad);
    EXPECT_FALSE(fs::exists(bad + "/metrics.jsonl")) << "trained despite " << extra[1];
  }
}

}  // namespace
}  // namespace escd

// esc-train compare without torch: its statistics on hand-made predictions with known answers, its
// page (self-contained, one SVG per plot) and, when Chromium is installed, the page as a browser
// reads it.
#include <gtest/gtest.h>

#include <array>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>

#include "comparison.h"
#include "comparison_page.h"

namespace escd::train {
namespace {

// `n` clips cycling over `classes` classes, the first `right` of them predicted right and the rest
// predicted as the next class.
struct Predictions {
  std::vector<int64_t> labels, predictions;
};
Predictions predictions(size_t n, size_t right, int64_t classes) {
  Predictions p;
  for (size_t i = 0; i < n; ++i) {
    const int64_t label = static_cast<int64_t>(i) % classes;
    p.labels.push_back(label);
    p.predictions.push_back(i < right ? label : (label + 1) % classes);
  }
  return p;
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST(Comparison, BootstrapIntervalBracketsTheAccuracyAndNarrowsWithMoreClips) {
  const Predictions small = predictions(100, 70, 5), large = predictions(2000, 1400, 5);
  const Interval a = bootstrap_accuracy(small.labels, small.predictions, 2000, 1);
  const Interval b = bootstrap_accuracy(large.labels, large.predictions, 2000, 1);
  EXPECT_LT(a.low, 0.70);
  EXPECT_GT(a.high, 0.70);
  EXPECT_LT(b.low, 0.70);
  EXPECT_GT(b.high, 0.70);
  EXPECT_LT(b.high - b.low, (a.high - a.low) / 3);  // about 1/sqrt(20) as wide
  // The binomial standard error at 100 clips is 4.6 points: the 95% interval is about +-9.
  EXPECT_NEAR(a.high - a.low, 2 * 1.96 * 0.0458, 0.03);
  // Seeded: the same interval again; all right or all wrong: no spread.
  const Interval again = bootstrap_accuracy(small.labels, small.predictions, 2000, 1);
  EXPECT_EQ(again.low, a.low);
  EXPECT_EQ(again.high, a.high);
  const Predictions perfect = predictions(50, 50, 5);
  const Interval none = bootstrap_accuracy(perfect.labels, perfect.predictions, 200, 3);
  EXPECT_EQ(none.low, 1.0);
  EXPECT_EQ(none.high, 1.0);
}

TEST(Comparison, BootstrapRejectsWhatItCannotResample) {
  EXPECT_THROW(bootstrap_accuracy({}, {}, 100, 0), std::invalid_argument);
  EXPECT_THROW(bootstrap_accuracy({1, 2}, {1}, 100, 0), std::invalid_argument);
  EXPECT_THROW(bootstrap_accuracy({1}, {1}, 1, 0), std::invalid_argument);
  EXPECT_THROW(bootstrap_accuracy({1}, {1}, 100, 0, 1.0), std::invalid_argument);
}

TEST(Comparison, ScoreColumnCountsPerClassAndConfusions) {
  // Class 0: 2 of 2 right; class 1: 1 of 2 (one called 2); class 2: 0 of 2 (both called 1).
  const ModelColumn m = score_column("m", {0, 0, 1, 1, 2, 2}, {0, 0, 1, 2, 1, 1}, 3, 500, 0);
  EXPECT_DOUBLE_EQ(m.accuracy, 0.5);
  EXPECT_EQ(m.per_class, (std::vector<double>{1.0, 0.5, 0.0}));
  EXPECT_EQ(m.confusion[2][1], 2);
  EXPECT_EQ(m.confusion[1][2], 1);
  EXPECT_LE(m.interval.low, 0.5);
  EXPECT_GE(m.interval.high, 0.5);
  EXPECT_THROW(score_column("bad", {0, 3}, {0, 0}, 3, 500, 0), std::out_of_range);
}

TEST(Comparison, MostDifferingClassesAreTheWidestSpreads) {
  const std::vector<std::vector<double>> per_class = {{1.0, 0.5, 0.9, 0.2}, {1.0, 0.0, 0.6, 0.2}, {0.9, 0.25, 0.9, 0.2}};
  const std::vector<ClassSpread> spreads = most_differing_classes(per_class, 3);
  ASSERT_EQ(spreads.size(), 3u);
  EXPECT_EQ(spreads[0].class_index, 1u);
  EXPECT_DOUBLE_EQ(spreads[0].spread, 0.5);
  EXPECT_EQ(spreads[1].class_index, 2u);
  EXPECT_NEAR(spreads[1].spread, 0.3, 1e-12);
  EXPECT_EQ(spreads[2].class_index, 0u);
}

TEST(Comparison, ConfusedPairsJoinEachModelsWorstWithEveryModelsCounts) {
  ConfusionMatrix a(3, std::vector<int64_t>(3, 0)), b = a;
  a[0][1] = 4, a[2][0] = 1;  // model a: 0 -> 1 four times
  b[2][0] = 3, b[0][1] = 1;  // model b: 2 -> 0 three times
  const std::vector<PairCounts> pairs = confused_pairs({a, b}, 1);
  ASSERT_EQ(pairs.size(), 2u);
  EXPECT_EQ(pairs[0].true_class, 0u);
  EXPECT_EQ(pairs[0].predicted_class, 1u);
  EXPECT_EQ(pairs[0].counts, (std::vector<int64_t>{4, 1}));
  EXPECT_EQ(pairs[1].true_class, 2u);
  EXPECT_EQ(pairs[1].counts, (std::vector<int64_t>{1, 3}));
}

TEST(Comparison, SideFilesParseOrSayWhatIsWrong) {
  const CrossValidation cv = parse_cross_validation(
      {{"epochs", 40}, {"mean_accuracy", 0.67}, {"std_accuracy", 0.02}, {"folds", {{{"accuracy", 0.6}}, {{"accuracy", 0.74}}}}},
      "m.cv.json");
  EXPECT_EQ(cv.fold_accuracy, (std::vector<double>{0.6, 0.74}));
  EXPECT_EQ(cv.epochs, 40);
  EXPECT_FALSE(cv.refit);  // files from before fit --cv --refit existed
  EXPECT_TRUE(parse_cross_validation({{"refit", true}, {"mean_accuracy", 0.7}, {"std_accuracy", 0.0}, {"folds", {{{"accuracy", 0.7}}}}},
                                     "m.cv.json")
                  .refit);
  try {
    parse_cross_validation({{"folds", nlohmann::json::array()}}, "m.cv.json");
    FAIL();
  } catch (const std::invalid_argument& e) {
    EXPECT_NE(std::string(e.what()).find("m.cv.json"), std::string::npos) << e.what();
  }
  const nlohmann::json bench = nlohmann::json::parse(R"({"cpu_percent": {"a": 2.5, "a,b": 6.0},
    "latency": {"a": {"models": {"a": {"publish_ms": {"p50": 1.0, "p99": 2.0}}}},
                "a,b": {"models": {"a": {"publish_ms": {"p50": 1.5, "p99": 2.5}},
                                   "b": {"publish_ms": {"p50": 7.0, "p99": 11.0}}}}}})");
  const EscdCost one = escd_cost(bench, {"a"}), both = escd_cost(bench, {"a", "b"});
  EXPECT_EQ(one.cpu_percent, 2.5);
  EXPECT_EQ(one.latency_p99_ms, 2.0);
  EXPECT_EQ(both.cpu_percent, 6.0);
  EXPECT_EQ(both.latency_p50_ms, 7.0);  // the slowest member
  EXPECT_FALSE(escd_cost(bench, {"c"}).cpu_percent.has_value());
  const EscdCost reordered = escd_cost(bench, {"b", "a"});  // the checkpoints in another order than the bench's
  EXPECT_EQ(reordered.cpu_percent, 6.0);
  EXPECT_EQ(reordered.latency_p50_ms, 7.0);
  const auto conditions = nlohmann::ordered_json::parse(
      R"({"conditions": {"clean": {"a": 0.7, "ensemble": 0.8}, "gain=-20": {"a": 0.5}}})");
  const std::vector<ConditionRow> rows = condition_rows(conditions, {"a", "b", "ensemble"});
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].condition, "clean");  // the file's order
  EXPECT_EQ(rows[0].accuracy[2], 0.8);
  EXPECT_FALSE(rows[1].accuracy[1].has_value());
}

// Two models and their ensemble over three classes, one of them with a name to escape.
Comparison hand_made() {
  Comparison c;
  c.class_names = {"dog", "rain", "sea_waves"};
  c.folds = {5};
  c.resamples = 500;
  const std::vector<int64_t> labels = {0, 0, 1, 1, 2, 2};
  c.columns.push_back(score_column("alpha", labels, {0, 0, 1, 2, 2, 2}, 3, 500, 0));
  c.columns.push_back(score_column("beta<2>", labels, {0, 1, 1, 1, 2, 0}, 3, 500, 0));
  c.columns.push_back(score_column("ensemble", labels, {0, 0, 1, 1, 2, 2}, 3, 500, 0));
  c.columns[0].architecture = "mamba";
  c.columns[0].parameters = 1234567;
  c.columns[0].flops_per_window = 3e8;
  c.columns[0].escd.cpu_percent = 2.4;
  c.columns[0].background = BackgroundCalls{0.0, 5.0 / 6.0};
  c.columns[1].flops_per_window = 2e8;
  c.columns[2].flops_per_window = 5e8;
  c.conditions = {{"clean", {0.8, 0.6, std::nullopt}}, {"gain=-20", {0.7, 0.3, 0.9}}};
  c.conditions_source = "conditions.json";
  c.notes = {"beta<2> was trained on fold(s) [5]"};
  return c;
}

TEST(ComparisonPage, IsSelfContainedWithOneSvgPerPlot) {
  const std::string html = render_comparison_html(hand_made());
  EXPECT_EQ(count(html, "<svg"), 3u);  // accuracy vs cost, per-class bars, confusion heat map
  EXPECT_EQ(count(html, "</svg>"), 3u);
  EXPECT_EQ(count(html, "<table"), count(html, "</table>"));
  std::string without_namespaces = html;
  for (size_t at; (at = without_namespaces.find("xmlns='http://www.w3.org/2000/svg'")) != std::string::npos;) {
    without_namespaces.erase(at, 34);
  }
  EXPECT_EQ(without_namespaces.find("http://"), std::string::npos);
  EXPECT_EQ(without_namespaces.find("https://"), std::string::npos);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<link"), std::string::npos);
  EXPECT_NE(html.find("beta&lt;2&gt;"), std::string::npos);
  EXPECT_EQ(html.find("beta<2>"), std::string::npos);
  EXPECT_NE(html.find("1,234,567"), std::string::npos);
  EXPECT_NE(html.find("not measured"), std::string::npos);  // beta's CPU, everyone's CV
  // FLOPs stand in for CPU, which only alpha has.
  EXPECT_NE(html.find("Accuracy vs FLOPs per window"), std::string::npos);
  EXPECT_NE(html.find("gain=-20"), std::string::npos);
}

TEST(ComparisonPage, MarkdownIsOneRowPerColumn) {
  const std::string md = render_comparison_markdown(hand_made());
  EXPECT_EQ(count(md, "\n| "), 5u);  // heading, rule and three rows
  EXPECT_NE(md.find("| alpha (mamba) | 83.33% |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 2.4% of a core |"), std::string::npos) << md;
  EXPECT_NE(md.find("| 83.33% (0.00%) |"), std::string::npos) << "alpha's 50 classes alone, none called background";
  EXPECT_NE(md.find("| no background output |"), std::string::npos) << md;
}

// The page as Chromium renders it: the model names reach the DOM. Skipped without Chromium.
TEST(ComparisonPage, ChromiumRendersTheModelNames) {
  std::string chromium;
  for (const char* candidate : {"/usr/bin/chromium", "/usr/bin/chromium-browser"}) {
    if (std::filesystem::exists(candidate)) chromium = candidate;
  }
  if (chromium.empty()) GTEST_SKIP() << "chromium is not installed (apt-get install chromium): page not rendered";
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / ("escd-compare-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  const std::filesystem::path page = dir / "compare.html";
  std::ofstream(page) << render_comparison_html(hand_made());
  const std::string command = chromium + " --headless=new --no-sandbox --disable-gpu --user-data-dir=" +
                              (dir / "profile").string() + " --dump-dom file://" + page.string() + " 2>/dev/null";
  std::string dom;
  {
    std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
    ASSERT_TRUE(pipe) << command;
    std::array<char, 4096> buffer{};
    for (size_t n; (n = fread(buffer.data(), 1, buffer.size(), pipe.get())) > 0;) dom.append(buffer.data(), n);
  }
  std::filesystem::remove_all(dir);
  ASSERT_NE(dom.find("<svg"), std::string::npos) << "no SVG in the DOM:\n" << dom.substr(0, 2000);
  for (const char* name : {"alpha", "beta&lt;2&gt;", "ensemble"}) {
    EXPECT_NE(dom.find(name), std::string::npos) << name << " not in the DOM";
  }
  EXPECT_EQ(count(dom, "<svg"), 3u);
}

}  // namespace
}  // namespace escd::train

#include "html_report.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include "html_parts.h"

namespace escd::train {
namespace {

struct Series {
  std::string name, colour;
  std::vector<std::pair<double, double>> points;  // (epoch, value)
};

std::string escape(const std::string& s) { return html_escape(s); }
std::string fmt(double v) { return format_number(v); }

// A line chart with axes, ticks and a legend; log_y for the learning rate.
std::string line_chart(const std::string& title, const std::vector<Series>& series, bool log_y = false) {
  const double w = 460, h = 260, left = 60, right = 15, top = 30, bottom = 40;
  double x0 = 1e300, x1 = -1e300, y0 = 1e300, y1 = -1e300;
  auto ty = [&](double v) { return log_y ? std::log10(std::max(v, 1e-12)) : v; };
  for (const auto& s : series) {
    for (const auto& [x, y] : s.points) {
      x0 = std::min(x0, x), x1 = std::max(x1, x), y0 = std::min(y0, ty(y)), y1 = std::max(y1, ty(y));
    }
  }
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h << "' role='img'>"
      << "<text x='" << w / 2 << "' y='18' text-anchor='middle' font-weight='bold'>" << escape(title) << "</text>";
  if (x0 > x1) return svg.str() + "<text x='20' y='60'>no data</text></svg>";
  if (x1 == x0) x1 = x0 + 1;
  if (y1 == y0) y1 = y0 + 1;
  auto px = [&](double x) { return left + (x - x0) / (x1 - x0) * (w - left - right); };
  auto py = [&](double y) { return top + (1 - (ty(y) - y0) / (y1 - y0)) * (h - top - bottom); };
  svg << "<rect x='" << left << "' y='" << top << "' width='" << w - left - right << "' height='" << h - top - bottom
      << "' fill='none' stroke='#999'/>";
  for (int i = 0; i <= 4; ++i) {
    const double yv = y0 + (y1 - y0) * i / 4;
    const double yp = top + (1 - static_cast<double>(i) / 4) * (h - top - bottom);
    svg << "<text x='" << left - 4 << "' y='" << yp + 4 << "' text-anchor='end' font-size='10'>"
        << fmt(log_y ? std::pow(10, yv) : yv) << "</text>";
    const double xv = x0 + (x1 - x0) * i / 4;
    svg << "<text x='" << px(xv) << "' y='" << h - bottom + 14 << "' text-anchor='middle' font-size='10'>"
        << fmt(std::round(xv)) << "</text>";
  }
  svg << "<text x='" << (left + w - right) / 2 << "' y='" << h - 6 << "' text-anchor='middle' font-size='11'>epoch</text>";
  int legend = 0;
  for (const auto& s : series) {
    if (s.points.empty()) continue;
    svg << "<polyline fill='none' stroke='" << s.colour << "' stroke-width='1.6' points='";
    for (const auto& [x, y] : s.points) svg << fmt(px(x)) << "," << fmt(py(y)) << " ";
    svg << "'/>";
    svg << "<text x='" << left + 8 << "' y='" << top + 14 + 13 * legend++ << "' font-size='11' fill='" << s.colour
        << "'>" << escape(s.name) << "</text>";
  }
  return svg.str() + "</svg>";
}

// The run directory's own name (runs/mamba-refit/ -> mamba-refit, "." -> the current directory's
// name): reports are shipped and read on other machines, where the path of the one that trained
// the model means nothing and would only leak its layout.
std::string run_name(const std::string& run_dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  fs::path path = fs::absolute(run_dir, ec);
  if (ec) path = run_dir;
  path = path.lexically_normal();
  if (!path.has_filename()) path = path.parent_path();  // a trailing separator
  const std::string name = path.filename().string();
  return name.empty() || name == "." || name == ".." ? "run" : name;
}

}  // namespace

std::string render_report(const std::string& run_dir) {
  const std::string metrics_path = run_dir + "/metrics.jsonl";
  std::ifstream in(metrics_path);
  if (!in) throw std::runtime_error(metrics_path + ": cannot open (is this a run directory of esc-train fit?)");
  Series train_loss{"train loss", "#1f77b4", {}}, val_loss{"val loss", "#d62728", {}};
  Series distill_loss{"distillation loss (part of the train loss)", "#9467bd", {}};
  Series train_acc{"train accuracy", "#1f77b4", {}}, val_acc{"val accuracy", "#d62728", {}};
  Series lr{"learning rate", "#2ca02c", {}};
  int line_no = 0;
  for (std::string line; std::getline(in, line);) {
    ++line_no;
    if (line.empty()) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(line);
    } catch (const std::exception& e) {
      throw std::runtime_error(metrics_path + ":" + std::to_string(line_no) + ": not JSON: " + e.what());
    }
    const double epoch = j.value("epoch", 0) + 1;
    if (j.contains("train_loss")) train_loss.points.emplace_back(epoch, j["train_loss"].get<double>());
    if (j.contains("distill_loss")) distill_loss.points.emplace_back(epoch, j["distill_loss"].get<double>());
    if (j.contains("val_loss")) val_loss.points.emplace_back(epoch, j["val_loss"].get<double>());
    if (j.contains("train_accuracy")) train_acc.points.emplace_back(epoch, j["train_accuracy"].get<double>());
    if (j.contains("val_accuracy")) val_acc.points.emplace_back(epoch, j["val_accuracy"].get<double>());
    if (j.contains("lr")) lr.points.emplace_back(epoch, j["lr"].get<double>());
  }

  const std::string name = run_name(run_dir);
  std::ostringstream html;
  html << "<!DOCTYPE html><html><head><meta charset='utf-8'><title>escd training report: " << escape(name)
       << "</title><style>body{font-family:sans-serif;margin:2em;max-width:1100px}"
          "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
          ".charts svg{margin:0 1em 1em 0}</style></head><body>"
       << "<h1>Training report</h1><p>Run directory: <code>" << escape(name) << "</code>, " << line_no
       << " epochs logged.</p>";
  const std::string final_path = run_dir + "/final.json";
  nlohmann::json final_json;
  if (std::filesystem::exists(final_path)) {
    std::ifstream f(final_path);
    try {
      f >> final_json;
    } catch (const std::exception& e) {
      throw std::runtime_error(final_path + ": not JSON: " + e.what());
    }
    const nlohmann::json& val = final_json["val"];
    html << "<p>Model <b>" << escape(final_json.value("model", "?")) << "</b>, ";
    if (val.is_object()) {
      html << "best epoch " << final_json.value("best_epoch", 0) << ": validation accuracy <b>"
           << fmt(100 * val.value("accuracy", 0.0)) << "%</b>";
    } else {  // fit --refit: the validation folds were trained on
      html << "last epoch " << final_json.value("best_epoch", 0) << " (no validation fold)";
    }
    html << ", test accuracy <b>" << fmt(100 * final_json["test"].value("accuracy", 0.0)) << "%</b> ("
         << final_json["test"].value("clips", 0) << " clips).</p>";
  }
  std::vector<Series> losses = {train_loss, val_loss};
  if (!distill_loss.points.empty()) losses.push_back(distill_loss);  // runs with --teacher
  html << "<div class='charts'>" << line_chart("Loss", losses)
       << line_chart("Accuracy", {train_acc, val_acc}) << line_chart("Learning rate", {lr}, true) << "</div>";
  if (!final_json.is_null() && final_json.contains("test")) {
    const auto confusion = final_json["test"].at("confusion").get<ConfusionMatrix>();
    const auto names = final_json["test"].at("class_names").get<std::vector<std::string>>();
    html << "<h2>Confusion matrix (test fold; rows: true class, columns: predicted)</h2>"
         << confusion_svg(confusion, names) << "<h2>Most confused class pairs (test fold)</h2>"
         << worst_pairs_table(confusion, names, 10);
  } else {
    html << "<p>No final.json yet: the run has not finished, so there is no confusion matrix.</p>";
  }
  html << "</body></html>\n";
  return html.str();
}

}  // namespace escd::train

#include "comparison_page.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iterator>
#include <stdexcept>
#include <sstream>

#include "html_parts.h"

namespace escd::train {
namespace {

constexpr const char* kNotMeasured = "not measured";
const char* const kColours[] = {"#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#8c564b", "#17becf"};

std::string colour(const Comparison& c, size_t column) {
  if (c.columns.size() > 1 && column + 1 == c.columns.size() && c.columns[column].name == "ensemble") return "#222";
  return kColours[column % (sizeof(kColours) / sizeof(kColours[0]))];
}

std::string printf_string(const char* format, double v) {
  char buffer[64];
  std::snprintf(buffer, sizeof buffer, format, v);
  return buffer;
}

std::string percent(double share) { return printf_string("%.2f%%", 100 * share); }

std::string interval_text(const Interval& i) { return percent(i.low) + " – " + percent(i.high); }

std::string thousands(int64_t v) {
  std::string digits = std::to_string(v), out;
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out += ',';
    out += digits[i];
  }
  return out;
}

std::string cv_text(const ModelColumn& m) {
  if (!m.cv) return kNotMeasured;
  std::string text = percent(m.cv->mean) + " ± " + printf_string("%.2f", 100 * m.cv->std) + " (" +
                     std::to_string(m.cv->fold_accuracy.size()) + " folds";
  if (m.cv->epochs > 0) text += ", " + std::to_string(m.cv->epochs) + " epochs";
  if (m.cv->refit) text += ", trained on four";
  return text + ")";
}

std::string training_text(const ModelColumn& m) {
  if (!m.training_seconds) return kNotMeasured;
  const double minutes = *m.training_seconds / 60;
  return minutes < 120 ? printf_string("%.1f min", minutes) : printf_string("%.2f h", minutes / 60);
}

std::string cpu_text(const ModelColumn& m) {
  return m.escd.cpu_percent ? printf_string("%.1f%% of a core", *m.escd.cpu_percent) : kNotMeasured;
}

std::string latency_text(const ModelColumn& m) {
  if (!m.escd.latency_p50_ms) return kNotMeasured;
  return printf_string("%.1f", *m.escd.latency_p50_ms) + " / " + printf_string("%.1f ms", *m.escd.latency_p99_ms);
}

std::string flops_text(const ModelColumn& m) {
  return m.flops_per_window ? printf_string("%.1f MFLOP", *m.flops_per_window / 1e6) : kNotMeasured;
}

std::string folds_text(const std::vector<int>& folds) {
  std::string out;
  for (int f : folds) out += (out.empty() ? "" : ", ") + std::to_string(f);
  return out;
}

std::string model_label(const ModelColumn& m) {
  return m.architecture.empty() || m.architecture == m.name ? m.name : m.name + " (" + m.architecture + ")";
}

// One summary row per column, the cells as plain text: shared by the page and the Markdown.
struct SummaryRow {
  std::string model, accuracy, interval, events, cv, parameters, flops, training, cpu, latency;
};
const char* const kSummaryHeadings[] = {"model", "accuracy", "95% interval",
                                        "50 classes alone (called background)", "CV mean ± sd",
                                        "parameters", "FLOPs per window", "training time", "escd CPU",
                                        "escd latency p50 / p99"};

SummaryRow summary_row(const ModelColumn& m) {
  std::string accuracy = percent(m.accuracy);
  if (!m.trained_on_evaluated_folds.empty()) accuracy += " (trained on it)";
  const std::string events = m.background ? percent(m.background->event_accuracy) + " (" +
                                                 percent(m.background->called_background) + ")"
                                           : "no background output";
  return {model_label(m),  accuracy,         interval_text(m.interval), events,
          cv_text(m),      m.parameters ? thousands(*m.parameters) : kNotMeasured,
          flops_text(m),   training_text(m), cpu_text(m),
          latency_text(m)};
}

std::vector<std::string> cells(const SummaryRow& r) {
  return {r.model, r.accuracy, r.interval, r.events, r.cv, r.parameters, r.flops, r.training, r.cpu, r.latency};
}

// A "nice" tick step (1, 2 or 5 times a power of ten) giving about `ticks` intervals over `span`.
double tick_step(double span, int ticks) {
  const double raw = span / ticks, power = std::pow(10.0, std::floor(std::log10(raw)));
  for (double m : {1.0, 2.0, 5.0}) {
    if (m * power >= raw) return m * power;
  }
  return 10 * power;
}

// A scatter of accuracy (with its interval as a whisker) against a cost, one labelled point per
// column. Without the cost for every column: the plot says what is missing.
std::string accuracy_vs_cost_svg(const Comparison& c) {
  const double w = 660, h = 360, left = 60, right = 150, top = 30, bottom = 45;
  bool have_cpu = !c.columns.empty(), have_flops = !c.columns.empty();
  for (const ModelColumn& m : c.columns) have_cpu &= m.escd.cpu_percent.has_value(), have_flops &= m.flops_per_window.has_value();
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h << "' role='img' class='plot'>";
  const std::string title = have_cpu ? "Accuracy vs escd CPU" : "Accuracy vs FLOPs per window (escd CPU not measured)";
  svg << "<text x='" << w / 2 << "' y='18' text-anchor='middle' font-weight='bold'>" << html_escape(title) << "</text>";
  if (!have_cpu && !have_flops) {
    return svg.str() + "<text x='20' y='60'>Neither escd CPU nor FLOPs were measured for every model.</text></svg>";
  }
  auto cost = [&](const ModelColumn& m) { return have_cpu ? *m.escd.cpu_percent : *m.flops_per_window / 1e6; };
  double x1 = 0, y0 = 1, y1 = 0;
  for (const ModelColumn& m : c.columns) {
    x1 = std::max(x1, cost(m)), y0 = std::min(y0, m.interval.low), y1 = std::max(y1, m.interval.high);
  }
  const double x_step = tick_step(x1 > 0 ? x1 : 1, 5);
  x1 = x_step * std::ceil(x1 / x_step + 0.2);
  y0 = std::max(0.0, std::floor(y0 * 20) / 20), y1 = std::min(1.0, std::ceil(y1 * 20) / 20);
  if (y1 <= y0) y1 = y0 + 0.05;
  auto px = [&](double x) { return left + x / x1 * (w - left - right); };
  auto py = [&](double y) { return top + (1 - (y - y0) / (y1 - y0)) * (h - top - bottom); };
  svg << "<rect x='" << left << "' y='" << top << "' width='" << w - left - right << "' height='" << h - top - bottom
      << "' fill='none' stroke='#999'/>";
  for (double yv = y0; yv <= y1 + 1e-9; yv += 0.05) {
    svg << "<line x1='" << left << "' x2='" << w - right << "' y1='" << py(yv) << "' y2='" << py(yv)
        << "' stroke='#eee'/><text x='" << left - 4 << "' y='" << py(yv) + 4 << "' text-anchor='end' font-size='10'>"
        << printf_string("%.0f%%", 100 * yv) << "</text>";
  }
  for (double xv = 0; xv <= x1 + 1e-9 * x1; xv += x_step) {
    svg << "<text x='" << px(xv) << "' y='" << h - bottom + 14 << "' text-anchor='middle' font-size='10'>"
        << format_number(xv, 4) << "</text>";
  }
  svg << "<text x='" << (left + w - right) / 2 << "' y='" << h - 8 << "' text-anchor='middle' font-size='11'>"
      << (have_cpu ? "escd CPU, % of one core (real time)" : "MFLOP per 155-frame window (analytic)") << "</text>"
      << "<text x='14' y='" << (top + h - bottom) / 2 << "' font-size='11' text-anchor='middle' transform='rotate(-90 14 "
      << (top + h - bottom) / 2 << ")'>accuracy, 95% interval</text>";
  // The names in the right margin at their points' heights (moved apart where close), each joined
  // to its point by a thin line: points of similar cost stay readable.
  std::vector<size_t> order(c.columns.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return c.columns[a].accuracy > c.columns[b].accuracy; });
  double previous = -1e9;
  for (size_t i : order) {
    const ModelColumn& m = c.columns[i];
    const double x = px(cost(m)), y = py(m.accuracy), label_x = w - right + 12;
    const double label_y = std::max(y + 4, previous + 14);
    previous = label_y;
    svg << "<g><title>" << html_escape(m.name) << ": " << percent(m.accuracy) << " [" << interval_text(m.interval)
        << "]</title><line x1='" << x << "' x2='" << x << "' y1='" << py(m.interval.low) << "' y2='"
        << py(m.interval.high) << "' stroke='" << colour(c, i) << "' stroke-width='2'/><circle cx='" << x << "' cy='" << y
        << "' r='5' fill='" << colour(c, i) << "'/><line x1='" << x + 6 << "' y1='" << y << "' x2='" << label_x - 3
        << "' y2='" << label_y - 4 << "' stroke='" << colour(c, i) << "' stroke-width='0.5' stroke-dasharray='2,2'/>"
        << "<text x='" << label_x << "' y='" << label_y << "' font-size='12' fill='" << colour(c, i) << "'>"
        << html_escape(m.name) << " " << printf_string("%.1f%%", 100 * m.accuracy) << "</text></g>";
  }
  return svg.str() + "</svg>";
}

// Horizontal bars of each column's accuracy per class, grouped by class.
std::string per_class_bars_svg(const Comparison& c) {
  // Classes without clips here (a background output) have no accuracy to show.
  std::vector<size_t> shown;
  for (size_t cls = 0; cls < c.class_names.size(); ++cls) {
    int64_t clips = 0;
    for (int64_t v : c.columns.front().confusion.at(cls)) clips += v;
    if (clips > 0) shown.push_back(cls);
  }
  const size_t k = c.columns.size(), n = shown.size();
  const double bar = 4, row = bar * static_cast<double>(k) + 6, left = 140, width = 640, top = 64;
  const double w = left + width + 20, h = top + row * static_cast<double>(n) + 10;
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << w << "' height='" << h << "' role='img' class='plot'>"
      << "<text x='" << w / 2 << "' y='16' text-anchor='middle' font-weight='bold'>Accuracy per class</text>";
  for (size_t i = 0; i < k; ++i) {
    svg << "<rect x='" << left + 110.0 * static_cast<double>(i) << "' y='24' width='10' height='10' fill='" << colour(c, i)
        << "'/><text x='" << left + 110.0 * static_cast<double>(i) + 14 << "' y='33' font-size='11'>"
        << html_escape(c.columns[i].name) << "</text>";
  }
  for (int t = 0; t <= 4; ++t) {
    const double x = left + width * t / 4;
    svg << "<line x1='" << x << "' x2='" << x << "' y1='" << top - 4 << "' y2='" << h - 10 << "' stroke='#ddd'/>"
        << "<text x='" << x << "' y='" << top - 6 << "' text-anchor='middle' font-size='9'>" << 25 * t << "%</text>";
  }
  for (size_t r = 0; r < n; ++r) {
    const size_t cls = shown[r];
    const double y = top + row * static_cast<double>(r);
    svg << "<text x='" << left - 4 << "' y='" << y + row / 2 + 3 << "' text-anchor='end' font-size='10'>"
        << html_escape(c.class_names[cls]) << "</text>";
    for (size_t i = 0; i < k; ++i) {
      const double a = cls < c.columns[i].per_class.size() ? c.columns[i].per_class[cls] : 0;
      svg << "<rect x='" << left << "' y='" << y + 3 + bar * static_cast<double>(i) << "' width='" << width * a
          << "' height='" << bar << "' fill='" << colour(c, i) << "'><title>" << html_escape(c.class_names[cls]) << ", "
          << html_escape(c.columns[i].name) << ": " << percent(a) << "</title></rect>";
    }
  }
  return svg.str() + "</svg>";
}

std::string table_head(const Comparison& c, const std::string& first) {
  std::string html = "<tr><th>" + first + "</th>";
  for (size_t i = 0; i < c.columns.size(); ++i) {
    html += "<th style='color:" + colour(c, i) + "'>" + html_escape(c.columns[i].name) + "</th>";
  }
  return html;
}

std::string conditions_section(const Comparison& c) {
  std::ostringstream html;
  html << "<h2>Room conditions</h2>";
  if (c.conditions.empty()) {
    html << "<p>" << kNotMeasured << " (pass <code>--conditions</code> with the JSON of <code>bench/conditions.sh</code>).</p>";
    return html.str();
  }
  html << "<p>Accuracy on the same fold with every clip perturbed as a room would (<code>docs/ROOMS.md</code>), from <code>"
       << html_escape(c.conditions_source)
       << "</code>; in brackets the change from the same model's clean accuracy. The file was measured by "
          "<code>bench/conditions.sh</code> on the models of its day: where a checkpoint was replaced since, its "
          "clean row differs from the accuracy above.</p><table>"
       << table_head(c, "condition") << "</tr>";
  const ConditionRow* clean = nullptr;
  for (const ConditionRow& row : c.conditions) {
    if (row.condition == "clean") clean = &row;
  }
  for (const ConditionRow& row : c.conditions) {
    html << "<tr><td>" << html_escape(row.condition) << "</td>";
    for (size_t i = 0; i < row.accuracy.size(); ++i) {
      if (!row.accuracy[i]) {
        html << "<td class='na'>" << kNotMeasured << "</td>";
        continue;
      }
      html << "<td>" << percent(*row.accuracy[i]);
      if (clean && &row != clean && clean->accuracy[i]) {
        html << " <small>(" << printf_string("%+.2f", 100 * (*row.accuracy[i] - *clean->accuracy[i])) << ")</small>";
      }
      html << "</td>";
    }
    html << "</tr>";
  }
  return html.str() + "</table>";
}

// The clips of an average class among those with any (a background output has none).
size_t clips_per_class(const ModelColumn& m) {
  size_t classes = 0;
  for (const auto& row : m.confusion) classes += std::any_of(row.begin(), row.end(), [](int64_t v) { return v > 0; });
  return classes ? m.labels.size() / classes : 0;
}

std::string differing_classes_section(const Comparison& c, size_t models) {
  std::vector<std::vector<double>> per_class;
  for (size_t i = 0; i < models; ++i) per_class.push_back(c.columns[i].per_class);
  std::ostringstream html;
  html << "<h2>Classes where the models differ most</h2>";
  if (models < 2) return html.str() + "<p>One model: nothing to compare.</p>";
  html << "<p>Largest spread (best minus worst model) of per-class accuracy; each class has "
       << clips_per_class(c.columns.front()) << " clips or so, so one clip moves a class by several points.</p><table>" << table_head(c, "class")
       << "<th>spread</th></tr>";
  for (const ClassSpread& s : most_differing_classes(per_class, 10)) {
    html << "<tr><td>" << html_escape(c.class_names[s.class_index]) << "</td>";
    for (const ModelColumn& m : c.columns) html << "<td>" << percent(m.per_class.at(s.class_index)) << "</td>";
    html << "<td>" << printf_string("%.0f points", 100 * s.spread) << "</td></tr>";
  }
  return html.str() + "</table>";
}

std::string confused_pairs_section(const Comparison& c) {
  std::vector<ConfusionMatrix> confusions;
  for (const ModelColumn& m : c.columns) confusions.push_back(m.confusion);
  std::ostringstream html;
  html << "<h2>Most confused pairs</h2><p>Each model's five most frequent (true class → predicted class) errors, "
          "with every model's clip count for the pair.</p><table>"
       << table_head(c, "true class → predicted") << "</tr>";
  for (const PairCounts& p : confused_pairs(confusions, 5)) {
    html << "<tr><td>" << html_escape(c.class_names[p.true_class]) << " → " << html_escape(c.class_names[p.predicted_class])
         << "</td>";
    for (int64_t v : p.counts) html << "<td>" << v << "</td>";
    html << "</tr>";
  }
  return html.str() + "</table>";
}

}  // namespace

std::string render_comparison_html(const Comparison& c) {
  if (c.columns.empty()) throw std::invalid_argument("render_comparison_html: no models");
  const bool has_ensemble = c.columns.size() > 1 && c.columns.back().name == "ensemble";
  const size_t models = has_ensemble ? c.columns.size() - 1 : c.columns.size();
  std::ostringstream html;
  html << "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>escd models compared</title><style>"
          "body{font-family:sans-serif;margin:2em;max-width:1150px;color:#222}"
          "table{border-collapse:collapse;margin:0.5em 0 1em}td,th{border:1px solid #ccc;padding:2px 8px;text-align:left}"
          "td.na{color:#999}th{background:#f4f4f4}.notes{color:#a40}svg.plot{margin:0 1em 1em 0}"
          "code{background:#f4f4f4;padding:0 3px}</style></head><body><h1>escd models compared</h1>";
  html << "<p>" << models << (models == 1 ? " model" : " models") << (has_ensemble ? " and their ensemble (escd <code>--ensemble</code>: geometric mean of the class probabilities)" : "")
       << " on ESC-50 " << (c.folds.size() == 1 ? "fold " : "folds ") << folds_text(c.folds) << ": " << c.columns.front().labels.size() << " clips, "
       << c.class_names.size() << " classes. Intervals: 95% percentile bootstrap over clips (" << c.resamples
       << " resamples, seed " << c.seed << ").</p>";
  if (!c.notes.empty()) {
    html << "<ul class='notes'>";
    for (const std::string& note : c.notes) html << "<li>" << html_escape(note) << "</li>";
    html << "</ul>";
  }
  html << "<h2>Summary</h2><table><tr>";
  for (const char* heading : kSummaryHeadings) html << "<th>" << heading << "</th>";
  html << "</tr>";
  for (size_t i = 0; i < c.columns.size(); ++i) {
    const std::vector<std::string> row = cells(summary_row(c.columns[i]));
    html << "<tr><td style='color:" << colour(c, i) << "'><b>" << html_escape(row[0]) << "</b></td>";
    for (size_t j = 1; j < row.size(); ++j) {
      html << "<td" << (row[j] == kNotMeasured ? " class='na'" : "") << ">" << html_escape(row[j]) << "</td>";
    }
    html << "</tr>";
  }
  html << "</table><p><small>CV: the recipe's 5-fold cross-validation (<code>&lt;model&gt;.cv.json</code>), not the "
          "shipped checkpoint itself. FLOPs: analytic forward of one 155-frame window (<code>bench/model_flops.h</code>). "
          "Training time: wall time of the run that made the checkpoint (<code>&lt;model&gt;.json</code>). escd CPU and "
          "latency (from a window's last sample to its published scores; the ensemble's is its slowest member's): "
       << (c.bench_source.empty() ? std::string("not measured (pass <code>--bench</code> with the JSON of "
                                                "<code>bench/run_escd.sh --json</code>)")
                                  : "<code>" + html_escape(c.bench_source) + "</code>" +
                                        (c.bench_note.empty() ? "" : " (" + html_escape(c.bench_note) + ")"))
       << ". Sums for the ensemble.</small></p>";
  html << "<h2>Accuracy and cost</h2>" << accuracy_vs_cost_svg(c);
  html << conditions_section(c) << differing_classes_section(c, models);
  html << "<h2>Accuracy per class</h2>" << per_class_bars_svg(c) << confused_pairs_section(c);
  html << "<h2>Confusion heat map: " << html_escape(c.columns.back().name)
       << "</h2><p>Rows: true class, columns: predicted; blue: right, red: wrong, darker: a larger share of the "
          "row.</p>"
       << confusion_svg(c.columns.back().confusion, c.class_names);
  if (!c.command.empty()) html << "<p><small>Made by <code>" << html_escape(c.command) << "</code></small></p>";
  html << "</body></html>\n";
  return html.str();
}

std::string render_comparison_markdown(const Comparison& c) {
  std::ostringstream md;
  md << (c.folds.size() == 1 ? "Fold " : "Folds ") << folds_text(c.folds) << " of ESC-50, " << (c.columns.empty() ? 0 : c.columns.front().labels.size())
     << " clips; 95% intervals by bootstrap over clips (" << c.resamples << " resamples, seed " << c.seed
     << "). Full page: `compare.html`.\n\n|";
  for (const char* heading : kSummaryHeadings) md << " " << heading << " |";
  md << "\n|";
  for (size_t j = 0; j < std::size(kSummaryHeadings); ++j) md << " --- |";
  md << "\n";
  for (const ModelColumn& m : c.columns) {
    md << "|";
    for (const std::string& cell : cells(summary_row(m))) {
      std::string escaped;
      for (char ch : cell) escaped += ch == '|' ? std::string("\\|") : std::string(1, ch);
      md << " " << escaped << " |";
    }
    md << "\n";
  }
  if (!c.bench_source.empty()) {
    md << "\nescd CPU and latency: `" << c.bench_source << "`" << (c.bench_note.empty() ? "" : " (" + c.bench_note + ")")
       << ".\n";
  }
  for (const std::string& note : c.notes) md << "\n- " << note;
  if (!c.notes.empty()) md << "\n";
  if (!c.command.empty()) md << "\nMade by `" << c.command << "`.\n";
  return md.str();
}

}  // namespace escd::train

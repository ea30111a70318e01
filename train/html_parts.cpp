#include "html_parts.h"

#include <sstream>

namespace escd::train {

std::string html_escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '&': out += "&amp;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;  // the pages quote attributes with '
      default: out += c;
    }
  }
  return out;
}

std::string format_number(double v, int digits) {
  std::ostringstream s;
  s.precision(digits);
  s << v;
  return s.str();
}

std::string confusion_svg(const ConfusionMatrix& confusion, const std::vector<std::string>& names) {
  const size_t n = confusion.size();
  const double cell = 9, left = 130, top = 10;
  auto name = [&](size_t c) { return html_escape(c < names.size() ? names[c] : std::to_string(c)); };
  std::ostringstream svg;
  svg << "<svg xmlns='http://www.w3.org/2000/svg' width='" << left + n * cell + 20 << "' height='"
      << top + n * cell + 20 << "' role='img'>";
  for (size_t t = 0; t < n; ++t) {
    int64_t total = 0;
    for (int64_t v : confusion[t]) total += v;
    svg << "<text x='" << left - 4 << "' y='" << top + (t + 0.8) * cell << "' text-anchor='end' font-size='8'>"
        << name(t) << "</text>";
    for (size_t p = 0; p < confusion[t].size(); ++p) {
      if (confusion[t][p] == 0) continue;
      const double share = total ? static_cast<double>(confusion[t][p]) / total : 0;
      const int shade = static_cast<int>(255 * (1 - share));
      const std::string colour = t == p ? "rgb(" + std::to_string(shade) + "," + std::to_string(shade) + ",255)"
                                        : "rgb(255," + std::to_string(shade) + "," + std::to_string(shade) + ")";
      svg << "<rect x='" << left + p * cell << "' y='" << top + t * cell << "' width='" << cell << "' height='" << cell
          << "' fill='" << colour << "'><title>" << name(t) << " -> " << name(p) << ": " << confusion[t][p]
          << "</title></rect>";
    }
  }
  svg << "<rect x='" << left << "' y='" << top << "' width='" << n * cell << "' height='" << n * cell
      << "' fill='none' stroke='#999'/></svg>";
  return svg.str();
}

std::string worst_pairs_table(const ConfusionMatrix& confusion, const std::vector<std::string>& names, size_t n) {
  std::ostringstream html;
  html << "<table><tr><th>true class</th><th>predicted as</th><th>clips</th></tr>";
  for (const Confusion& c : worst_confusions(confusion, n)) {
    html << "<tr><td>" << html_escape(names.at(c.true_class)) << "</td><td>" << html_escape(names.at(c.predicted_class))
         << "</td><td>" << c.count << "</td></tr>";
  }
  return html.str() + "</table>";
}

}  // namespace escd::train

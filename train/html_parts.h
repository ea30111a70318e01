// Pieces shared by esc-train's HTML pages (report, compare): escaping, number formatting, the
// confusion heat map (inline SVG) and the table of most confused pairs. No torch.
#pragma once

#include <string>
#include <vector>

#include "confusion.h"

namespace escd::train {

// `s` with < > & " replaced by entities: safe in element text and in quoted attributes.
std::string html_escape(const std::string& s);

// `v` with `digits` significant digits, shortest form (0.7475, 1.2e+06).
std::string format_number(double v, int digits = 4);

// The confusion matrix as a heat map: one cell per non-zero entry, shaded by its share of the row
// (the diagonal blue, errors red), each with a tooltip naming the pair and the count.
std::string confusion_svg(const ConfusionMatrix& confusion, const std::vector<std::string>& class_names);

// A table of the `n` most confused (true, predicted) pairs with their clip counts.
std::string worst_pairs_table(const ConfusionMatrix& confusion, const std::vector<std::string>& class_names, size_t n);

}  // namespace escd::train

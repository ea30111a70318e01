// esc-train compare's output: one self-contained HTML page (inline CSS and SVG, no scripts, nothing
// fetched) and a Markdown summary table for the README, from a Comparison (comparison.h). No torch.
#pragma once

#include <string>

#include "comparison.h"

namespace escd::train {

// Summary table (accuracy with its interval, CV, parameters, FLOPs per window, training time, escd
// CPU and latency), accuracy vs cost, room conditions, the classes where the models differ most,
// accuracy per class, the most confused pairs and the confusion heat map of the last column (the
// ensemble when there is one). Three SVG plots. Figures nobody measured read "not measured".
std::string render_comparison_html(const Comparison& comparison);

// The summary table as Markdown, with the fold, the number of clips and how the page was made.
std::string render_comparison_markdown(const Comparison& comparison);

}  // namespace escd::train

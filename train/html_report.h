// esc-train report: one self-contained HTML page (inline SVG, no scripts, no network) with the
// loss, accuracy and learning-rate curves, the confusion matrix and the worst-confused pairs.
#pragma once

#include <string>

namespace escd::train {

// Reads <run_dir>/metrics.jsonl (and final.json when present); returns the HTML text. The page
// names the run by the directory's own name only, never by its path.
// Throws std::runtime_error naming the file when metrics are missing or unreadable.
std::string render_report(const std::string& run_dir);

}  // namespace escd::train

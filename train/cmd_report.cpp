// esc-train report <run dir>: writes <run dir>/report.html (see html_report.h).
#include <spdlog/spdlog.h>

#include <memory>

#include "commands.h"
#include "html_report.h"
#include "util/atomic_file.h"

namespace escd::train {

std::function<int()> add_report_command(CLI::App& app) {
  auto run_dir = std::make_shared<std::string>();
  auto out = std::make_shared<std::string>();
  CLI::App* cmd = app.add_subcommand("report", "Write an HTML report (curves, confusion matrix) of a run");
  cmd->add_option("run_dir", *run_dir, "Run directory of esc-train fit")->required();
  cmd->add_option("--out", *out, "Output file (default <run_dir>/report.html)");
  return [run_dir, out] {
    const std::string path = out->empty() ? *run_dir + "/report.html" : *out;
    write_file_atomic(path, render_report(*run_dir));
    spdlog::info("wrote {}", path);
    return 0;
  };
}

}  // namespace escd::train

// esc-train: offline tools for escd: train, evaluate, report, compare models, inspect features and the dataset.
#include <spdlog/spdlog.h>

#include <exception>
#include <map>

#include "commands.h"
#include "invocation.h"

int main(int argc, char** argv) {
  CLI::App app{"esc-train: train and evaluate escd's environmental-sound models on ESC-50 or your own sounds"};
  app.require_subcommand(1);
  const std::map<std::string, std::function<int()>> actions = {
      {"fit", escd::train::add_fit_command(app)},
      {"pretrain", escd::train::add_pretrain_command(app)},
      {"eval", escd::train::add_eval_command(app)},
      {"report", escd::train::add_report_command(app)},
      {"compare", escd::train::add_compare_command(app)},
      {"features", escd::train::add_features_command(app)},
      {"dataset", escd::train::add_dataset_command(app)},
  };
  CLI11_PARSE(app, argc, argv);
  escd::train::set_invocation(argc, argv);
  try {
    for (CLI::App* sub : app.get_subcommands()) return actions.at(sub->get_name())();
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  return 2;
}

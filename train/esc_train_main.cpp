// esc-train: offline tools for escd: features, dataset checks (and training, evaluation, reports).
#include <spdlog/spdlog.h>

#include <exception>
#include <vector>

#include "commands.h"

int main(int argc, char** argv) {
  CLI::App app{"esc-train: train and evaluate escd's environmental-sound models on ESC-50"};
  app.require_subcommand(1);
  std::vector<std::pair<CLI::App*, std::function<int()>>> commands;
  const std::function<int()> features = escd::train::add_features_command(app);
  const std::function<int()> dataset = escd::train::add_dataset_command(app);
  CLI11_PARSE(app, argc, argv);
  try {
    for (CLI::App* sub : app.get_subcommands()) {
      if (sub->get_name() == "features") return features();
      if (sub->get_name() == "dataset") return dataset();
    }
  } catch (const std::exception& e) {
    spdlog::error("{}", e.what());
    return 1;
  }
  return 2;
}

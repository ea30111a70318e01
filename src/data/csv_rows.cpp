#include "data/csv_rows.h"

#include <csv.h>

#include <algorithm>
#include <fstream>
#include <iterator>

#include "data/clip_index.h"

namespace escd {
namespace {

// Collects rows from libcsv's callbacks.
struct CsvRows {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> current;
  static void on_field(void* field, size_t size, void* self) {
    static_cast<CsvRows*>(self)->current.emplace_back(static_cast<const char*>(field), size);
  }
  static void on_row_end(int, void* self) {
    auto* me = static_cast<CsvRows*>(self);
    me->rows.push_back(std::move(me->current));
    me->current.clear();
  }
};

}  // namespace

int csv_int_field(const std::string& text, const std::string& where, const std::string& field, int lo, int hi) {
  int value = 0;
  size_t used = 0;
  try {
    value = std::stoi(text, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used == 0 || used != text.size() || value < lo || value > hi) {
    throw DatasetError(where + ": field '" + field + "': expected an integer " + std::to_string(lo) + ".." +
                       std::to_string(hi) + ", got '" + text + "'");
  }
  return value;
}

std::vector<std::vector<std::string>> read_csv_rows(const std::string& path, const std::string& what_file) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw DatasetError(path + ": cannot open (" + what_file + ")");
  const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  csv_parser parser;
  if (csv_init(&parser, CSV_STRICT | CSV_STRICT_FINI) != 0) throw DatasetError(path + ": csv_init failed");
  CsvRows rows;
  const size_t used = csv_parse(&parser, text.data(), text.size(), CsvRows::on_field, CsvRows::on_row_end, &rows);
  if (used != text.size() || csv_fini(&parser, CsvRows::on_field, CsvRows::on_row_end, &rows) != 0) {
    const std::string why = csv_strerror(csv_error(&parser));
    const auto line = 1 + std::count(text.begin(), text.begin() + std::min(used, text.size()), '\n');
    csv_free(&parser);
    throw DatasetError(path + ":" + std::to_string(line) + ": malformed CSV: " + why);
  }
  csv_free(&parser);
  return std::move(rows.rows);
}

}  // namespace escd

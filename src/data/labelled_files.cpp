#include "data/labelled_files.h"

#include <algorithm>
#include <filesystem>
#include <map>

#include "data/clip_index.h"
#include "data/csv_rows.h"

namespace escd {
namespace {

namespace fs = std::filesystem;

bool is_hidden(const fs::path& p) { return !p.filename().empty() && p.filename().string().front() == '.'; }

// Column positions of a labelled CSV: from its header row when it has one, else file,label[,fold].
struct Columns {
  size_t file = 0, label = 1, fold = std::string::npos;
  bool header = false;
};

Columns find_columns(const std::vector<std::string>& first, const std::string& csv_path) {
  Columns c;
  std::map<std::string, size_t> named;
  for (size_t i = 0; i < first.size(); ++i) named[first[i]] = i;
  const auto position = [&](std::initializer_list<const char*> names) {
    for (const char* n : names) {
      if (named.count(n)) return named[n];
    }
    return std::string::npos;
  };
  const size_t file = position({"file", "filename", "path"});
  if (file == std::string::npos) {
    if (first.size() < 2 || first.size() > 3) {
      throw DatasetError(csv_path + ":1: expected file,label[,fold] (or a header row naming them), got " +
                         std::to_string(first.size()) + " field(s)");
    }
    if (first.size() == 3) c.fold = 2;
    return c;
  }
  c.header = true;
  c.file = file;
  c.label = position({"label", "category", "class"});
  if (c.label == std::string::npos) throw DatasetError(csv_path + ":1: header has a file column but no 'label' column");
  c.fold = position({"fold"});
  return c;
}

}  // namespace

std::vector<LabelledFile> list_class_folders(const std::string& dir) {
  std::vector<LabelledFile> files;
  std::vector<fs::path> classes;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    std::error_code type_ec;
    if (entry.is_directory(type_ec) && !is_hidden(entry.path())) classes.push_back(entry.path());
  }
  if (ec) throw DatasetError(dir + ": cannot list: " + ec.message());
  if (classes.empty()) {
    throw DatasetError(dir + ": no class folders (expected " + dir +
                       "/<label>/<audio files>, a CSV of file,label[,fold], or ESC-50 with meta/esc50.csv)");
  }
  for (const fs::path& class_dir : classes) {
    const size_t before = files.size();
    for (auto it = fs::recursive_directory_iterator(class_dir, ec); !ec && it != fs::recursive_directory_iterator();
         it.increment(ec)) {
      std::error_code type_ec;
      if (is_hidden(it->path())) {
        if (it->is_directory(type_ec)) it.disable_recursion_pending();
        continue;
      }
      if (!it->is_regular_file(type_ec)) continue;
      LabelledFile f;
      f.path = it->path().string();
      f.name = it->path().lexically_relative(dir).string();
      f.label = class_dir.filename().string();
      files.push_back(std::move(f));
    }
    if (ec) throw DatasetError(class_dir.string() + ": cannot list: " + ec.message());
    if (files.size() == before) throw DatasetError(class_dir.string() + ": class folder without audio files");
  }
  std::sort(files.begin(), files.end(), [](const LabelledFile& a, const LabelledFile& b) { return a.path < b.path; });
  return files;
}

std::vector<LabelledFile> read_labelled_csv(const std::string& csv_path) {
  auto rows = read_csv_rows(csv_path, "a CSV of file,label[,fold]");
  if (rows.empty() || (rows.size() == 1 && rows[0].size() == 1 && rows[0][0].empty())) {
    throw DatasetError(csv_path + ": empty file (expected rows of file,label[,fold])");
  }
  // A spreadsheet's UTF-8 byte order mark is not part of the first field.
  if (!rows[0].empty() && rows[0][0].rfind("\xEF\xBB\xBF", 0) == 0) rows[0][0].erase(0, 3);
  const Columns columns = find_columns(rows[0], csv_path);
  const size_t width = rows[0].size();
  const fs::path base = fs::path(csv_path).parent_path();
  std::vector<LabelledFile> files;
  std::map<std::string, int> line_of;  // each file once: twice could put it in training and test
  for (size_t r = columns.header ? 1 : 0; r < rows.size(); ++r) {
    const auto& row = rows[r];
    const std::string where = csv_path + ":" + std::to_string(r + 1);
    if (row.size() == 1 && row[0].empty()) continue;  // a blank line
    if (row.size() != width) {
      throw DatasetError(where + ": expected " + std::to_string(width) + " fields, got " + std::to_string(row.size()));
    }
    LabelledFile f;
    f.csv_line = static_cast<int>(r + 1);
    f.name = row[columns.file];
    f.label = row[columns.label];
    if (f.name.empty()) throw DatasetError(where + ": field 'file': empty");
    if (f.label.empty()) throw DatasetError(where + ": field 'label': empty");
    if (columns.fold != std::string::npos) f.fold = csv_int_field(row[columns.fold], where, "fold", 1, 5);
    const fs::path path = fs::path(f.name).is_absolute() ? fs::path(f.name) : base / f.name;
    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) throw DatasetError(where + ": " + path.string() + ": no such file");
    f.path = path.lexically_normal().string();
    if (const auto [it, first] = line_of.emplace(f.path, f.csv_line); !first) {
      throw DatasetError(where + ": " + f.path + " is listed again (first on line " + std::to_string(it->second) +
                         "): each file once, with one label and one fold");
    }
    files.push_back(std::move(f));
  }
  if (files.empty()) throw DatasetError(csv_path + ": no rows (expected file,label[,fold])");
  return files;
}

}  // namespace escd

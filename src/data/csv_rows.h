// A CSV file as rows of fields (RFC 4180 quoting, by libcsv), for the dataset readers.
#pragma once

#include <string>
#include <vector>

namespace escd {

// Every row of `path`, a blank line as one empty field. Throws DatasetError naming the file and the
// line of malformed CSV, or `what_file` when it cannot be opened.
std::vector<std::vector<std::string>> read_csv_rows(const std::string& path, const std::string& what_file);

// `text` as an integer in lo..hi; otherwise a DatasetError "<where>: field '<field>': expected ...".
int csv_int_field(const std::string& text, const std::string& where, const std::string& field, int lo, int hi);

}  // namespace escd

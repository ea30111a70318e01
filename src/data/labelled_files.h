// The two ways a user labels their own audio, before it becomes clips (dataset_reader.h):
//   a folder per class:  DIR/<label>/**/<file>   (any file libsndfile opens; hidden files are skipped)
//   a CSV:               file,label[,fold]        (a header row naming the columns is optional; paths
//                                                   relative to the CSV's folder)
#pragma once

#include <string>
#include <vector>

namespace escd {

struct LabelledFile {
  std::string path;   // the audio file
  std::string name;   // its path under the dataset, for reports
  std::string label;
  int fold = 0;       // 1..5 from the CSV's fold column; 0: to be assigned
  int csv_line = 0;   // 0 for folders
};

// Every file under each sub-folder of `dir`, the sub-folder's name as the label, sorted by path.
// Throws DatasetError for a folder without sub-folders, or a class folder without files.
std::vector<LabelledFile> list_class_folders(const std::string& dir);

// The rows of a CSV. Throws DatasetError naming the line of a row with the wrong number of fields,
// an empty file or label, a fold outside 1..5, or a file that does not exist; and for a CSV where
// only some rows have a fold.
std::vector<LabelledFile> read_labelled_csv(const std::string& csv_path);

}  // namespace escd

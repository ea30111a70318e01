#include "models/common/archive_vetting.h"

#include <caffe2/serialize/read_adapter_interface.h>
#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cctype>
#include <cstring>
#include <memory>
#include <sstream>
#include <string_view>
#include <vector>

namespace escd {
namespace {

// The checkpoint's bytes as libtorch's zip reader sees them. libtorch's own MemoryReadAdapter
// copies whatever range it is asked for; on a truncated file the zip reader asks for ranges past
// the end (UBSan's finding), so reads here stop at the end and report how much they gave.
class BoundedMemoryReader final : public caffe2::serialize::ReadAdapterInterface {
 public:
  explicit BoundedMemoryReader(const std::string& bytes) : bytes_(bytes) {}
  size_t size() const override { return bytes_.size(); }
  size_t read(uint64_t pos, void* buf, size_t n, const char* /*what*/) const override {
    return read_archive_bytes(bytes_, pos, buf, n);
  }

 private:
  const std::string& bytes_;
};

// A module path such as p.layers.0.mixer.A_log (dots allowed) or an attribute name (no dots).
bool is_name(std::string_view s, bool dots) {
  if (s.empty() || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
  return std::all_of(s.begin(), s.end(), [dots](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || (dots && c == '.');
  });
}

bool strip(std::string_view& s, std::string_view prefix, std::string_view suffix) {
  if (s.size() < prefix.size() + suffix.size() || s.substr(0, prefix.size()) != prefix ||
      s.substr(s.size() - suffix.size()) != suffix) {
    return false;
  }
  s = s.substr(prefix.size(), s.size() - prefix.size() - suffix.size());
  return true;
}

// The class definition libtorch writes for a torch::serialize::OutputArchive of tensors and
// strings is made of these lines and nothing else. (Hand-matched rather than std::regex:
// libstdc++'s regex recurses per repetition and overflows the stack on a long line.)
bool is_checkpoint_source_line(std::string_view line) {
  if (line == "class Module(Module):") return true;
  std::string_view rest = line;
  if (strip(rest, "  __parameters__ = [", "]") || (rest = line, strip(rest, "  __buffers__ = [", "]"))) {
    while (!rest.empty()) {  // "name", "name", ...
      const size_t end = rest.find("\", ");
      if (rest[0] != '"' || end == std::string_view::npos || !is_name(rest.substr(1, end - 1), true)) return false;
      rest.remove_prefix(end + 3);
    }
    return true;
  }
  rest = line;
  if (strip(rest, "  __annotations__[\"", "\"] = Tensor")) return is_name(rest, true);
  rest = line;
  if (strip(rest, "  ", " : str")) return is_name(rest, false);
  rest = line;
  return strip(rest, "  ", " : Tensor") && is_name(rest, false);
}

}  // namespace

size_t read_archive_bytes(const std::string& bytes, uint64_t pos, void* buf, size_t n) {
  if (pos >= bytes.size()) return 0;
  const size_t count = std::min<uint64_t>(n, bytes.size() - pos);
  std::memcpy(buf, bytes.data() + pos, count);
  return count;
}

void vet_torchscript_source(const std::string& source, const std::string& what) {
  std::istringstream lines(source);
  std::string line;
  for (int number = 1; std::getline(lines, line); ++number) {
    if (!line.empty() && !is_checkpoint_source_line(line)) {
      throw PickleError(what + ":" + std::to_string(number) + ": not a line an escd checkpoint contains: " +
                        line.substr(0, 80));
    }
  }
}

RecordSizes vet_zip_entries(const std::string& bytes, const std::string& path) {
  // libtorch's getRecord allocates the uncompressed size an entry claims before extracting it (the
  // CI fuzz run found a 2 GB claim in a 7 kB file). Each entry's claim is bounded by what it could
  // hold; only the end record and the central directory are read: the zip reader proper is libtorch's.
  const auto* d = reinterpret_cast<const uint8_t*>(bytes.data());
  const size_t n = bytes.size();
  auto fail = [&path](const std::string& why) { throw PickleError(path + ": zip " + why); };
  constexpr size_t kEndRecord = 22, kCentralHeader = 46;
  if (n < kEndRecord) fail("end record missing (file of " + std::to_string(n) + " bytes)");
  size_t end = n - kEndRecord;
  const size_t lowest = n > kEndRecord + 65535 ? n - kEndRecord - 65535 : 0;  // the comment is at most 64 kB
  while (little_endian(d + end, 4) != 0x06054b50) {
    if (end == lowest) fail("end record missing");
    --end;
  }
  const uint64_t entries = little_endian(d + end + 10, 2), directory_size = little_endian(d + end + 12, 4),
                 directory = little_endian(d + end + 16, 4);
  if (directory > end || directory_size > end - directory) fail("central directory outside the file");
  RecordSizes sizes;
  size_t p = directory;
  for (uint64_t i = 0; i < entries; ++i) {
    if (p > end || end - p < kCentralHeader || little_endian(d + p, 4) != 0x02014b50) {
      fail("central directory entry " + std::to_string(i) + " is malformed");
    }
    const uint64_t method = little_endian(d + p + 10, 2), stored = little_endian(d + p + 20, 4),
                   size = little_endian(d + p + 24, 4), local = little_endian(d + p + 42, 4);
    // Stored entries (the tensors) hold their size in the file; libtorch deflates only the small
    // text records (code and debug pickles): at most 16 MiB, and deflate cannot exceed 1032:1.
    const bool stored_ok = method == 0 && stored == size;
    const bool deflated_ok = method == 8 && size <= (16u << 20) && size <= 1032 * stored;
    if (!(stored_ok || deflated_ok) || stored > n || local > n - stored) {
      fail("entry " + std::to_string(i) + " claims " + std::to_string(size) + " bytes (method " + std::to_string(method) +
           ", " + std::to_string(stored) + " stored) in a file of " + std::to_string(n));
    }
    // The name as libtorch's reader looks records up: without the archive's top directory.
    const uint64_t name_length = little_endian(d + p + 28, 2);
    if (name_length > end - p - kCentralHeader) fail("central directory entry " + std::to_string(i) + " is malformed");
    const std::string name(bytes, p + kCentralHeader, name_length);
    const size_t slash = name.find('/');
    if (slash != std::string::npos && !sizes.emplace(name.substr(slash + 1), size).second) {
      fail("has two entries named " + name);
    }
    p += kCentralHeader + name_length + little_endian(d + p + 30, 2) + little_endian(d + p + 32, 2);
  }
  return sizes;
}

void vet_checkpoint_archive(const std::string& bytes, const std::string& path) {
  const RecordSizes sizes = vet_zip_entries(bytes, path);
  std::unique_ptr<caffe2::serialize::PyTorchStreamReader> reader;
  std::vector<std::string> records;
  try {
    reader = std::make_unique<caffe2::serialize::PyTorchStreamReader>(
        std::make_shared<BoundedMemoryReader>(bytes));
    records = reader->getAllRecords();
  } catch (const std::exception& e) {
    const std::string why = e.what();
    throw PickleError(path + ": not a readable zip container: " + why.substr(0, why.find('\n')));
  }
  auto ends_with = [](const std::string& name, const std::string& suffix) {
    return name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
  };
  for (const std::string& name : records) {
    const bool pickle = ends_with(name, "pkl");  // data.pkl, constants.pkl, __torch__.py.debug_pkl
    const bool source = ends_with(name, ".py");
    if (!pickle && !source) continue;
    if (source && name != "code/__torch__.py") {
      throw PickleError(path + ": unexpected TorchScript source " + name + " (escd checkpoints have code/__torch__.py only)");
    }
    at::DataPtr data;
    size_t size = 0;
    try {
      std::tie(data, size) = reader->getRecord(name);
    } catch (const std::exception& e) {
      const std::string why = e.what();
      throw PickleError(path + ": record " + name + " is unreadable: " + why.substr(0, why.find('\n')));
    }
    if (pickle) {
      vet_pickle(static_cast<const uint8_t*>(data.get()), size, path + ": " + name, sizes);
    } else {
      vet_torchscript_source(std::string(static_cast<const char*>(data.get()), size), path + ": " + name);
    }
  }
}

}  // namespace escd

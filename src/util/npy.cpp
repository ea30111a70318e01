#include "util/npy.h"

#include <cstring>
#include <fstream>
#include <iterator>
#include <regex>
#include <sstream>
#include <stdexcept>

#include "util/atomic_file.h"

namespace escd {
namespace {

constexpr char kMagic[] = "\x93NUMPY";
constexpr size_t kMagicLen = 6;

std::string shape_tuple(const std::vector<int64_t>& shape) {
  std::ostringstream s;
  s << "(";
  for (size_t i = 0; i < shape.size(); ++i) s << shape[i] << (shape.size() == 1 || i + 1 < shape.size() ? "," : "");
  s << ")";
  return s.str();
}

}  // namespace

void write_npy(const std::string& path, const float* data, const std::vector<int64_t>& shape) {
  int64_t count = 1;
  for (int64_t d : shape) count *= d;
  std::string header = "{'descr': '<f4', 'fortran_order': False, 'shape': " + shape_tuple(shape) + ", }";
  // Pad with spaces so that magic + version + length + header + '\n' is a multiple of 64 bytes.
  const size_t unpadded = kMagicLen + 2 + 2 + header.size() + 1;
  header.append((64 - unpadded % 64) % 64, ' ');
  header.push_back('\n');

  std::string file(kMagic, kMagicLen);
  file.push_back('\x01');
  file.push_back('\x00');
  const auto len = static_cast<uint16_t>(header.size());
  file.push_back(static_cast<char>(len & 0xff));
  file.push_back(static_cast<char>(len >> 8));
  file += header;
  file.append(reinterpret_cast<const char*>(data), static_cast<size_t>(count) * sizeof(float));
  write_file_atomic(path, file);
}

NpyArray read_npy(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error(path + ": cannot open");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto bad = [&](const std::string& why) { return std::runtime_error(path + ": not a float32 .npy file: " + why); };
  if (bytes.size() < 10 || bytes.compare(0, kMagicLen, kMagic, kMagicLen) != 0) throw bad("missing magic");
  if (bytes[6] != 1) throw bad("unsupported format version " + std::to_string(int(bytes[6])));
  const size_t header_len = static_cast<uint8_t>(bytes[8]) | (static_cast<uint8_t>(bytes[9]) << 8);
  if (bytes.size() < 10 + header_len) throw bad("header runs past the end of the file");
  const std::string header = bytes.substr(10, header_len);
  if (header.find("'descr': '<f4'") == std::string::npos) throw bad("dtype is not '<f4'");
  if (header.find("'fortran_order': False") == std::string::npos) throw bad("Fortran order");
  std::smatch m;
  if (!std::regex_search(header, m, std::regex(R"('shape':\s*\(([^)]*)\))"))) throw bad("no shape");
  NpyArray array;
  int64_t count = 1;
  std::stringstream dims(m[1].str());
  for (std::string d; std::getline(dims, d, ',');) {
    if (d.find_first_not_of(' ') == std::string::npos) continue;
    array.shape.push_back(std::stoll(d));
    count *= array.shape.back();
  }
  const size_t payload = bytes.size() - 10 - header_len;
  if (payload != static_cast<size_t>(count) * sizeof(float)) {
    throw bad("payload is " + std::to_string(payload) + " bytes, shape needs " + std::to_string(count * 4));
  }
  array.data.resize(static_cast<size_t>(count));
  std::memcpy(array.data.data(), bytes.data() + 10 + header_len, payload);
  return array;
}

}  // namespace escd

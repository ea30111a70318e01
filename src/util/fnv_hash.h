// FNV-1a 64-bit: a fast fingerprint to tell files and datasets apart (not a security hash).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <fstream>
#include <string>

namespace escd {

class Fnv1a {
 public:
  void feed(const void* data, size_t n) {
    const auto* bytes = static_cast<const unsigned char*>(data);
    for (size_t i = 0; i < n; ++i) hash_ = (hash_ ^ bytes[i]) * 1099511628211ULL;
  }
  uint64_t value() const { return hash_; }
  std::string hex() const {
    char out[17];
    std::snprintf(out, sizeof(out), "%016llx", static_cast<unsigned long long>(hash_));
    return out;
  }

 private:
  uint64_t hash_ = 1469598103934665603ULL;
};

// FNV-1a of a file's bytes as 16 hex digits, read in 64 KiB blocks: tells checkpoint files apart
// (escd's health reports, esc-train's resume check on teachers). An unreadable file hashes as empty.
inline std::string file_fingerprint(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  Fnv1a hash;
  char buf[1 << 16];
  while (in.read(buf, sizeof(buf)) || in.gcount() > 0) hash.feed(buf, static_cast<size_t>(in.gcount()));
  return hash.hex();
}

}  // namespace escd

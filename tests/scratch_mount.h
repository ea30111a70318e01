// A small tmpfs mounted for one test: a disk that fills up after a few KB, or one that is read-only.
// Needs root (CAP_SYS_ADMIN); tests call available() and skip, saying why, when mounting is refused.
#pragma once

#include <sys/mount.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace escd::test {

class ScratchMount {
 public:
  ScratchMount(const std::string& path, const std::string& size) : path_(path) {
    std::filesystem::create_directories(path);
    if (::mount("tmpfs", path.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, ("size=" + size + ",mode=0755").c_str()) != 0) {
      error_ = std::string("mount -t tmpfs ") + path + ": " + std::strerror(errno);
    }
  }
  ~ScratchMount() {
    if (error_.empty()) ::umount2(path_.c_str(), MNT_DETACH);
  }
  ScratchMount(const ScratchMount&) = delete;
  ScratchMount& operator=(const ScratchMount&) = delete;

  bool available() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // Read-only from now on (what a full root-owned disk or a read-only bind looks like even to root,
  // who ignores permission bits).
  bool make_read_only() {
    return ::mount(nullptr, path_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV, nullptr) == 0;
  }

  // Fills the file system, then gives back `leave_free` bytes: the next larger write hits ENOSPC.
  void fill(size_t leave_free) {
    const std::string filler = path_ + "/.filler";
    {
      std::ofstream out(filler, std::ios::binary);
      const std::vector<char> block(1 << 16, 'x');
      while (out.write(block.data(), static_cast<std::streamsize>(block.size()))) {
      }
    }
    const auto size = std::filesystem::file_size(filler);
    std::filesystem::resize_file(filler, size > leave_free ? size - leave_free : 0);
  }

 private:
  std::string path_, error_;
};

}  // namespace escd::test

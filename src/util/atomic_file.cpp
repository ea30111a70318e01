#include "util/atomic_file.h"

#include <fcntl.h>
#include <stdio.h>  // renameat2
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <stdexcept>

namespace escd {
namespace {

// mkstemp replaces the six X's with letters and digits.
constexpr std::string_view kTemporaryMarker = ".tmp.";
constexpr std::string_view kTemporaryUnique = "XXXXXX";

[[noreturn]] void fail(const std::string& path, const std::string& what, int err) {
  throw std::runtime_error(path + ": " + what + ": " + std::strerror(err));
}

}  // namespace

AtomicFile::AtomicFile(std::string path)
    : path_(std::move(path)), temporary_(path_ + std::string(kTemporaryMarker) + std::string(kTemporaryUnique)) {
  fd_ = mkstemp(temporary_.data());
  if (fd_ < 0) fail(path_, "cannot create a temporary file beside it", errno);
}

AtomicFile::~AtomicFile() {
  if (fd_ < 0) return;
  ::close(fd_);
  ::unlink(temporary_.c_str());
}

void AtomicFile::abandon(const std::string& what) {
  const int err = errno;
  ::close(fd_);
  fd_ = -1;
  ::unlink(temporary_.c_str());
  fail(path_, what, err);
}

void AtomicFile::write(std::string_view data) {
  size_t written = 0;
  while (written < data.size()) {
    const ssize_t n = ::write(fd_, data.data() + written, data.size() - written);
    if (n < 0) {
      if (errno == EINTR) continue;
      abandon("write failed");
    }
    written += static_cast<size_t>(n);
  }
}

void AtomicFile::commit(unsigned mode, Replace replace) {
  if (::fchmod(fd_, static_cast<mode_t>(mode)) != 0) abandon("chmod failed");
  if (::fsync(fd_) != 0) abandon("fsync failed");
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) {
    const int err = errno;
    ::unlink(temporary_.c_str());
    fail(path_, "close failed", err);
  }
  const int renamed = replace == Replace::kAlways
                          ? ::rename(temporary_.c_str(), path_.c_str())
                          : ::renameat2(AT_FDCWD, temporary_.c_str(), AT_FDCWD, path_.c_str(), RENAME_NOREPLACE);
  if (renamed != 0) {
    const int err = errno;
    ::unlink(temporary_.c_str());
    fail(path_, "rename into place failed", err);
  }
  // Make the rename itself durable.
  const auto dir = std::filesystem::path(path_).parent_path();
  const int dfd = ::open(dir.empty() ? "." : dir.c_str(), O_RDONLY | O_DIRECTORY);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
}

void write_file_atomic(const std::string& path, std::string_view data, unsigned mode) {
  AtomicFile file(path);
  file.write(data);
  file.commit(mode);
}

std::optional<std::string> atomic_temporary_destination(std::string_view file_name) {
  const size_t suffix = kTemporaryMarker.size() + kTemporaryUnique.size();
  if (file_name.size() <= suffix) return std::nullopt;
  const std::string_view destination = file_name.substr(0, file_name.size() - suffix);
  const std::string_view marker = file_name.substr(destination.size(), kTemporaryMarker.size());
  const std::string_view unique = file_name.substr(file_name.size() - kTemporaryUnique.size());
  const bool unique_is_alphanumeric =
      std::all_of(unique.begin(), unique.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)); });
  if (marker != kTemporaryMarker || !unique_is_alphanumeric) return std::nullopt;
  return std::string(destination);
}

}  // namespace escd

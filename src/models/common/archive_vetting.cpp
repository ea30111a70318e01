#include "models/common/archive_vetting.h"

#include <caffe2/serialize/read_adapter_interface.h>
#include <caffe2/serialize/inline_container.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <memory>
#include <cctype>
#include <string_view>
#include <sstream>
#include <vector>

namespace escd {
namespace {

// How an opcode's argument is laid out (pickletools' argument descriptors, protocols 0-4).
enum class Arg {
  kNone,
  kFixed,          // `width` bytes
  kCounted,        // a little-endian length of `width` bytes, then that many bytes
  kLine,           // bytes up to and including a newline
  kTwoLines,       // two such lines (GLOBAL, INST)
  kMemoIndex,      // a little-endian memo index of `width` bytes (BINPUT, LONG_BINPUT)
  kFrame,          // an 8-byte frame length: the frame must fit in the rest of the record
};

struct OpcodeShape {
  Arg arg = Arg::kNone;
  int width = 0;
  bool known = false;
};

// Indexed by the opcode byte.
std::vector<OpcodeShape> opcode_shapes() {
  std::vector<OpcodeShape> t(256);
  auto set = [&t](int op, Arg arg, int width = 0) { t[static_cast<size_t>(op)] = {arg, width, true}; };
  for (const unsigned char op : std::string("(.012NQRabd}el]ost)u")) set(op, Arg::kNone);
  for (const int op : {0x81, 0x85, 0x86, 0x87, 0x88, 0x89, 0x8f, 0x90, 0x91, 0x92, 0x93, 0x94}) set(op, Arg::kNone);
  set('J', Arg::kFixed, 4);   // BININT
  set('K', Arg::kFixed, 1);   // BININT1
  set('M', Arg::kFixed, 2);   // BININT2
  set('G', Arg::kFixed, 8);   // BINFLOAT
  set(0x80, Arg::kFixed, 1);  // PROTO
  set(0x82, Arg::kFixed, 1);  // EXT1
  set(0x83, Arg::kFixed, 2);  // EXT2
  set(0x84, Arg::kFixed, 4);  // EXT4
  set('h', Arg::kFixed, 1);   // BINGET: libtorch bounds-checks reads from the memo
  set('j', Arg::kFixed, 4);   // LONG_BINGET
  set('q', Arg::kMemoIndex, 1);  // BINPUT
  set('r', Arg::kMemoIndex, 4);  // LONG_BINPUT
  set('U', Arg::kCounted, 1);    // SHORT_BINSTRING
  set('T', Arg::kCounted, 4);    // BINSTRING
  set('X', Arg::kCounted, 4);    // BINUNICODE
  set(0x8c, Arg::kCounted, 1);   // SHORT_BINUNICODE
  set(0x8d, Arg::kCounted, 8);   // BINUNICODE8
  set('C', Arg::kCounted, 1);    // SHORT_BINBYTES
  set('B', Arg::kCounted, 4);    // BINBYTES
  set(0x8e, Arg::kCounted, 8);   // BINBYTES8
  set(0x8a, Arg::kCounted, 1);   // LONG1
  set(0x8b, Arg::kCounted, 4);   // LONG4
  set(0x95, Arg::kFrame, 8);     // FRAME
  for (const unsigned char op : std::string("FILPSVgp")) set(op, Arg::kLine);
  set('c', Arg::kTwoLines);  // GLOBAL
  set('i', Arg::kTwoLines);  // INST
  return t;
}

uint64_t little_endian(const uint8_t* p, int width) {
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

std::string describe(const std::string& what, size_t offset, uint8_t op) {
  char buf[64];
  std::snprintf(buf, sizeof buf, " at byte %zu (opcode 0x%02x)", offset, static_cast<unsigned>(op));
  return what + buf;
}

// How an opcode changes the unpickler's stack: it needs `pop` items above the innermost mark (and
// leaves `push` in their place), or it works on the items above the mark. libtorch's unpickler
// trusts the stack to hold what an opcode takes (fuzz_checkpoint found BUILD on a one-item stack
// freeing memory it did not own), so the walk below counts the stack as the unpickler would.
struct StackEffect {
  enum Kind { kFixed, kMark, kToMarkPushOne, kToMarkIntoContainer, kPopMark } kind = kFixed;
  int pop = 0, push = 0;
};

StackEffect stack_effect(uint8_t op) {
  switch (op) {
    case '(': return {StackEffect::kMark};
    case 't': case 'l': case 'd': case 0x91: case 'i': case 'o':  // TUPLE LIST DICT FROZENSET INST OBJ
      return {StackEffect::kToMarkPushOne};
    case 'e': case 'u': case 0x90:  // APPENDS SETITEMS ADDITEMS: into the container below the mark
      return {StackEffect::kToMarkIntoContainer};
    case '1': return {StackEffect::kPopMark};  // POP_MARK
    case '0': return {StackEffect::kFixed, 1, 0};  // POP
    case '2': return {StackEffect::kFixed, 1, 2};  // DUP
    case 'p': case 'q': case 'r': case 0x94:  // PUT BINPUT LONG_BINPUT MEMOIZE read the top
    case 0x85: case 'Q': case 0x98:  // TUPLE1 BINPERSID READONLY_BUFFER
      return {StackEffect::kFixed, 1, 1};
    case 0x86: case 'R': case 'b': case 0x81: case 0x93: case 'a':  // TUPLE2 REDUCE BUILD NEWOBJ STACK_GLOBAL APPEND
      return {StackEffect::kFixed, 2, 1};
    case 0x87: case 's': case 0x92:  // TUPLE3 SETITEM NEWOBJ_EX
      return {StackEffect::kFixed, 3, 1};
    case 0x80: case 0x95: return {StackEffect::kFixed, 0, 0};  // PROTO FRAME
    case '.': return {StackEffect::kFixed, 1, 0};  // STOP returns the top
    default: return {StackEffect::kFixed, 0, 1};  // every other opcode pushes one value
  }
}

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

void vet_pickle(const uint8_t* data, size_t size, const std::string& what) {
  static const std::vector<OpcodeShape> shapes = opcode_shapes();
  size_t pos = 0;
  int64_t depth = 0;                  // items above the innermost mark
  std::vector<int64_t> marks;         // depth below each open mark
  while (pos < size) {
    const size_t at = pos;
    const uint8_t op = data[pos++];
    const OpcodeShape& shape = shapes[op];
    const size_t left = size - pos;
    auto fail = [&](const std::string& why) { throw PickleError(describe(what, at, op) + ": " + why); };
    if (!shape.known) fail("not a pickle opcode");
    switch (shape.arg) {
      case Arg::kNone:
        break;
      case Arg::kFixed:
        if (left < size_t(shape.width)) fail("argument runs past the end of the record");
        pos += shape.width;
        break;
      case Arg::kMemoIndex: {
        if (left < size_t(shape.width)) fail("argument runs past the end of the record");
        const uint64_t index = little_endian(data + pos, shape.width);
        // Every memo entry in a real pickle costs at least one opcode byte before it, so an index
        // beyond the record size cannot come from a writer; libtorch would reserve a table that large.
        if (index > size) fail("memo index " + std::to_string(index) + " in a record of " + std::to_string(size) + " bytes");
        pos += shape.width;
        break;
      }
      case Arg::kCounted:
      case Arg::kFrame: {
        if (left < size_t(shape.width)) fail("length runs past the end of the record");
        const uint64_t length = little_endian(data + pos, shape.width);
        pos += shape.width;
        if (length > size - pos) {
          fail("claims " + std::to_string(length) + " bytes, the record has " + std::to_string(size - pos) + " left");
        }
        if (shape.arg == Arg::kCounted) pos += length;  // a frame's contents are opcodes: walk them
        break;
      }
      case Arg::kLine:
      case Arg::kTwoLines:
        for (int line = 0; line < (shape.arg == Arg::kTwoLines ? 2 : 1); ++line) {
          const void* nl = std::memchr(data + pos, '\n', size - pos);
          if (nl == nullptr) fail("text argument without a newline before the end of the record");
          pos = static_cast<size_t>(static_cast<const uint8_t*>(nl) - data) + 1;
        }
        break;
    }
    const StackEffect effect = stack_effect(op);
    switch (effect.kind) {
      case StackEffect::kMark:
        marks.push_back(depth);
        depth = 0;
        break;
      case StackEffect::kToMarkPushOne:
      case StackEffect::kToMarkIntoContainer:
      case StackEffect::kPopMark:
        if (marks.empty()) fail("needs a MARK and there is none");
        depth = marks.back();
        marks.pop_back();
        if (effect.kind == StackEffect::kToMarkPushOne) ++depth;
        if (effect.kind == StackEffect::kToMarkIntoContainer && depth < 1) fail("no container below the MARK");
        break;
      case StackEffect::kFixed:
        if (depth < effect.pop) {
          fail("takes " + std::to_string(effect.pop) + " stack item(s), " + std::to_string(depth) + " above the last MARK");
        }
        depth += effect.push - effect.pop;
        break;
    }
    if (op == '.') return;  // STOP: anything after it is never read
  }
  throw PickleError(what + ": no STOP opcode (truncated pickle)");
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

void vet_zip_entries(const std::string& bytes, const std::string& path) {
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
    p += kCentralHeader + little_endian(d + p + 28, 2) + little_endian(d + p + 30, 2) + little_endian(d + p + 32, 2);
  }
}

void vet_checkpoint_archive(const std::string& bytes, const std::string& path) {
  vet_zip_entries(bytes, path);
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
      vet_pickle(static_cast<const uint8_t*>(data.get()), size, path + ": " + name);
    } else {
      vet_torchscript_source(std::string(static_cast<const char*>(data.get()), size), path + ": " + name);
    }
  }
}

}  // namespace escd

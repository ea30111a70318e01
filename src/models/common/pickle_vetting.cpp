#include "models/common/pickle_vetting.h"

#include <algorithm>
#include <cstdio>
#include <iterator>
#include <cstring>
#include <unordered_map>
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
  kMemoIndex,      // a little-endian memo index of `width` bytes (BINGET, BINPUT and their LONG_ forms)
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
  set('h', Arg::kMemoIndex, 1);  // BINGET
  set('j', Arg::kMemoIndex, 4);  // LONG_BINGET
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

// What the walk knows of a stack item: the short strings, integers and small flat tuples a storage
// reference is made of, and nothing else, so that copies through the memo stay cheap.
struct Value {
  enum class Kind : uint8_t { other, text, integer, tuple } kind = Kind::other;
  std::string text;          // a string, or a GLOBAL as "module name"
  int64_t integer = 0;
  std::vector<Value> items;  // a tuple of at most kMaxTupleItems strings and integers
};

constexpr size_t kMaxText = 64;       // storage keys, 'storage', locations and class names are short
constexpr size_t kMaxTupleItems = 5;  // ('storage', type, key, location, count)
// Far beyond any checkpoint (data.pkl of a 100-tensor model: a few hundred items and memo entries);
// each modelled item costs tens of bytes, so a pickle of pushes cannot make the walk itself huge.
constexpr size_t kMaxStackItems = size_t(1) << 20;
constexpr size_t kMaxMemoEntries = size_t(1) << 20;

Value text_value(const uint8_t* p, uint64_t n) {
  Value v;
  if (n <= kMaxText) {
    v.kind = Value::Kind::text;
    v.text.assign(reinterpret_cast<const char*>(p), n);
  }
  return v;
}

Value integer_value(int64_t x) {
  Value v;
  v.kind = Value::Kind::integer;
  v.integer = x;
  return v;
}

Value tuple_value(std::vector<Value>::iterator first, std::vector<Value>::iterator last) {
  Value v;
  const bool flat = std::all_of(first, last, [](const Value& item) {
    return item.kind == Value::Kind::text || item.kind == Value::Kind::integer;
  });
  if (flat && size_t(last - first) <= kMaxTupleItems) {
    v.kind = Value::Kind::tuple;
    v.items.assign(std::make_move_iterator(first), std::make_move_iterator(last));
  }
  return v;
}

// A decimal memo index on a text line (PUT, GET), or -1.
int64_t line_index(const uint8_t* p, size_t n) {
  int64_t x = 0;
  if (n == 0 || n > 12) return -1;
  for (size_t i = 0; i < n; ++i) {
    if (p[i] < '0' || p[i] > '9') return -1;
    x = x * 10 + (p[i] - '0');
  }
  return x;
}

// Element sizes of the storage classes libtorch's pickler names.
uint64_t storage_element_size(const std::string& global) {
  static const std::map<std::string, uint64_t> sizes = {
      {"torch FloatStorage", 4},  {"torch DoubleStorage", 8}, {"torch HalfStorage", 2},
      {"torch BFloat16Storage", 2}, {"torch LongStorage", 8},  {"torch IntStorage", 4},
      {"torch ShortStorage", 2},  {"torch CharStorage", 1},   {"torch ByteStorage", 1},
      {"torch BoolStorage", 1},   {"torch ComplexFloatStorage", 8}, {"torch ComplexDoubleStorage", 16}};
  const auto it = sizes.find(global);
  return it == sizes.end() ? 0 : it->second;
}

// Why a BINPERSID argument is not a storage reference the records back, or "" when it is.
std::string storage_reference_problem(const Value& ref, const RecordSizes& records) {
  const auto is = [&ref](size_t i, Value::Kind kind) { return ref.items[i].kind == kind; };
  if (ref.kind != Value::Kind::tuple || ref.items.size() != 5 || !is(0, Value::Kind::text) ||
      ref.items[0].text != "storage" || !is(1, Value::Kind::text) || !is(2, Value::Kind::text) ||
      !is(3, Value::Kind::text) || !is(4, Value::Kind::integer)) {
    return "persistent reference is not ('storage', type, key, location, element count)";
  }
  const uint64_t element = storage_element_size(ref.items[1].text);
  if (element == 0) return "storage type '" + ref.items[1].text + "' is not one libtorch writes";
  const std::string record = "data/" + ref.items[2].text;
  const auto it = records.find(record);
  if (it == records.end()) return "storage '" + ref.items[2].text + "' has no record " + record;
  const int64_t count = ref.items[4].integer;
  // Exactly the record: libtorch makes a storage of count x element bytes over the record's buffer.
  if (count < 0 || uint64_t(count) > it->second / element || uint64_t(count) * element != it->second) {
    return "storage '" + ref.items[2].text + "' claims " + std::to_string(count) + " element(s) of " +
           std::to_string(element) + " bytes, record " + record + " holds " + std::to_string(it->second) + " bytes";
  }
  return "";
}

// The walk's state: where it is in the record, and the Unpickler's stack, marks and memo as far as
// the walk models them.
struct PickleWalk {
  PickleWalk(const uint8_t* d, size_t n, const RecordSizes& r) : data(d), size(n), records(r) {}

  const uint8_t* data;
  size_t size;
  const RecordSizes& records;
  size_t pos = 0;
  std::vector<Value> stack;
  std::vector<size_t> marks;  // stack size at each open mark
  std::unordered_map<uint64_t, Value> memo;

  size_t mark_base() const { return marks.empty() ? 0 : marks.back(); }
};

// The opcode being walked and its argument as read from the record.
struct Instruction {
  Instruction(const std::string& w, size_t offset, uint8_t code, const OpcodeShape& s)
      : what(w), at(offset), op(code), shape(s) {}

  const std::string& what;  // the record, for errors
  size_t at;                // the opcode's offset
  uint8_t op;
  const OpcodeShape& shape;
  const uint8_t* arg = nullptr;    // the argument (after a count, for counted ones) and its size
  uint64_t arg_size = 0;
  uint64_t binary_memo_index = 0;  // a kMemoIndex argument, decoded once

  [[noreturn]] void fail(const std::string& why) const { throw PickleError(describe(what, at, op) + ": " + why); }
};

// Reads the opcode's argument as its shape says, checking that it fits in the record, and moves the
// walk past it (but into a frame: its contents are opcodes).
void read_argument(PickleWalk& w, Instruction& in) {
  const size_t left = w.size - w.pos;
  const int width = in.shape.width;
  in.arg = w.data + w.pos;
  switch (in.shape.arg) {
    case Arg::kNone:
      break;
    case Arg::kFixed:
      if (left < size_t(width)) in.fail("argument runs past the end of the record");
      in.arg_size = width;
      w.pos += width;
      break;
    case Arg::kMemoIndex:
      if (left < size_t(width)) in.fail("argument runs past the end of the record");
      in.binary_memo_index = little_endian(w.data + w.pos, width);
      // Every memo entry in a real pickle costs at least one opcode byte before it, so an index
      // beyond the record size cannot come from a writer; libtorch would reserve a table that large
      // for a PUT (and a GET of it names nothing).
      if (in.binary_memo_index > w.size) {
        in.fail("memo index " + std::to_string(in.binary_memo_index) + " in a record of " + std::to_string(w.size) +
                " bytes");
      }
      in.arg_size = width;
      w.pos += width;
      break;
    case Arg::kCounted:
    case Arg::kFrame: {
      if (left < size_t(width)) in.fail("length runs past the end of the record");
      const uint64_t length = little_endian(w.data + w.pos, width);
      w.pos += width;
      if (length > w.size - w.pos) {
        in.fail("claims " + std::to_string(length) + " bytes, the record has " + std::to_string(w.size - w.pos) + " left");
      }
      in.arg = w.data + w.pos;
      in.arg_size = length;
      if (in.shape.arg == Arg::kCounted) w.pos += length;  // a frame's contents are opcodes: walk them
      break;
    }
    case Arg::kLine:
    case Arg::kTwoLines:
      for (int line = 0; line < (in.shape.arg == Arg::kTwoLines ? 2 : 1); ++line) {
        const void* nl = std::memchr(w.data + w.pos, '\n', w.size - w.pos);
        if (nl == nullptr) in.fail("text argument without a newline before the end of the record");
        w.pos = static_cast<size_t>(static_cast<const uint8_t*>(nl) - w.data) + 1;
      }
      in.arg_size = w.pos - (in.at + 1);  // the line(s), newlines included
      break;
  }
}

// The memo slot a GET or a PUT names: the binary forms carry it (checked by read_argument), GET and
// PUT as a decimal line, and MEMOIZE takes the next one.
int64_t memo_slot(const PickleWalk& w, const Instruction& in) {
  if (in.op == 0x94) return int64_t(w.memo.size());
  if (in.op == 'g' || in.op == 'p') return line_index(in.arg, in.arg_size - 1);
  return int64_t(in.binary_memo_index);
}

// What a one-item push leaves, when the walk can tell: strings, integers, a GLOBAL's name, a memo
// entry.
Value pushed_value(const PickleWalk& w, const Instruction& in) {
  switch (in.op) {
    case 'X': case 0x8c: case 0x8d: case 'U': case 'T':  // the strings
      return text_value(in.arg, in.arg_size);
    case 'K': case 'M':  // BININT1 BININT2: unsigned
      return integer_value(int64_t(little_endian(in.arg, in.shape.width)));
    case 'J':  // BININT: signed 32-bit
      return integer_value(int32_t(uint32_t(little_endian(in.arg, 4))));
    case 0x8a:  // LONG1: two's complement of up to 8 bytes
      if (in.arg_size >= 1 && in.arg_size <= 8) {
        const uint64_t raw = little_endian(in.arg, int(in.arg_size));
        const int shift = int(64 - 8 * in.arg_size);
        return integer_value(int64_t(raw << shift) >> shift);
      }
      return Value{};
    case 'c':  // GLOBAL: "module\nname\n" -> "module name"
      if (in.arg_size <= kMaxText) {
        std::string global(reinterpret_cast<const char*>(in.arg), in.arg_size);
        global.pop_back();
        global[global.find('\n')] = ' ';
        return text_value(reinterpret_cast<const uint8_t*>(global.data()), global.size());
      }
      return Value{};
    case 'h': case 'j': case 'g': {  // BINGET LONG_BINGET GET
      const int64_t index = memo_slot(w, in);
      const auto it = w.memo.find(uint64_t(index));
      if (index >= 0 && it != w.memo.end()) return it->second;
      return Value{};
    }
    default:
      return Value{};
  }
}

// TUPLE, LIST, DICT, ... (the items above the mark become one), APPENDS, SETITEMS, ADDITEMS (they
// go into the container below it), POP_MARK (they are dropped).
void close_mark(PickleWalk& w, const Instruction& in, StackEffect::Kind kind) {
  if (w.marks.empty()) in.fail("needs a MARK and there is none");
  const size_t base = w.mark_base();
  Value made = in.op == 't' ? tuple_value(w.stack.begin() + base, w.stack.end()) : Value{};
  w.stack.resize(base);
  w.marks.pop_back();
  if (kind == StackEffect::kToMarkPushOne) w.stack.push_back(std::move(made));
  if (kind == StackEffect::kToMarkIntoContainer && w.stack.size() - w.mark_base() < 1) {
    in.fail("no container below the MARK");
  }
}

// An opcode that takes a fixed number of items above the innermost mark: checks that they are
// there, and for BINPERSID that the storage reference is one the records back.
void apply_fixed_effect(PickleWalk& w, const Instruction& in, const StackEffect& effect, Value pushed) {
  const size_t above_mark = w.stack.size() - w.mark_base();
  if (above_mark < size_t(effect.pop)) {
    in.fail("takes " + std::to_string(effect.pop) + " stack item(s), " + std::to_string(above_mark) +
            " above the last MARK");
  }
  const uint8_t op = in.op;
  if (op == 'Q') {  // BINPERSID: the Unpickler makes a tensor storage of what this claims
    const std::string problem = storage_reference_problem(w.stack.back(), w.records);
    if (!problem.empty()) in.fail(problem);
  }
  if (op == 'p' || op == 'q' || op == 'r' || op == 0x94) {  // PUT BINPUT LONG_BINPUT MEMOIZE
    const int64_t index = memo_slot(w, in);
    if (index >= 0) w.memo[uint64_t(index)] = w.stack.back();
    if (w.memo.size() > kMaxMemoEntries) in.fail("more than " + std::to_string(kMaxMemoEntries) + " memo entries");
    return;  // the top stays
  }
  if (op == 0x85 || op == 0x86 || op == 0x87) {  // TUPLE1 TUPLE2 TUPLE3
    Value made = tuple_value(w.stack.end() - effect.pop, w.stack.end());
    w.stack.resize(w.stack.size() - effect.pop);
    w.stack.push_back(std::move(made));
    return;
  }
  if (op == '2') {  // DUP
    w.stack.push_back(w.stack.back());
    return;
  }
  w.stack.resize(w.stack.size() - effect.pop);
  for (int i = 0; i < effect.push; ++i) w.stack.push_back(i == 0 ? std::move(pushed) : Value{});
}

// The stack, as the Unpickler would have it after the opcode.
void apply_stack_effect(PickleWalk& w, const Instruction& in) {
  const StackEffect effect = stack_effect(in.op);
  Value pushed = pushed_value(w, in);
  switch (effect.kind) {
    case StackEffect::kMark:
      w.marks.push_back(w.stack.size());
      break;
    case StackEffect::kToMarkPushOne:
    case StackEffect::kToMarkIntoContainer:
    case StackEffect::kPopMark:
      close_mark(w, in, effect.kind);
      break;
    case StackEffect::kFixed:
      apply_fixed_effect(w, in, effect, std::move(pushed));
      break;
  }
  if (w.stack.size() > kMaxStackItems) in.fail("more than " + std::to_string(kMaxStackItems) + " items on the stack");
}

}  // namespace

uint64_t little_endian(const uint8_t* p, int width) {
  uint64_t v = 0;
  for (int i = width - 1; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

void vet_pickle(const uint8_t* data, size_t size, const std::string& what, const RecordSizes& records) {
  static const std::vector<OpcodeShape> shapes = opcode_shapes();
  PickleWalk walk(data, size, records);
  while (walk.pos < size) {
    const uint8_t op = data[walk.pos];
    Instruction in(what, walk.pos, op, shapes[op]);
    ++walk.pos;
    if (!in.shape.known) in.fail("not a pickle opcode");
    read_argument(walk, in);
    apply_stack_effect(walk, in);
    if (op == '.') return;  // STOP: anything after it is never read
  }
  throw PickleError(what + ": no STOP opcode (truncated pickle)");
}

}  // namespace escd

// vet_pickle walks a pickle's opcodes with the protocol's own argument sizes; these cases are the
// lengths and indices libtorch 1.13's unpickler would trust (see archive_vetting.h).
#include <gtest/gtest.h>

#include <fstream>
#include <iterator>
#include <string>
#include <utility>
#include <vector>

#include "models/common/archive_vetting.h"

namespace escd {
namespace {

// A literal's bytes, embedded zeros included (octal escapes: \x would swallow a following hex digit).
template <size_t N>
std::string bytes(const char (&literal)[N]) {
  return std::string(literal, N - 1);
}

void vet(const std::string& pickle, const RecordSizes& records = {}) {
  vet_pickle(reinterpret_cast<const uint8_t*>(pickle.data()), pickle.size(), "t.pkl", records);
}

void expect_refused(const std::string& pickle, const std::string& fragment, const RecordSizes& records = {}) {
  try {
    vet(pickle, records);
    ADD_FAILURE() << "accepted a pickle that should fail with: " << fragment;
  } catch (const PickleError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("t.pkl", 0), 0u) << e.what();
    EXPECT_NE(std::string(e.what()).find(fragment), std::string::npos) << e.what();
  }
}

// pickle.dumps({'a': [1, 2.5, 'xy', None, True]}, protocol=2), a GLOBAL, a protocol-4 frame, and STOP first.
TEST(PickleVetting, WellFormedPicklesPass) {
  EXPECT_NO_THROW(vet(bytes("\200\002}q\000X\001\000\000\000aq\001]q\002(K\001G@\004\000\000\000\000\000\000X\002\000\000\000xyq\003N\210es.")));
  EXPECT_NO_THROW(vet(bytes("\200\002ctorch._utils\012_rebuild_tensor_v2\012q\000.")));
  EXPECT_NO_THROW(vet(bytes("\200\004\225\005\000\000\000\000\000\000\000K\007\224N.")));
  EXPECT_NO_THROW(vet(bytes("N.junk after STOP is never read")));
}

// libtorch's unpickler trusts the stack to hold what each opcode takes (fuzz_checkpoint: BUILD on
// a one-item stack freed memory it did not own), so the walk counts it.
TEST(PickleVetting, OpcodesNeedTheStackItemsTheyTake) {
  expect_refused(bytes("\200\002c__torch__\012Module\012q\000b."), "at byte 22 (opcode 0x62): takes 2 stack item(s), 1 above");
  expect_refused(bytes("."), "takes 1 stack item(s), 0 above");
  expect_refused(bytes("N(s."), "takes 3 stack item(s), 0 above the last MARK");
  expect_refused(bytes("Nt."), "needs a MARK");
  expect_refused(bytes("(Ne."), "no container below the MARK");
  expect_refused(bytes("\200\002q\000."), "takes 1 stack item(s)");
  EXPECT_NO_THROW(vet(bytes("}(NNu.")));   // SETITEMS into the dict below the mark
  EXPECT_NO_THROW(vet(bytes("(NNt2\206.")));  // TUPLE, DUP, TUPLE2
}

// A storage reference as libtorch writes it: ('storage', torch.FloatStorage, key, 'cpu', count),
// with 'storage' memoised and fetched back (BINPUT, BINGET) as in a real data.pkl.
std::string storage_reference(const std::string& type, const std::string& count_opcodes) {
  return bytes("\200\002(X\007\000\000\000storageq\000\060h\000c") + type +
         bytes("q\001X\001\000\000\0000X\003\000\000\000cpu") + count_opcodes + bytes("tQ.");
}

// libtorch makes a storage of the count the reference claims over the record's bytes, whatever the
// record holds (fuzz_checkpoint: a count of 0 left a storage with no memory, read at address 0).
TEST(PickleVetting, StorageReferencesMustMatchTheirRecords) {
  const std::string four_floats = storage_reference("torch\012FloatStorage\012", bytes("K\004"));
  EXPECT_NO_THROW(vet(four_floats, {{"data/0", 16}}));
  expect_refused(four_floats, "storage '0' claims 4 element(s) of 4 bytes, record data/0 holds 12 bytes", {{"data/0", 12}});
  expect_refused(four_floats, "claims 4 element(s) of 4 bytes, record data/0 holds 20 bytes", {{"data/0", 20}});
  expect_refused(four_floats, "storage '0' has no record data/0", {{"data/1", 16}});
  expect_refused(storage_reference("torch\012FloatStorage\012", bytes("K\000")), "claims 0 element(s)", {{"data/0", 16}});
  // A negative count (BININT -1) and an 8-byte LONG1 count of 2^62 (x 4 would wrap to 0).
  expect_refused(storage_reference("torch\012FloatStorage\012", bytes("J\377\377\377\377")), "claims -1 element(s)",
                 {{"data/0", 16}});
  expect_refused(storage_reference("torch\012FloatStorage\012", bytes("\212\010\000\000\000\000\000\000\000\100")),
                 "claims 4611686018427387904 element(s)", {{"data/0", 0}});
  EXPECT_NO_THROW(vet(storage_reference("torch\012DoubleStorage\012", bytes("K\004")), {{"data/0", 32}}));
  expect_refused(storage_reference("torch\012EvilStorage\012", bytes("K\004")), "storage type 'torch EvilStorage'",
                 {{"data/0", 16}});
  // Anything but a flat 5-tuple starting with 'storage' is refused, whatever the records.
  expect_refused(bytes("NQ."), "persistent reference is not ('storage', type, key, location, element count)");
  expect_refused(bytes("(X\007\000\000\000storageNNNNtQ."), "persistent reference is not", {{"data/0", 16}});
}

TEST(PickleVetting, AStringLongerThanTheRecordIsRefused) {
  // BINUNICODE claiming 0xF0000000 bytes: the fuzz finding.
  expect_refused(bytes("\200\002X\000\000\000\360abc."), "at byte 2 (opcode 0x58): claims 4026531840 bytes");
  expect_refused(bytes("\200\002U\011abc."), "claims 9 bytes, the record has 4 left");
  expect_refused(bytes("\215\377\377\377\377\377\377\377\377."), "claims 18446744073709551615 bytes");
  expect_refused(bytes("\225@\000\000\000\000\000\000\000N."), "claims 64 bytes");
}

TEST(PickleVetting, AHugeMemoIndexIsRefused) {
  expect_refused(bytes("NrAAAA."), "memo index 1094795585");
  EXPECT_NO_THROW(vet(bytes("Nr\001\000\000\000.")));
}

TEST(PickleVetting, TruncatedAndForeignBytesAreRefused) {
  expect_refused(bytes("\200\002K"), "argument runs past the end");
  expect_refused(bytes("\200\002X\001\000"), "length runs past the end");
  expect_refused(bytes("\200\002N"), "no STOP opcode");
  expect_refused(bytes("ctorch\012no_newline."), "without a newline");
  expect_refused(bytes("\200\002\377."), "at byte 2 (opcode 0xff): not a pickle opcode");
  expect_refused(std::string(), "no STOP opcode");
}

TEST(SourceVetting, TheLinesACheckpointHasPassAndAnythingElseIsRefusedWithItsLineNumber) {
  const std::string good =
      "class Module(Module):\n"
      "  __parameters__ = [\"p.embedding.weight\", \"p.layers.0.mixer.A_log\", ]\n"
      "  __buffers__ = [\"b.input_mean\", ]\n"
      "  escd_meta : str\n"
      "  __annotations__[\"p.embedding.weight\"] = Tensor\n";
  EXPECT_NO_THROW(vet_torchscript_source(good, "code/__torch__.py"));
  EXPECT_NO_THROW(vet_torchscript_source("class Module(Module):\n  __buffers__ = []\n", "c.py"));
  for (const auto& [source, line] : std::vector<std::pair<std::string, int>>{
           {"class Module(Module):\n  FOO = 3\n", 2},
           {"class Module(Module):\n  __parameters__ = [\"a\", \"b\"]\n", 2},  // no trailing ", "
           {"class Module(Module):\n  __parameters__ = [\"a b\", ]\n", 2},
           {"def f():\n", 1},
           {"class Module(Module):\n  __annotations__[\"x\"] = List[Tensor]\n", 2},
           {"class Module(Module):\n\n  escd.meta : str\n", 3}}) {
    try {
      vet_torchscript_source(source, "c.py");
      ADD_FAILURE() << "accepted: " << source;
    } catch (const PickleError& e) {
      EXPECT_EQ(std::string(e.what()).rfind("c.py:" + std::to_string(line) + ": not a line", 0), 0u) << e.what();
    }
  }
}

// Every archive escd writes passes: the shipped models and the fuzzers' seed checkpoints.
TEST(ArchiveVetting, EveryCheckpointEscdWrotePasses) {
  for (const std::string& path : {std::string(ESCD_SOURCE_DIR) + "/fuzz/corpus/fuzz_checkpoint/mamba.ckpt",
                                  std::string(ESCD_SOURCE_DIR) + "/fuzz/corpus/fuzz_checkpoint/liquid_s4.ckpt",
                                  std::string(ESCD_SOURCE_DIR) + "/models/mamba.pt",
                                  std::string(ESCD_SOURCE_DIR) + "/models/liquid_s4.pt",
                                  std::string(ESCD_SOURCE_DIR) + "/models/vjepa2.pt"}) {
    std::ifstream in(path, std::ios::binary);
    ASSERT_TRUE(in) << path;
    const std::string bytes((std::istreambuf_iterator<char>(in)), {});
    EXPECT_NO_THROW(vet_checkpoint_archive(bytes, path)) << path;
  }
}

TEST(PickleVetting, AZipThatIsNotAZipIsRefusedWithThePath) {
  try {
    vet_checkpoint_archive("PK\x03\x04 not really", "m.ckpt");
    ADD_FAILURE() << "accepted";
  } catch (const PickleError& e) {
    EXPECT_NE(std::string(e.what()).find("m.ckpt: zip end record missing"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace escd

// The pickle half of a checkpoint's pre-flight check (archive_vetting.h has the zip half): a walk of
// every opcode of a pickle record before libtorch 1.13's Unpickler reads it, because the Unpickler
// trusts what the pickle says (all found by fuzz_checkpoint, docs/RELIABILITY.md):
//   - lengths and memo indices: it reserves whatever a string length or memo index claims;
//   - the stack: an opcode that takes more items than there are freed memory it did not own;
//   - tensor storage references (BINPERSID): it makes a storage of the element count the pickle
//     claims over the record's bytes, whatever the record holds. A count of 0 gave a storage with no
//     memory behind it, and loading the tensor read address 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <stdexcept>
#include <string>

namespace escd {

class PickleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The unsigned little-endian integer of `width` (<= 8) bytes at p.
uint64_t little_endian(const uint8_t* p, int width);

// The size of every record of the archive, by its name in the archive ("data/0", "data.pkl", ...).
using RecordSizes = std::map<std::string, uint64_t>;

// Walks the pickle's opcodes with the protocol's own argument sizes, counting the stack as the
// Unpickler would. Every storage reference must be ('storage', torch.<Type>Storage, key, location,
// count) with a record data/<key> of exactly count x the type's size in `records`. Throws
// PickleError naming `what` (e.g. "m.ckpt: data.pkl"), the byte offset and the opcode.
void vet_pickle(const uint8_t* data, size_t size, const std::string& what, const RecordSizes& records = {});

}  // namespace escd

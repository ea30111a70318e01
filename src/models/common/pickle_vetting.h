// A pre-flight check of the pickles inside a checkpoint, run before libtorch parses them.
//
// libtorch 1.13's Unpickler trusts the lengths and memo indices written in the pickle: a string
// whose 4-byte length says 4 GB is reserved and filled before anything fails, and a LONG_BINPUT
// index of 2^32 reserves a memo table of that many IValues. A 7 kB corrupted checkpoint drove the
// process to 2.6 GB (fuzz_checkpoint, docs/RELIABILITY.md). This walk decodes every opcode's
// argument with the pickle protocol's own sizes and rejects, with the offset and opcode, anything
// that claims more bytes than the record holds, a memo index beyond what the record could have
// stored, an opcode libtorch does not read, or a pickle without STOP. It does not interpret the
// pickle: a pickle that passes is then parsed by libtorch as before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

namespace escd {

class PickleError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws PickleError naming `what` (e.g. "archive/data.pkl"), the byte offset and the opcode.
void vet_pickle(const uint8_t* data, size_t size, const std::string& what);

// Opens the zip container (libtorch's own reader, which checks the zip structure and sizes) and vets
// every record whose name ends in ".pkl". `path` is only used in messages.
void vet_checkpoint_pickles(const std::string& bytes, const std::string& path);

}  // namespace escd

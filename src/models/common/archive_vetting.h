// A pre-flight check of a checkpoint's zip archive, run before libtorch parses any of it.
//
// libtorch 1.13 trusts what the archive says. Its Unpickler reserves whatever a pickle's string
// length or memo index claims (a 7 kB corrupted checkpoint drove the process to 2.6 GB), and its
// TorchScript importer compiles the class definition in code/__torch__.py, where a mutated line
// crashed the process inside libtorch (both found by fuzz_checkpoint, docs/RELIABILITY.md).
//   - Pickles (data.pkl, constants.pkl, *.debug_pkl): vet_pickle (pickle_vetting.h) walks every
//     opcode, counts the stack and checks each tensor storage reference against its record.
//   - TorchScript source: only the lines save_checkpoint's archive ever contains are accepted (the
//     class header, the parameter and buffer name lists, the metadata and tensor annotations).
//   - Zip entries: each must lie inside the file and claim no more than it can hold (libtorch's reader allocates the
//     size an entry claims: a 2 GB claim in a 7 kB file, found by the CI fuzz run).
// What passes is then parsed by libtorch as before.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "models/common/pickle_vetting.h"

namespace escd {

// Copies up to n bytes of `bytes` from `pos` into buf and returns how many: reads past the end stop
// there (libtorch's own memory adapter copies whatever range it is asked for). The one read used
// both by the vetting and by load_checkpoint's libtorch parse of the same bytes.
size_t read_archive_bytes(const std::string& bytes, uint64_t pos, void* buf, size_t n);

// Throws PickleError naming `what` and the line, for any line not of the shapes above.
void vet_torchscript_source(const std::string& source, const std::string& what);

// Every entry of the zip's central directory must lie inside the file and claim no more than it can
// hold: stored with equal sizes, or deflated to at most 16 MiB and 1032:1 (libtorch allocates what an
// entry claims before reading it). Returns each record's size by the name libtorch's reader uses
// (without the archive's top directory). Throws PickleError naming `path`.
RecordSizes vet_zip_entries(const std::string& bytes, const std::string& path);

// Checks the entries (vet_zip_entries), opens the zip container (libtorch's own reader, which checks the zip structure and sizes) and vets
// every pickle and every source record; any other .py record is refused. `path` is only used in
// messages.
void vet_checkpoint_archive(const std::string& bytes, const std::string& path);

}  // namespace escd

// esc-train fit --nproc N: starts N ranks of the same command on this machine, as torchrun does
// (RANK, LOCAL_RANK, WORLD_SIZE, MASTER_ADDR, MASTER_PORT in each one's environment), and watches
// them: when one fails, the others get a grace period to stop by themselves (they do, naming it),
// then are terminated. SIGINT and SIGTERM are passed on to every rank.
#pragma once

#include <chrono>
#include <string>
#include <vector>

namespace escd::train {

// `arguments`: the command line (argv[0] first) without --nproc. MASTER_ADDR defaults to the
// loopback and MASTER_PORT to a free port when the environment does not set them. Returns 0 when
// every rank succeeded, 128 + the signal after SIGINT or SIGTERM, 1 otherwise (how each rank ended
// is logged).
int run_local_ranks(int nproc, const std::vector<std::string>& arguments,
                    std::chrono::seconds grace = std::chrono::seconds(30));

// argv without "--nproc N" / "--nproc=N".
std::vector<std::string> without_nproc(const std::vector<std::string>& arguments);

}  // namespace escd::train

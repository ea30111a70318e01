// sandbox_exec: runs a program under the seccomp rules of escd's systemd units, so that the test
// suite can run escd under them without systemd as PID 1 (tests/sandbox_escd.sh reads the rules from
// systemd/sandbox.conf):
//   SystemCallFilter=          --syscalls FILE: only the names in FILE; the rest fail with EPERM
//                              (SystemCallErrorNumber=EPERM)
//   RestrictAddressFamilies=   --families AF_UNIX,AF_INET,...: socket() with another family fails
//   MemoryDenyWriteExecute=yes --deny-write-execute: the rules systemd installs (see below)
// Each is its own filter, as systemd installs them; the kernel applies the most restrictive result.
// Usage: sandbox_exec --syscalls FILE --families LIST [--deny-write-execute] -- PROGRAM [ARGS...]
//        sandbox_exec ... --self-check   (the rules refuse what they should; exit 0 if so)
#include <errno.h>
#include <seccomp.h>
#include <sys/mman.h>
#include <sys/shm.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <sstream>
#include <string>
#include <vector>

namespace {

[[noreturn]] void fail(const std::string& what) {
  std::fprintf(stderr, "sandbox_exec: %s\n", what.c_str());
  std::exit(2);
}

void check(int rc, const char* what) {
  if (rc < 0) fail(std::string(what) + ": " + std::strerror(-rc));
}

void load(scmp_filter_ctx ctx, const char* what) {
  check(seccomp_load(ctx), what);
  seccomp_release(ctx);
}

// SystemCallFilter= as an allow list: everything else fails with EPERM. Names this architecture
// does not have (the list is for all of them) are skipped, as systemd does.
void allow_only(const std::string& list_path) {
  std::ifstream in(list_path);
  if (!in) fail("cannot read " + list_path);
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
  int allowed = 0;
  for (std::string name; std::getline(in, name);) {
    if (name.empty() || name[0] == '#') continue;
    const int nr = seccomp_syscall_resolve_name(name.c_str());
    if (nr == __NR_SCMP_ERROR) continue;
    check(seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0), name.c_str());
    ++allowed;
  }
  if (allowed < 100) fail(list_path + ": only " + std::to_string(allowed) + " known system calls, expected @system-service's ~400");
  load(ctx, "system call allow list");
}

// MemoryDenyWriteExecute=yes, as systemd implements it (seccomp_memory_deny_write_execute): no
// mapping both writable and executable, no mprotect() to executable, no executable shared memory.
void deny_write_execute() {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  const auto eperm = SCMP_ACT_ERRNO(EPERM);
  check(seccomp_rule_add(ctx, eperm, SCMP_SYS(mmap), 1,
                         SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC | PROT_WRITE, PROT_EXEC | PROT_WRITE)), "mmap");
  check(seccomp_rule_add(ctx, eperm, SCMP_SYS(mprotect), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)), "mprotect");
  check(seccomp_rule_add(ctx, eperm, SCMP_SYS(pkey_mprotect), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, PROT_EXEC, PROT_EXEC)),
        "pkey_mprotect");
  check(seccomp_rule_add(ctx, eperm, SCMP_SYS(shmat), 1, SCMP_A2(SCMP_CMP_MASKED_EQ, SHM_EXEC, SHM_EXEC)), "shmat");
  load(ctx, "write-execute rules");
}

// RestrictAddressFamilies=: socket() with a family not in `allowed` fails with EAFNOSUPPORT.
void restrict_address_families(const std::vector<int>& allowed) {
  scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
  const auto refuse = SCMP_ACT_ERRNO(EAFNOSUPPORT);
  int highest = 0;
  for (int family : allowed) highest = std::max(highest, family);
  for (int family = 0; family <= highest; ++family) {
    if (std::find(allowed.begin(), allowed.end(), family) != allowed.end()) continue;
    check(seccomp_rule_add(ctx, refuse, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_EQ, static_cast<scmp_datum_t>(family))),
          "socket");
  }
  check(seccomp_rule_add(ctx, refuse, SCMP_SYS(socket), 1, SCMP_A0(SCMP_CMP_GT, static_cast<scmp_datum_t>(highest))),
        "socket");
  load(ctx, "address families");
}

std::vector<int> parse_families(const std::string& list) {
  static const std::map<std::string, int> known = {{"AF_UNIX", AF_UNIX},       {"AF_INET", AF_INET},
                                                   {"AF_INET6", AF_INET6},     {"AF_NETLINK", AF_NETLINK},
                                                   {"AF_PACKET", AF_PACKET},   {"AF_BLUETOOTH", AF_BLUETOOTH}};
  std::vector<int> out;
  std::stringstream in(list);
  for (std::string name; std::getline(in, name, ',');) {
    const auto it = known.find(name);
    if (it == known.end()) fail("--families: unknown address family '" + name + "'");
    out.push_back(it->second);
  }
  return out;
}

// Each rule refuses what it should (so a program that works under the sandbox means something).
int self_check(const std::vector<int>& families, bool write_execute) {
  int failures = 0;
  auto expect = [&](bool ok, const char* what, const char* outcome) {
    std::printf("%s: %s\n", what, ok ? outcome : "NOT AS IN THE UNIT");
    failures += !ok;
  };
  if (write_execute) {
    void* wx = mmap(nullptr, 4096, PROT_READ | PROT_WRITE | PROT_EXEC, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect(wx == MAP_FAILED && errno == EPERM, "mmap(PROT_WRITE|PROT_EXEC)", "refused");
    void* rw = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    expect(rw != MAP_FAILED && mprotect(rw, 4096, PROT_READ | PROT_EXEC) != 0 && errno == EPERM, "mprotect(PROT_EXEC)",
           "refused");
  }
  for (int family : {AF_UNIX, AF_INET, AF_INET6, AF_NETLINK, AF_PACKET}) {
    const bool allowed = std::find(families.begin(), families.end(), family) != families.end();
    const int fd = socket(family, family == AF_PACKET || family == AF_NETLINK ? SOCK_RAW : SOCK_DGRAM, 0);
    const std::string what = "socket(family " + std::to_string(family) + ")";
    if (allowed) {
      expect(fd >= 0 || errno != EAFNOSUPPORT, what.c_str(), "allowed");
    } else {
      expect(fd < 0 && errno == EAFNOSUPPORT, what.c_str(), "refused");
    }
    if (fd >= 0) close(fd);
  }
  expect(chroot("/") != 0 && errno == EPERM, "chroot (@privileged)", "refused");
  return failures == 0 ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv) {
  std::string syscalls, families_arg;
  bool write_execute = false, self = false;
  int program = -1;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--syscalls" && i + 1 < argc) {
      syscalls = argv[++i];
    } else if (a == "--families" && i + 1 < argc) {
      families_arg = argv[++i];
    } else if (a == "--deny-write-execute") {
      write_execute = true;
    } else if (a == "--self-check") {
      self = true;
    } else if (a == "--" && i + 1 < argc) {
      program = i + 1;
      break;
    } else {
      fail("unexpected argument '" + a + "' (usage: --syscalls FILE --families LIST [--deny-write-execute] "
           "(--self-check | -- PROGRAM [ARGS...]))");
    }
  }
  if (syscalls.empty() || families_arg.empty() || (!self && program < 0)) fail("need --syscalls, --families and a program");
  const std::vector<int> families = parse_families(families_arg);
  // The filters stack: the allow list last, so that loading the others is still permitted.
  if (write_execute) deny_write_execute();
  restrict_address_families(families);
  allow_only(syscalls);
  if (self) return self_check(families, write_execute);
  execv(argv[program], argv + program);
  fail(std::string("cannot run ") + argv[program] + ": " + std::strerror(errno));
}

#include "local_ranks.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <spdlog/spdlog.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <optional>
#include <stdexcept>
#include <thread>

namespace escd::train {
namespace {

using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_forwarded_signal = 0;

void remember_signal(int sig) { g_forwarded_signal = sig; }

// A port the kernel has just handed out on the loopback: free unless another process takes it
// between here and rank 0's listen (rank 0 then says the port is in use).
uint16_t free_loopback_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw std::runtime_error(std::string("--nproc: socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const std::string error = std::strerror(errno);
    close(fd);
    throw std::runtime_error("--nproc: no free loopback port: " + error);
  }
  close(fd);
  return ntohs(addr.sin_port);
}

std::string environment_or(const char* name, const std::string& fallback) {
  const char* value = std::getenv(name);
  return value != nullptr && *value != '\0' ? value : fallback;
}

// This process's environment with the rank's place in the group.
std::vector<std::string> rank_environment(int rank, int nproc, const std::string& addr, const std::string& port) {
  const std::vector<std::pair<std::string, std::string>> place = {
      {"RANK", std::to_string(rank)},      {"LOCAL_RANK", std::to_string(rank)}, {"WORLD_SIZE", std::to_string(nproc)},
      {"MASTER_ADDR", addr},               {"MASTER_PORT", port}};
  std::vector<std::string> env;
  for (char** e = environ; *e != nullptr; ++e) {
    const std::string entry = *e;
    const std::string name = entry.substr(0, entry.find('='));
    bool replaced = false;
    for (const auto& [key, value] : place) replaced = replaced || name == key;
    if (!replaced) env.push_back(entry);
  }
  for (const auto& [key, value] : place) env.push_back(key + "=" + value);
  return env;
}

// Everything the child needs is built before fork: between fork and exec it only calls
// async-signal-safe functions.
pid_t start_rank(const std::vector<std::string>& environment, const std::vector<std::string>& arguments) {
  std::vector<char*> argv, envp;
  for (const std::string& a : arguments) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (const std::string& e : environment) envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  const pid_t launcher = getpid();
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error(std::string("--nproc: fork: ") + std::strerror(errno));
  if (pid > 0) return pid;
  // The rank: ends with the launcher, whatever ends it.
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != launcher) _exit(1);
  execve("/proc/self/exe", argv.data(), envp.data());
  static const char message[] = "esc-train --nproc: cannot start a rank: exec failed\n";
  (void)!write(STDERR_FILENO, message, sizeof(message) - 1);
  _exit(127);
}

std::string exit_description(int status) {
  if (WIFSIGNALED(status)) return "was killed by signal " + std::to_string(WTERMSIG(status)) + " (" +
                                  strsignal(WTERMSIG(status)) + ")";
  return "exited with code " + std::to_string(WEXITSTATUS(status));
}

}  // namespace

std::vector<std::string> without_nproc(const std::vector<std::string>& arguments) {
  std::vector<std::string> out;
  for (size_t i = 0; i < arguments.size(); ++i) {
    if (arguments[i] == "--nproc") {
      ++i;  // and its value
      continue;
    }
    if (arguments[i].rfind("--nproc=", 0) == 0) continue;
    out.push_back(arguments[i]);
  }
  return out;
}

int run_local_ranks(int nproc, const std::vector<std::string>& arguments, std::chrono::seconds grace) {
  const std::string addr = environment_or("MASTER_ADDR", "127.0.0.1");
  const std::string port = environment_or("MASTER_PORT", std::to_string(free_loopback_port()));
  struct sigaction forward {};
  forward.sa_handler = remember_signal;
  sigemptyset(&forward.sa_mask);
  sigaction(SIGINT, &forward, nullptr);
  sigaction(SIGTERM, &forward, nullptr);

  std::vector<pid_t> pids;
  for (int r = 0; r < nproc; ++r) pids.push_back(start_rank(rank_environment(r, nproc, addr, port), arguments));
  spdlog::info("started {} ranks on this machine, meeting at {}:{}", nproc, addr, port);

  std::vector<bool> running(nproc, true);
  int left = nproc, failures = 0, signalled = 0;
  std::optional<Clock::time_point> stop_by;  // set once a rank failed or a signal came
  bool terminated = false;
  while (left > 0) {
    if (g_forwarded_signal != 0) {
      signalled = g_forwarded_signal;
      for (int r = 0; r < nproc; ++r) {
        if (running[r]) kill(pids[r], g_forwarded_signal);
      }
      g_forwarded_signal = 0;
    }
    int status = 0;
    const pid_t pid = waitpid(-1, &status, WNOHANG);
    if (pid > 0) {
      for (int r = 0; r < nproc; ++r) {
        if (pids[r] != pid || !running[r]) continue;
        running[r] = false;
        --left;
        if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
          spdlog::info("rank {} (pid {}) finished", r, pid);
          break;
        }
        ++failures;
        spdlog::error("rank {} (pid {}) {}", r, pid, exit_description(status));
        if (!stop_by) stop_by = Clock::now() + grace;
      }
      continue;
    }
    if (stop_by && Clock::now() >= *stop_by) {
      // Past the grace period: terminate, then kill, what is still running.
      for (int r = 0; r < nproc; ++r) {
        if (running[r]) {
          spdlog::error("rank {} (pid {}) is still running {} s after a rank failed: {}", r, pids[r], grace.count(),
                        terminated ? "killing it" : "terminating it");
          kill(pids[r], terminated ? SIGKILL : SIGTERM);
        }
      }
      stop_by = Clock::now() + std::chrono::seconds(5);
      terminated = true;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  signal(SIGINT, SIG_DFL);
  signal(SIGTERM, SIG_DFL);
  if (signalled != 0) return 128 + signalled;  // as a shell reports a command ended by the signal
  return failures == 0 ? 0 : 1;
}

}  // namespace escd::train

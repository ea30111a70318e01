#include "pulse_test_server.h"

#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace escd::test {
namespace {

using Clock = std::chrono::steady_clock;

bool on_path(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::stringstream dirs(path ? path : "/usr/bin:/bin");
  for (std::string dir; std::getline(dirs, dir, ':');) {
    if (!dir.empty() && access((dir + "/" + program).c_str(), X_OK) == 0) return true;
  }
  return false;
}

// Starts argv[0] from PATH with stdout and stderr appended to `log` (or /dev/null); returns its PID.
pid_t spawn(const std::vector<std::string>& args, const std::string& log) {
  std::vector<char*> argv;
  for (const std::string& a : args) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  const std::string out = log.empty() ? "/dev/null" : log;
  posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, out.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0600);
  posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
  pid_t pid = -1;
  const int err = posix_spawnp(&pid, argv[0], &actions, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  if (err != 0) throw std::runtime_error("cannot start " + args[0] + ": " + std::strerror(err));
  return pid;
}

// Runs a short command to completion (bounded by timeout_s); returns its exit status or -1.
int run(const std::vector<std::string>& args, const std::string& log = "", double timeout_s = 5.0) {
  return PulseTestServer::wait_for(spawn(args, log), timeout_s);
}

}  // namespace

PulseTestServer::PulseTestServer(std::string run_dir) : run_(std::move(run_dir)) {
  for (const char* dir : {"runtime", "state", "home", "home/.config"}) {
    std::filesystem::create_directories(run_ + "/" + dir);
    chmod((run_ + "/" + dir).c_str(), 0700);  // pulseaudio insists its runtime directory is private
  }
  std::ofstream(run_ + "/vmic.pa")
      << "load-module module-native-protocol-unix auth-anonymous=1 socket=" << run_ << "/native\n"
      << "load-module module-null-source source_name=vmic_null rate=44100 channels=1 max_latency_msec=20\n"
      << "load-module module-virtual-source source_name=vmic_mic master=vmic_null uplink_sink=vmic_sink "
         "rate=44100 channels=1 source_properties=device.description=VirtualMic\n"
      << "set-default-source vmic_mic\n"
      << "set-default-sink vmic_sink\n";
  std::ofstream(run_ + "/client.conf") << "autospawn = no\n";
}

PulseTestServer::~PulseTestServer() {
  stop();
  for (const auto& [name, value] : saved_env_) {
    if (value) {
      setenv(name.c_str(), value->c_str(), 1);
    } else {
      unsetenv(name.c_str());
    }
  }
}

bool PulseTestServer::tools_available(std::string& missing) {
  missing.clear();
  for (const char* tool : {"pulseaudio", "pactl", "paplay"}) {
    if (!on_path(tool)) missing += (missing.empty() ? "" : ", ") + std::string(tool);
  }
  return missing.empty();
}

void PulseTestServer::export_environment() {
  const std::map<std::string, std::string> vars = {
      {"PULSE_SERVER", "unix:" + run_ + "/native"}, {"PULSE_RUNTIME_PATH", run_ + "/runtime"},
      {"PULSE_STATE_PATH", run_ + "/state"},        {"PULSE_CLIENTCONFIG", run_ + "/client.conf"},
      {"HOME", run_ + "/home"},                     {"XDG_CONFIG_HOME", run_ + "/home/.config"}};
  for (const auto& [name, value] : vars) {
    if (!saved_env_.count(name)) {
      const char* old = std::getenv(name.c_str());
      saved_env_[name] = old ? std::optional<std::string>(old) : std::nullopt;
    }
    setenv(name.c_str(), value.c_str(), 1);
  }
}

bool PulseTestServer::start(std::string& error) {
  if (pid_ > 0) return true;
  pid_ = spawn({"pulseaudio", "-n", "-F", run_ + "/vmic.pa", "--daemonize=no", "--exit-idle-time=-1",
                "--use-pid-file=no", "--realtime=no", "--high-priority=no", "--log-target=stderr"},
               run_ + "/pulse.log");
  const auto deadline = Clock::now() + std::chrono::seconds(5);
  while (Clock::now() < deadline) {
    if (run({"pactl", "info"}) == 0) return true;
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      error = "pulseaudio exited during start-up; its log:\n" + log();
      return false;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  stop();
  error = "pulseaudio did not answer `pactl info` within 5 s; its log:\n" + log();
  return false;
}

void PulseTestServer::kill_now() {
  if (pid_ <= 0) return;
  kill(pid_, SIGKILL);
  waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

void PulseTestServer::freeze() {
  if (pid_ > 0) kill(pid_, SIGSTOP);
}

void PulseTestServer::thaw() {
  if (pid_ > 0) kill(pid_, SIGCONT);
}

void PulseTestServer::stop() {
  if (pid_ <= 0) return;
  kill(pid_, SIGTERM);
  kill(pid_, SIGCONT);  // a frozen server must run to handle SIGTERM
  wait_for(pid_, 2.0);  // reaps it, with SIGKILL if SIGTERM was not enough
  pid_ = -1;
}

pid_t PulseTestServer::play_async(const std::string& wav) const {
  return spawn({"paplay", "--device=vmic_sink", wav}, run_ + "/paplay.log");
}

int PulseTestServer::wait_for(pid_t pid, double timeout_s) {
  const auto deadline = Clock::now() + std::chrono::duration<double>(timeout_s);
  for (;;) {
    int status = 0;
    const pid_t done = waitpid(pid, &status, WNOHANG);
    if (done == pid) return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    if (done < 0) return -1;
    if (Clock::now() >= deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, nullptr, 0);
      return -1;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

bool PulseTestServer::has_recording_client() const {
  const std::string out = run_ + "/source-outputs.txt";
  std::filesystem::remove(out);
  if (run({"pactl", "list", "short", "source-outputs"}, out) != 0) return false;
  std::ifstream in(out);
  std::string line;
  return static_cast<bool>(std::getline(in, line)) && !line.empty();
}

std::string PulseTestServer::log() const {
  std::ifstream in(run_ + "/pulse.log");
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace escd::test

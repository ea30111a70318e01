// A private PulseAudio server with a virtual microphone, for testing real PortAudio capture on a
// machine without a sound card (docs/CAPTURE_TESTS.md). Whatever is played into the sink `vmic_sink`
// comes out of the source `vmic_mic`, in real time.
//
// Everything lives in a temporary directory; the server's PID is kept, and the server is stopped by
// that PID (never by name) when the object goes away.
#pragma once

#include <sys/types.h>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace escd::test {

class PulseTestServer {
 public:
  // Writes the server and client configuration under run_dir (which must exist).
  explicit PulseTestServer(std::string run_dir);
  ~PulseTestServer();  // stops the server, restores the environment
  PulseTestServer(const PulseTestServer&) = delete;
  PulseTestServer& operator=(const PulseTestServer&) = delete;

  // True when pulseaudio, pactl and paplay are on PATH; otherwise `missing` names what is not.
  static bool tools_available(std::string& missing);

  // Points this process (and the children it starts) at the private server: PULSE_SERVER, the
  // PULSE_* paths and HOME/XDG_CONFIG_HOME under run_dir, and a client config with autospawn = no,
  // so that nothing (e.g. the ALSA pulse plugin) starts a server of its own. Call before Pa_Initialize.
  void export_environment();

  // Starts the server and waits (at most 5 s) until it answers `pactl info`. Returns false, with the
  // server's log in `error`, if it does not come up.
  bool start(std::string& error);
  // Abrupt loss, as in a crash: SIGKILL, then reaps it.
  void kill_now();
  // Orderly stop: SIGTERM, SIGKILL after 2 s if needed. No-op when not running.
  void stop();
  bool running() const { return pid_ > 0; }
  // A hung server: SIGSTOP keeps every connection open but nothing flows. thaw() resumes it.
  void freeze();
  void thaw();

  // Starts `paplay --device=vmic_sink wav` and returns its PID; wait_for() reaps it.
  pid_t play_async(const std::string& wav) const;
  // Waits at most timeout_s for a child and reaps it; returns its exit status, or -1 if it died of a
  // signal or ran out of time (then it is killed and reaped).
  static int wait_for(pid_t pid, double timeout_s);

  // True once a client is recording from the server (`pactl list short source-outputs` is not empty).
  bool has_recording_client() const;
  std::string log() const;

 private:
  std::string run_;
  pid_t pid_ = -1;
  std::map<std::string, std::optional<std::string>> saved_env_;
};

}  // namespace escd::test

// Skips the current test, naming what is missing, when the PulseAudio tools are not installed.
#define SKIP_WITHOUT_PULSEAUDIO()                                                                      \
  do {                                                                                                 \
    std::string missing_tools;                                                                         \
    if (!escd::test::PulseTestServer::tools_available(missing_tools)) {                               \
      GTEST_SKIP() << "real-capture test needs PulseAudio; not on PATH: " << missing_tools            \
                   << " (install: pulseaudio pulseaudio-utils libasound2-plugins, see scripts/install-deps.sh)"; \
    }                                                                                                  \
  } while (0)

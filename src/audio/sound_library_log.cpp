#include "audio/sound_library_log.h"

#include <alsa/asoundlib.h>
#include <jack/jack.h>
#include <spdlog/spdlog.h>

#include <cstdarg>
#include <cstdio>
#include <string>

namespace escd {
namespace {

// printf-style formatting of a va_list, as ALSA hands its messages over.
std::string format_va(const char* format, va_list args) {
  va_list measure;
  va_copy(measure, args);
  const int size = std::vsnprintf(nullptr, 0, format, measure);
  va_end(measure);
  if (size <= 0) return {};
  std::string text(static_cast<size_t>(size) + 1, '\0');
  std::vsnprintf(text.data(), text.size(), format, args);
  text.resize(static_cast<size_t>(size));
  return text;
}

// Some messages (the ALSA pulse plugin's) end in a newline of their own; a log line has none.
std::string without_trailing_newlines(std::string text) {
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r')) text.pop_back();
  return text;
}

// The shape of ALSA's own stderr line ("ALSA lib file:line:(function) message: error"), as one log line.
void log_alsa_message(const char* file, int line, const char* function, int err, const char* format, ...) {
  va_list args;
  va_start(args, format);
  std::string text = format ? format_va(format, args) : std::string();
  va_end(args);
  text = without_trailing_newlines(std::move(text));
  if (err != 0) text += std::string(": ") + snd_strerror(err);
  spdlog::debug("ALSA {}:{} ({}) {}", file ? file : "?", line, function ? function : "?", text);
}

void log_jack_message(const char* message) {
  spdlog::debug("JACK {}", without_trailing_newlines(message ? message : ""));
}

}  // namespace

void route_sound_library_messages_to_log() {
  snd_lib_error_set_handler(log_alsa_message);
  jack_set_error_function(log_jack_message);
  jack_set_info_function(log_jack_message);
}

}  // namespace escd

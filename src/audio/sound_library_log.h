// ALSA and JACK report on stderr by default. PortAudio probes every ALSA device and the JACK server
// at each Pa_Initialize, so on a machine without a sound card (or without a JACK server) every probe
// prints pages of "Unknown PCM" and "cannot connect to server" lines that bury escd's own warning.
// These handlers send what the two libraries say to escd's log at debug level instead: hidden by
// default, there with --log-level debug when a device problem needs diagnosing.
#pragma once

namespace escd {

// Installs the ALSA error handler and the JACK error and info functions (process-wide, cheap, safe to
// repeat). Call before every Pa_Initialize: PortAudio's JACK host API replaces JACK's error function
// with its own whenever it connects to a server.
void route_sound_library_messages_to_log();

}  // namespace escd

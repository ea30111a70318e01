#!/usr/bin/python3
"""Regenerates the torchaudio fixtures in tests/fixtures/ (run with Debian's /usr/bin/python3 and
python3-torchaudio: `scripts/install-deps.sh --dev`). The tests compare escd's front end to these.

  synthetic_16k.wav   a deterministic 5 s test signal (chirp + tones + noise bursts), int16
  synthetic_16k.npy   torchaudio's log-mel of it, frames 1..155 of the centred transform: [155, 128]
  <clip>.npy          the same for a few real ESC-50 clips (the clips themselves stay in $ESC50_DIR)
"""
import os
import sys
import wave

import numpy as np
import torch
import torchaudio

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "..", "tests", "fixtures")
ESC50 = os.environ.get("ESC50_DIR", os.path.join(HERE, "..", "..", "shared", "esc50"))
REAL_CLIPS = ["1-100032-A-0", "2-109505-A-21", "3-157615-A-10", "5-200334-A-1"]

mel = torchaudio.transforms.MelSpectrogram(
    sample_rate=16000, n_fft=1024, win_length=1024, hop_length=512, f_min=0.0, f_max=8000.0,
    n_mels=128, power=2.0, center=True, pad_mode="reflect", norm=None, mel_scale="htk")


def log_mel(wave_f32):
    x = torch.from_numpy(wave_f32).unsqueeze(0)
    m = torch.log(mel(x) + 1e-8)[0]          # [128, 157]
    return m[:, 1:156].T.contiguous().numpy()  # frames 1..155 -> [155, 128]


def synthetic():
    rng = np.random.default_rng(1234)
    t = np.arange(80000) / 16000.0
    sig = 0.3 * np.sin(2 * np.pi * (100 * t + 0.5 * (7000 - 100) / 5.0 * t ** 2))   # linear chirp 100 Hz -> 7 kHz
    sig += 0.1 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.sin(2 * np.pi * 3150 * t)
    bursts = (np.sin(2 * np.pi * 1.3 * t) > 0.7)
    sig += 0.05 * rng.standard_normal(80000) * bursts
    return np.round(np.clip(sig, -1, 1) * 32767).astype(np.int16)


def main():
    os.makedirs(OUT, exist_ok=True)
    pcm = synthetic()
    with wave.open(os.path.join(OUT, "synthetic_16k.wav"), "wb") as w:
        w.setnchannels(1); w.setsampwidth(2); w.setframerate(16000); w.writeframes(pcm.tobytes())
    np.save(os.path.join(OUT, "synthetic_16k.npy"), log_mel(pcm.astype(np.float32) / 32768.0))
    for name in REAL_CLIPS:
        path = os.path.join(ESC50, "audio", name + ".flac")
        if not os.path.exists(path):
            sys.exit(f"{path}: not found (set ESC50_DIR)")
        wav, sr = torchaudio.load(path)
        assert sr == 16000 and wav.shape == (1, 80000), (path, sr, wav.shape)
        np.save(os.path.join(OUT, name + ".npy"), log_mel(wav[0].numpy()))
    print("fixtures written to", os.path.normpath(OUT))


if __name__ == "__main__":
    main()

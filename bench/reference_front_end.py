#!/usr/bin/python3
"""torchaudio's MelSpectrogram (same settings as escd's front end) on one thread: frames per second
of CPU time (as Google Benchmark's rates in bench_front_end) for 5 s clips, one at a time and as a
batch of 32. The baseline for bench_front_end's numbers."""
import os
import time

import torch
import torchaudio

torch.set_num_threads(1)
mel = torchaudio.transforms.MelSpectrogram(
    sample_rate=16000, n_fft=1024, hop_length=512, f_min=0.0, f_max=8000.0, n_mels=128,
    power=2.0, center=False, norm=None, mel_scale="htk")


# SECONDS_PER_RATE: how long each rate is measured (bench/run.sh --smoke shortens it).
SECONDS = float(os.environ.get("SECONDS_PER_RATE", "2.0"))


def rate(batch, seconds=SECONDS):
    x = torch.randn(batch, 80000) * 0.1
    torch.log(mel(x) + 1e-8)  # warm-up
    n, t0, c0 = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - t0 < seconds:
        torch.log(mel(x) + 1e-8)
        n += batch
    return n * 155 / (time.process_time() - c0)


print(f"torchaudio_clip_frames_per_s {rate(1):.0f}")
print(f"torchaudio_batch32_frames_per_s {rate(32):.0f}")

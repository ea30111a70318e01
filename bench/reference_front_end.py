#!/usr/bin/python3
"""torchaudio's MelSpectrogram (same settings as escd's front end) on one thread: frames per second
for 5 s clips, one at a time and as a batch of 32. The baseline for bench_front_end's numbers."""
import time

import torch
import torchaudio

torch.set_num_threads(1)
mel = torchaudio.transforms.MelSpectrogram(
    sample_rate=16000, n_fft=1024, hop_length=512, f_min=0.0, f_max=8000.0, n_mels=128,
    power=2.0, center=False, norm=None, mel_scale="htk")


def rate(batch, seconds=2.0):
    x = torch.randn(batch, 80000) * 0.1
    torch.log(mel(x) + 1e-8)  # warm-up
    n, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        torch.log(mel(x) + 1e-8)
        n += batch
    return n * 155 / (time.perf_counter() - t0)


print(f"torchaudio_clip_frames_per_s {rate(1):.0f}")
print(f"torchaudio_batch32_frames_per_s {rate(32):.0f}")

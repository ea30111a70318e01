#!/usr/bin/python3
"""The MelConv front end (src/models/common/mel_conv.cpp) three ways, on PyTorch's
ATen (Debian's python3-torch, the same 1.13 as escd's libtorch), one thread:

  nchw           escd's: Conv2d on [N, C, T, F]; each frame's GroupNorm(1) on a transposed copy.
  channels_last  frames-major [N, T, F, C] throughout: oneDNN's channels-last convolutions, and the
                 per-frame norm as one layer norm over each frame's [F, C] block.
  nchw_reduce    escd's convolutions, the per-frame norm by reductions over the channel and band
                 axes of the [N, C, T, F] tensor, without transposed copies.

Prints each layout's forward and backward CPU time of a training batch (median of --repeats) and whether the
gradients are bitwise the same from call to call, the first call included: escd's resumed and
data-parallel runs rely on that (tests/test_training.cpp, ResumedRunEndsWithTheSameWeights...).
Usage: OPENBLAS_NUM_THREADS=1 /usr/bin/python3 bench/mel_conv_layouts.py [--batch 32] [--repeats 5]
"""
import argparse
import time

import torch
import torch.nn.functional as F

LAYERS = [(1, 16, 5), (16, 32, 5), (32, 32, 3)]  # (in, out, mel kernel), stride 2 on the mel axis
TIME_KERNEL, FRAMES, MELS, EPS = 3, 155, 128, 1e-5


def parameters():
    torch.manual_seed(0)
    p = []
    for cin, cout, k in LAYERS:
        p.append({
            "w": (0.1 * torch.randn(cout, cin, TIME_KERNEL, k)).requires_grad_(),
            "b": torch.zeros(cout, requires_grad=True),
            "gw": torch.ones(cout, requires_grad=True),
            "gb": torch.zeros(cout, requires_grad=True),
        })
    return p


def nchw(x, params):
    h = x.unsqueeze(1)
    for p, (_, _, k) in zip(params, LAYERS):
        y = F.conv2d(F.pad(h, (0, 0, TIME_KERNEL - 1, 0)), p["w"], p["b"], stride=(1, 2), padding=(0, k // 2))
        n, c, t, f = y.shape
        per_frame = y.transpose(1, 2).reshape(n * t, c, f)
        h = F.gelu(F.group_norm(per_frame, 1, p["gw"], p["gb"], EPS)).reshape(n, t, c, f).transpose(1, 2)
    return h.transpose(1, 2).reshape(x.shape[0], x.shape[1], -1)


def channels_last(x, params):
    h = x.unsqueeze(-1)
    for p, (_, _, k) in zip(params, LAYERS):
        h = F.pad(h, (0, 0, 0, 0, TIME_KERNEL - 1, 0))
        y = F.conv2d(h.permute(0, 3, 1, 2), p["w"], p["b"], stride=(1, 2), padding=(0, k // 2))
        y = y.permute(0, 2, 3, 1).contiguous()
        f, c = y.shape[2], y.shape[3]
        h = F.gelu(F.layer_norm(y, (f, c), p["gw"].expand(f, c), p["gb"].expand(f, c), EPS))
    return h.transpose(2, 3).reshape(x.shape[0], x.shape[1], -1)


def nchw_reduce(x, params):
    h = x.unsqueeze(1)
    for p, (_, _, k) in zip(params, LAYERS):
        y = F.conv2d(F.pad(h, (0, 0, TIME_KERNEL - 1, 0)), p["w"], p["b"], stride=(1, 2), padding=(0, k // 2))
        var, mu = torch.var_mean(y, dim=(1, 3), unbiased=False, keepdim=True)
        h = F.gelu((y - mu) * torch.rsqrt(var + EPS) * p["gw"].view(1, -1, 1, 1) + p["gb"].view(1, -1, 1, 1))
    return h.transpose(1, 2).reshape(x.shape[0], x.shape[1], -1)


def measure(layout, x, repeats):
    params = parameters()
    forward, backward, grads = [], [], []
    for _ in range(repeats + 1):
        for p in params:
            for t in p.values():
                t.grad = None
        t0 = time.process_time()
        out = layout(x, params)
        t1 = time.process_time()
        out.pow(2).mean().backward()
        t2 = time.process_time()
        forward.append(t1 - t0)
        backward.append(t2 - t1)
        grads.append([t.grad.clone() for p in params for t in p.values()])
    same = all(all(a.equal(b) for a, b in zip(g, grads[0])) for g in grads[1:])
    median = lambda v: sorted(v[1:])[len(v[1:]) // 2]
    return median(forward), median(backward), same, out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--batch", type=int, default=32)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    torch.set_num_threads(1)
    x = torch.randn(args.batch, FRAMES, MELS)
    results = {}
    for layout in (nchw, channels_last, nchw_reduce):
        fwd, bwd, same, out = measure(layout, x, args.repeats)
        results[layout.__name__] = out
        print(f"{layout.__name__:14s} forward {1e3 * fwd:6.1f} ms  backward {1e3 * bwd:6.1f} ms  "
              f"gradients bitwise the same on every call: {'yes' if same else 'NO'}")
    diff = max((results["nchw"] - results[name]).abs().max().item() for name in ("channels_last", "nchw_reduce"))
    print(f"max difference of the other layouts' features from escd's: {diff:.2e}")


if __name__ == "__main__":
    main()

"""Front-end proxy experiment (train/RECIPES.md, 2026-11-26): which per-frame embedding of the log-mel
frame learns best, measured on a cheap stand-in for the sequence models (embedding -> GRU(128) ->
LayerNorm -> mean over time -> Linear) with escd's recipe (waveform shift/gain/noise, 80% mixup,
mel shift, SpecAugment, label smoothing, AdamW 2e-3 with warm-up and cosine), trained on folds 1-3 and
validated on fold 4. A GRU in PyTorch trains in seconds per epoch, the real models in tens of seconds.

  python3 train/experiments/front_end_proxy.py {linear|fconv|fconv_ln|tconv|tconv_ln|tconv1_ln} EPOCHS [SEED]

PROXY_CHANNELS (default 16,32,32) sets the per-frame conv's channels, one stride-2 layer each (kernels 5,
then 3 for the last); PROXY_POOL=meanmax pools mean and max over time instead of the mean.

ESC50_DIR (required: the ESC-50 directory, with each clip as a 16 kHz <name>.flac beside or instead of
the official 44.1 kHz <name>.wav; this script does not resample) is decoded once into ESC50_PROXY_CACHE
(default esc50-proxy.pt in the system temporary directory).
"""
import csv
import math
import os
import sys
import tempfile
import time

import torch
import torch.nn as nn
import torch.nn.functional as Fn
import torchaudio

torch.set_num_threads(1)
ESC50 = os.environ.get("ESC50_DIR", "")
CACHE = os.environ.get("ESC50_PROXY_CACHE", os.path.join(tempfile.gettempdir(), "esc50-proxy.pt"))


def decode_all():
    if not ESC50:  # needed only until the cache exists
        sys.exit("front_end_proxy.py: set ESC50_DIR to the ESC-50 directory (meta/esc50.csv, audio/ as in "
                 "https://github.com/karolpiczak/ESC-50), its clips as 16 kHz FLAC")
    rows = list(csv.DictReader(open(os.path.join(ESC50, "meta", "esc50.csv"))))
    W = torch.zeros(len(rows), 80000)
    F = torch.zeros(len(rows), dtype=torch.long)
    Y = torch.zeros(len(rows), dtype=torch.long)
    for i, r in enumerate(rows):
        w, _ = torchaudio.load(os.path.join(ESC50, "audio", r["filename"].replace(".wav", ".flac")))
        W[i] = w[0, :80000]
        F[i] = int(r["fold"])
        Y[i] = int(r["target"])
    torch.save({"W": W, "F": F, "Y": Y}, CACHE)


if not os.path.exists(CACHE):
    decode_all()
variant = sys.argv[1]; epochs = int(sys.argv[2]); seed = int(sys.argv[3]) if len(sys.argv) > 3 else 0
torch.manual_seed(seed)
d = torch.load(CACHE); W, F, Y = d['W'], d['F'], d['Y']
tr = (F <= 3).nonzero().squeeze(1); va = (F == 4).nonzero().squeeze(1)
mel = torchaudio.transforms.MelSpectrogram(16000, n_fft=1024, hop_length=512, f_min=0, f_max=8000, n_mels=128, power=2.0)
def logmel(w):  # [B, 80000] -> [B, 155, 128]
    return torch.log(mel(w) + 1e-8)[:, :, 1:156].transpose(1, 2)
with torch.no_grad():
    M = torch.cat([logmel(W[tr[i:i+100]]) for i in range(0, len(tr), 100)])
    mu = M.mean((0, 1)); sd = M.std((0, 1))
    Mva = (torch.cat([logmel(W[va[i:i+100]]) for i in range(0, len(va), 100)]) - mu) / sd
D = 128
class Embed(nn.Module):
    def __init__(s, v):
        super().__init__(); s.v = v
        if v == 'linear': s.l = nn.Linear(128, D)
        elif v in ('fconv', 'fconv_ln'):  # per-frame conv over mel
            ch = [int(c) for c in os.environ.get("PROXY_CHANNELS", "16,32,32").split(",")]
            ks = [5] * (len(ch) - 1) + [3]
            s.c = nn.ModuleList([nn.Conv1d(i, o, k, 2, k // 2) for i, o, k in zip([1] + ch[:-1], ch, ks)])
            s.n = nn.ModuleList([nn.GroupNorm(1, c) for c in ch]) if v == 'fconv_ln' else None
            s.l = nn.Linear(ch[-1] * (128 >> len(ch)), D)
        elif v in ('tconv', 'tconv_ln', 'tconv1_ln'):  # causal 2-D conv, time kernel 3 (tconv1: first layer only)
            kt = [3, 1, 1] if v == 'tconv1_ln' else [3, 3, 3]
            s.c = nn.ModuleList([nn.Conv2d(1, 16, (kt[0], 5), (1, 2), (0, 2)), nn.Conv2d(16, 32, (kt[1], 5), (1, 2), (0, 2)), nn.Conv2d(32, 32, (kt[2], 3), (1, 2), (0, 1))])
            s.n = nn.ModuleList([nn.GroupNorm(1, c) for c in (16, 32, 32)]) if v.endswith('_ln') else None
            s.l = nn.Linear(32 * 16, D)
    def forward(s, x):  # [B, T, 128]
        B, T, _ = x.shape
        if s.v == 'linear': return s.l(x)
        if s.v.startswith('fconv'):
            h = x.reshape(B * T, 1, 128)
            for i, c in enumerate(s.c):
                h = c(h)
                if s.n is not None: h = s.n[i](h)
                h = Fn.gelu(h)
            return s.l(h.reshape(B, T, -1))
        h = x.unsqueeze(1)  # [B,1,T,F]
        for i, c in enumerate(s.c):
            h = c(Fn.pad(h, (0, 0, c.kernel_size[0] - 1, 0)))
            if s.n is not None:  # per frame norm over (C, F)
                hb = h.permute(0, 2, 1, 3)  # B,T,C,F
                hb = Fn.layer_norm(hb, hb.shape[-2:])
                h = hb.permute(0, 2, 1, 3)
            h = Fn.gelu(h)
        return s.l(h.permute(0, 2, 1, 3).reshape(B, T, -1))
class Net(nn.Module):
    def __init__(s):
        super().__init__(); s.e = Embed(variant); s.g = nn.GRU(D, D, batch_first=True); s.n = nn.LayerNorm(D)
        s.pool = os.environ.get("PROXY_POOL", "mean"); s.o = nn.Linear(D * (2 if s.pool == 'meanmax' else 1), 50)
    def forward(s, x):
        h, _ = s.g(s.e(x)); h = s.n(h)
        return s.o(torch.cat([h.mean(1), h.amax(1)], -1) if s.pool == 'meanmax' else h.mean(1))
net = Net()
print(variant, sum(p.numel() for p in net.parameters()))
opt = torch.optim.AdamW(net.parameters(), lr=2e-3, weight_decay=0.05)
steps = epochs * math.ceil(len(tr) / 32); warm = 3 * math.ceil(len(tr) / 32)
sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: (s + 1) / warm if s < warm else 0.005 + 0.995 * 0.5 * (1 + math.cos(math.pi * (s - warm) / max(1, steps - warm))))
def augment(w, y):
    B = w.shape[0]
    for i in range(B):
        if torch.rand(1) < 0.5: w[i] = torch.roll(w[i], int(torch.randint(-8000, 8000, (1,))))
        if torch.rand(1) < 0.5: w[i] *= float(torch.empty(1).uniform_(0.7, 1.3))
        if torch.rand(1) < 0.3: w[i] += 0.005 * torch.randn(80000)
    t = Fn.one_hot(y, 50).float() * 0.9 + 0.1 / 50
    perm = torch.randperm(B); lam = torch.distributions.Beta(0.4, 0.4).sample((B,)); lam = torch.maximum(lam, 1 - lam)
    mix = (torch.rand(B) < 0.8).float(); lam = lam * mix + (1 - mix)
    w = lam[:, None] * w + (1 - lam[:, None]) * w[perm]; t = lam[:, None] * t + (1 - lam[:, None]) * t[perm]
    x = (logmel(w) - mu) / sd
    for i in range(B):
        if torch.rand(1) < 0.5:
            k = int(torch.randint(-6, 7, (1,)))
            if k > 0: x[i, :, k:] = x[i, :, :-k].clone(); x[i, :, :k] = x[i, :, k:k+1]
            elif k < 0: x[i, :, :k] = x[i, :, -k:].clone(); x[i, :, k:] = x[i, :, k-1:k]
        if torch.rand(1) < 0.8: a = int(torch.randint(0, 21, (1,))); s0 = int(torch.randint(0, 155 - a + 1, (1,))); x[i, s0:s0+a] = 0
        if torch.rand(1) < 0.8: a = int(torch.randint(0, 17, (1,))); s0 = int(torch.randint(0, 128 - a + 1, (1,))); x[i, :, s0:s0+a] = 0
    return x, t
best = 0
for ep in range(epochs):
    net.train(); t0 = time.time(); perm = tr[torch.randperm(len(tr))]; tl = 0
    for b in range(0, len(perm), 32):
        idx = perm[b:b+32]
        with torch.no_grad(): x, t = augment(W[idx].clone(), Y[idx])
        loss = -(Fn.log_softmax(net(x), -1) * t).sum(-1).mean()
        opt.zero_grad(); loss.backward(); nn.utils.clip_grad_norm_(net.parameters(), 1.0); opt.step(); sched.step(); tl += loss.item()
    net.eval()
    with torch.no_grad(): acc = (net(Mva).argmax(-1) == Y[va]).float().mean().item()
    best = max(best, acc)
    print(f'{variant} ep {ep} loss {tl / math.ceil(len(tr)/32):.3f} val {acc:.4f} best {best:.4f} {time.time()-t0:.1f}s', flush=True)

#!/usr/bin/python3
"""PyTorch reference implementations of escd's three models, written from the math in
docs/MODELS.md the way the public reference code computes them on a CPU, at escd's default sizes:

  mamba      Mamba-1 blocks whose selective scan is the per-time-step reference loop (the
             `selective_scan_ref` formulation: discretise all steps, then a Python loop over time);
             depthwise causal nn.Conv1d; step mode as the reference `step()` (torch ops per frame).
  liquid_s4  S4D layers (diagonal, ZOH) in the upstream (B, H, L) layout: the SSM kernel from a
             Vandermonde product, applied by FFT convolution; the causal kb liquid chain as a second
             FFT convolution with G_j = 1'A^j B; LayerNorm, GELU, transposed Linear, GLU.
             Step mode: the complex diagonal recurrence with torch ops per frame.
  vjepa2     nn.TransformerEncoderLayer (pre-norm, GELU) blocks over mel tubelets with a fixed sin-cos
             table, then the attentive pooler (one learned query, cross-attention without output
             projection, MLP) and a Linear head.

Run on Debian's python3-torch (the same ATen kernels as escd's libtorch), one thread. Prints one
JSON object: parameter counts, training step (forward + backward, batch x frames x mels),
inference forward per clip, streaming step per frame (1 and `rows` rows), and the GEMM rate of a
large matmul. Parameter counts must equal escd's (bench_models prints them); run.sh checks.

Usage: reference_models.py [--batch 32] [--frames 155] [--repeats 3] [--rows 10]
                           [--models mamba,liquid_s4,vjepa2] [--tiny]
"""
import argparse
import ctypes
import json
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

N_MELS, N_CLASSES = 128, 50


def median_seconds(fn, repeats):
    """Median CPU time of the process (not wall time: the machine may be shared; with one thread
    and OPENBLAS_NUM_THREADS=1 CPU time is the work done), after one warm-up call. A call of more
    than 10 s counts as a measurement itself: warm-up costs (allocator, FFT plans) are milliseconds.
    A call of more than a minute (the per-step Mamba reference's training step) is measured once."""
    t0 = time.process_time()
    fn()  # warm-up: allocator, FFT plans
    first = time.process_time() - t0
    if first > 60.0:
        return first  # minutes per call (the per-step Mamba reference): one measurement is plenty
    times = [first] if first > 10.0 else []
    for _ in range(repeats - len(times)):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    times.sort()
    return times[len(times) // 2]


# ---------------------------------------------------------------------------------------------
# Mamba (docs/MODELS.md 2)

class RMSNorm(nn.Module):
    def __init__(self, d, eps=1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(d))

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


def selective_scan_reference(u, delta, A, B, C, D, z):
    """u, delta, z: [b, E, L]; A: [E, N]; B, C: [b, N, L]. One Python step per time index, as the
    reference implementation does on CPU."""
    deltaA = torch.exp(torch.einsum("bdl,dn->bdln", delta, A))
    deltaB_u = torch.einsum("bdl,bnl,bdl->bdln", delta, B, u)
    x = u.new_zeros(u.shape[0], u.shape[1], A.shape[1])
    ys = []
    for i in range(u.shape[2]):
        x = deltaA[:, :, i] * x + deltaB_u[:, :, i]
        ys.append(torch.einsum("bdn,bn->bd", x, C[:, :, i]))
    y = torch.stack(ys, dim=2) + u * D.unsqueeze(-1)
    return y * F.silu(z)


class MambaMixer(nn.Module):
    def __init__(self, d_model, d_state=16, d_conv=4, expand=2):
        super().__init__()
        E = expand * d_model
        self.E, self.N, self.R, self.K = E, d_state, math.ceil(d_model / 16), d_conv
        self.in_proj = nn.Linear(d_model, 2 * E, bias=False)
        self.conv1d = nn.Conv1d(E, E, d_conv, groups=E, padding=d_conv - 1, bias=True)
        self.x_proj = nn.Linear(E, self.R + 2 * d_state, bias=False)
        self.dt_proj = nn.Linear(self.R, E, bias=True)
        self.A_log = nn.Parameter(torch.log(torch.arange(1, d_state + 1, dtype=torch.float32)).repeat(E, 1))
        self.D = nn.Parameter(torch.ones(E))
        self.out_proj = nn.Linear(E, d_model, bias=False)

    def forward(self, h):  # [b, L, D]
        L = h.shape[1]
        xz = self.in_proj(h).transpose(1, 2)  # [b, 2E, L]
        x, z = xz.chunk(2, dim=1)
        x = F.silu(self.conv1d(x)[..., :L])
        x_dbl = self.x_proj(x.transpose(1, 2))  # [b, L, R + 2N]
        dt, B, C = torch.split(x_dbl, [self.R, self.N, self.N], dim=-1)
        delta = F.softplus(self.dt_proj(dt)).transpose(1, 2)
        y = selective_scan_reference(x, delta, -torch.exp(self.A_log), B.transpose(1, 2), C.transpose(1, 2), self.D, z)
        return self.out_proj(y.transpose(1, 2))

    def step(self, h, conv_state, ssm_state):  # h [b, D]; conv_state [b, E, K]; ssm_state [b, E, N]
        x, z = self.in_proj(h).chunk(2, dim=-1)
        conv_state.copy_(torch.roll(conv_state, shifts=-1, dims=-1))
        conv_state[:, :, -1] = x
        x = F.silu(torch.sum(conv_state * self.conv1d.weight.squeeze(1), dim=-1) + self.conv1d.bias)
        dt, B, C = torch.split(self.x_proj(x), [self.R, self.N, self.N], dim=-1)
        dt = F.softplus(self.dt_proj(dt))
        A = -torch.exp(self.A_log)
        dA = torch.exp(torch.einsum("bd,dn->bdn", dt, A))
        dBx = torch.einsum("bd,bn,bd->bdn", dt, B, x)
        ssm_state.copy_(ssm_state * dA + dBx)
        y = torch.einsum("bdn,bn->bd", ssm_state, C) + self.D * x
        return self.out_proj(y * F.silu(z))


class MelConv(nn.Module):
    """escd's front end (src/models/common/mel_conv.h): three stride-2 convolutions over the mel axis
    (kernels 5, 5, 3; channels C, 2C, 2C), each with GroupNorm(1) per frame and GELU, flattened. With
    time_kernel k > 1 each is a causal Conv2d over (time, mel) with k frames, zeros before the first."""

    def __init__(self, channels, time_kernel):
        super().__init__()
        self.k = time_kernel
        widths, kernels, cin = (channels, 2 * channels, 2 * channels), (5, 5, 3), 1
        self.convs, self.norms = nn.ModuleList(), nn.ModuleList()
        for w, k in zip(widths, kernels):
            self.convs.append(nn.Conv1d(cin, w, k, stride=2, padding=k // 2) if time_kernel == 1 else
                              nn.Conv2d(cin, w, (time_kernel, k), stride=(1, 2), padding=(0, k // 2)))
            self.norms.append(nn.GroupNorm(1, w))
            cin = w
        self.out_features = cin * (N_MELS // 8)

    def layer(self, i, x):  # [n, C, k - 1 + T, F] -> [n, C', T, F'], normalised per frame
        y = self.convs[i](x)
        n, c, t, f = y.shape
        return F.gelu(self.norms[i](y.transpose(1, 2).reshape(n * t, c, f))).reshape(n, t, c, -1).transpose(1, 2)

    def forward(self, frames):  # [..., M] (time_kernel 1) or [b, T, M] -> [..., out_features]
        if self.k == 1:
            lead, h = frames.shape[:-1], frames.reshape(-1, 1, frames.shape[-1])
            for conv, norm in zip(self.convs, self.norms):
                h = F.gelu(norm(conv(h)))
            return h.reshape(*lead, self.out_features)
        b, t, _ = frames.shape
        h = frames.unsqueeze(1)
        for i in range(len(self.convs)):
            h = self.layer(i, F.pad(h, (0, 0, self.k - 1, 0)))
        return h.transpose(1, 2).reshape(b, t, self.out_features)

    def make_stepper(self, rows):
        """frame [rows, M] -> [rows, out_features], keeping each layer's last k - 1 inputs."""
        if self.k == 1:
            return self.forward
        history = [None] * len(self.convs)

        def step(frame):
            x = frame.unsqueeze(1)  # [rows, 1, M]
            for i in range(len(self.convs)):
                if history[i] is None:
                    history[i] = torch.zeros(rows, x.shape[1], self.k - 1, x.shape[2])
                window = torch.cat([history[i], x.unsqueeze(2)], 2)
                history[i] = window[:, :, 1:]
                x = self.layer(i, window).squeeze(2)
            return x.reshape(rows, -1)
        return step


def front_end(mel_conv_channels, width, time_kernel):
    """MelConv then Linear, or Linear(M -> width) alone when mel_conv_channels is 0."""
    if mel_conv_channels == 0:
        return nn.Linear(N_MELS, width)
    conv = MelConv(mel_conv_channels, time_kernel)
    return nn.Sequential(conv, nn.Linear(conv.out_features, width))


def front_end_stepper(embedding, rows):
    """front_end's module one frame at a time: [rows, M] -> [rows, width]."""
    if isinstance(embedding, nn.Linear):
        return embedding
    conv = embedding[0].make_stepper(rows)
    return lambda frame: embedding[1](conv(frame))


class MambaClassifier(nn.Module):
    def __init__(self, d_model=128, n_layers=4, d_state=16, mel_conv_channels=16, mel_conv_time_kernel=3):
        super().__init__()
        self.embedding = front_end(mel_conv_channels, d_model, mel_conv_time_kernel)
        self.norms = nn.ModuleList([RMSNorm(d_model) for _ in range(n_layers)])
        self.mixers = nn.ModuleList([MambaMixer(d_model, d_state) for _ in range(n_layers)])
        self.norm_f = RMSNorm(d_model)
        self.head = nn.Linear(d_model, N_CLASSES)

    def forward(self, frames):  # [b, L, M]
        r = self.embedding(frames)
        for norm, mixer in zip(self.norms, self.mixers):
            r = r + mixer(norm(r))
        return self.head(self.norm_f(r).mean(1))

    def make_stepper(self, rows):
        m0 = self.mixers[0]
        conv = [torch.zeros(rows, m0.E, m0.K) for _ in self.mixers]
        ssm = [torch.zeros(rows, m0.E, m0.N) for _ in self.mixers]

        embed = front_end_stepper(self.embedding, rows)

        def step(frame):
            r = embed(frame)
            for i, (norm, mixer) in enumerate(zip(self.norms, self.mixers)):
                r = r + mixer.step(norm(r), conv[i], ssm[i])
            return self.norm_f(r)
        return step


# ---------------------------------------------------------------------------------------------
# Liquid-S4 (docs/MODELS.md 1; escd's defaults: S4D-LegS modes, ZOH, kb liquid chain of degree 2)

def legs_diagonal(N):
    """S4D-LegS: eigenvalues of the normal part of HiPPO-LegS (real part -1/2), B = V* B_legs."""
    n = torch.arange(N, dtype=torch.float64)
    p = torch.sqrt(n + 0.5)
    Bl = torch.sqrt(2 * n + 1)
    A = -torch.tril(torch.sqrt(2 * n + 1)[:, None] * torch.sqrt(2 * n + 1)[None, :], -1) - torch.diag(n + 1)
    skew = A + p[:, None] * p[None, :] + 0.5 * torch.eye(N, dtype=torch.float64)  # A + pp' = -I/2 + skew
    w, V = torch.linalg.eigh(-1j * skew)  # -i * skew is Hermitian: skew V = i w V
    lam = -0.5 + 1j * w
    order = torch.argsort(lam.imag)[: N // 2]
    V = V[:, order]
    return lam[order].to(torch.complex64), (V.conj().T @ Bl.to(torch.complex128)).to(torch.complex64)


def fft_conv(u, K):
    """Causal linear convolution along the last axis: u [b, H, L], K [H, L]."""
    L = u.shape[-1]
    return torch.fft.irfft(torch.fft.rfft(u, n=2 * L) * torch.fft.rfft(K, n=2 * L), n=2 * L)[..., :L]


class S4DLayer(nn.Module):
    def __init__(self, H, N=64, dt_min=1e-3, dt_max=1e-1, kb_degree=2):
        super().__init__()
        lam, B = legs_diagonal(N)
        M = N // 2
        self.log_dt = nn.Parameter(torch.rand(H) * (math.log(dt_max) - math.log(dt_min)) + math.log(dt_min))
        self.log_A_real = nn.Parameter(torch.log(-lam.real).repeat(H, 1))
        self.A_imag = nn.Parameter(lam.imag.repeat(H, 1))
        self.B = nn.Parameter(torch.view_as_real(B).repeat(H, 1, 1))
        self.C = nn.Parameter(torch.randn(H, M, 2) * math.sqrt(0.5))
        self.D = nn.Parameter(torch.randn(H))
        self.liquid_scale = nn.Parameter(torch.full((kb_degree - 1, H), 0.1))
        self.out_w = nn.Parameter(torch.randn(2 * H, H) / math.sqrt(H))  # transposed Linear H -> 2H
        self.out_b = nn.Parameter(torch.zeros(2 * H))

    def discretise(self):
        A = torch.complex(-torch.exp(self.log_A_real), self.A_imag)
        dtA = A * torch.exp(self.log_dt).unsqueeze(-1)
        dA = torch.exp(dtA)
        return dtA, dA, (dA - 1) / A * torch.view_as_complex(self.B)

    def kernels(self, L):
        dtA, _, dB = self.discretise()
        powers = torch.exp(dtA.unsqueeze(-1) * torch.arange(L, device=dtA.device))  # [H, M, L]
        K = 2 * torch.einsum("hm,hml->hl", torch.view_as_complex(self.C) * dB, powers).real
        G = 2 * torch.einsum("hm,hml->hl", dB, powers).real
        return K, G

    def output(self, y):  # y [b, H, ...]: GELU, transposed Linear, GLU over channels
        h = F.gelu(y)
        h = torch.einsum("bu...,vu->bv...", h, self.out_w) + self.out_b.view(-1, *([1] * (h.dim() - 2)))
        return F.glu(h, dim=1)

    def forward(self, u):  # [b, H, L]
        K, G = self.kernels(u.shape[-1])
        drive, v = u, u
        for q in range(self.liquid_scale.shape[0]):
            readout = fft_conv(v, G)  # 1'x^{(q-1)}
            v = u * F.pad(readout[..., :-1], (1, 0))  # causal: the chain state before this frame
            drive = drive + self.liquid_scale[q].unsqueeze(-1) * v
        return self.output(fft_conv(drive, K) + self.D.unsqueeze(-1) * u)

    def make_stepper(self, rows):
        with torch.no_grad():
            _, dA, dB = self.discretise()
            C2 = 2 * torch.view_as_complex(self.C)
        chains = self.liquid_scale.shape[0] + 1
        states = [torch.zeros(rows, *dA.shape, dtype=torch.complex64) for _ in range(chains)]

        def step(u):  # [rows, H]
            vs = [u] + [u * 2 * states[q - 1].real.sum(-1) for q in range(1, chains)]
            y = self.D * u
            for q in range(chains):
                states[q] = dA * states[q] + dB * vs[q].unsqueeze(-1)
                out = (C2 * states[q]).real.sum(-1)
                y = y + (out if q == 0 else self.liquid_scale[q - 1] * out)
            return self.output(y)
        return step


class TransposedLayerNorm(nn.LayerNorm):
    def forward(self, x):  # [b, H, L] -> normalise over H
        return super().forward(x.transpose(1, -1)).transpose(1, -1)


class LiquidS4Classifier(nn.Module):
    def __init__(self, d_model=128, n_layers=4, d_state=64, mel_conv_channels=16, mel_conv_time_kernel=3):
        super().__init__()
        self.encoder = front_end(mel_conv_channels, d_model, mel_conv_time_kernel)
        self.norms = nn.ModuleList([TransposedLayerNorm(d_model) for _ in range(n_layers)])
        self.layers = nn.ModuleList([S4DLayer(d_model, d_state) for _ in range(n_layers)])
        self.final_norm = TransposedLayerNorm(d_model)
        self.head = nn.Linear(d_model, N_CLASSES)

    def forward(self, frames):  # [b, L, M]
        x = self.encoder(frames).transpose(1, 2)  # [b, H, L]
        for norm, layer in zip(self.norms, self.layers):
            x = x + layer(norm(x))
        return self.head(self.final_norm(x).mean(-1))

    def make_stepper(self, rows):
        steps = [layer.make_stepper(rows) for layer in self.layers]
        embed = front_end_stepper(self.encoder, rows)

        def step(frame):
            x = embed(frame)
            for norm, s in zip(self.norms, steps):
                x = x + s(norm(x))
            return self.final_norm(x)
        return step


# ---------------------------------------------------------------------------------------------
# V-JEPA2 (docs/MODELS.md 3): tubelets of 8 frames x 16 mels, ViT encoder, attentive pooler

def sincos(positions, d):
    omega = 10000.0 ** (-torch.arange(d // 2, dtype=torch.float64) / (d // 2))
    angles = positions.double().unsqueeze(1) * omega
    return torch.cat([torch.sin(angles), torch.cos(angles)], 1).float()


class CrossAttentionBlock(nn.Module):
    """q <- q + XAttn(q, LN(x)) (heads concatenated, no output projection); q <- q + MLP(LN(q))."""

    def __init__(self, D, heads, mlp_ratio):
        super().__init__()
        self.heads = heads
        self.norm1, self.norm2 = nn.LayerNorm(D, eps=1e-6), nn.LayerNorm(D, eps=1e-6)
        self.q, self.kv = nn.Linear(D, D), nn.Linear(D, 2 * D)
        self.mlp = nn.Sequential(nn.Linear(D, mlp_ratio * D), nn.GELU(), nn.Linear(mlp_ratio * D, D))

    def forward(self, query, x):
        b, n, D = x.shape
        h = self.heads
        q = self.q(query).view(b, -1, h, D // h).transpose(1, 2)
        k, v = self.kv(self.norm1(x)).view(b, n, 2, h, D // h).permute(2, 0, 3, 1, 4)
        attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(D // h), dim=-1)
        y = query + (attn @ v).transpose(1, 2).reshape(b, -1, D)
        return y + self.mlp(self.norm2(y))


class Vjepa2Classifier(nn.Module):
    def __init__(self, D=128, depth=4, heads=4, mlp_ratio=4, tubelet=8, patch_mels=16, max_tubelets=19,
                 mel_conv_channels=16, mel_conv_time_kernel=3):
        super().__init__()
        self.tubelet, self.patch_mels, self.max_tubelets = tubelet, patch_mels, max_tubelets
        P = N_MELS // patch_mels
        # escd cuts tokens from the MelConv's features laid out band by band: patch_mels / 8 bands of 2C.
        self.mel_conv = MelConv(mel_conv_channels, mel_conv_time_kernel) if mel_conv_channels else None
        self.patch_width = patch_mels // 8 * 2 * mel_conv_channels if mel_conv_channels else patch_mels
        self.patch_embed = nn.Linear(tubelet * self.patch_width, D)
        layer = nn.TransformerEncoderLayer(D, heads, mlp_ratio * D, dropout=0.0, activation="gelu",
                                           layer_norm_eps=1e-6, batch_first=True, norm_first=True)
        self.blocks = nn.TransformerEncoder(layer, depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(D, eps=1e-6)
        self.pool_query = nn.Parameter(torch.randn(1, 1, D) * 0.02)
        self.pooler = CrossAttentionBlock(D, heads, mlp_ratio)
        self.head = nn.Linear(D, N_CLASSES)
        token = torch.arange(max_tubelets * P)
        self.register_buffer("positions", torch.cat([sincos(token // P, D // 2), sincos(token % P, D // 2)], 1),
                             persistent=False)

    def forward(self, frames):  # [b, T, M]: the latest whole tubelets, as escd
        b, T, M = frames.shape
        n = min(T // self.tubelet, self.max_tubelets)
        P = M // self.patch_mels
        x = frames
        if self.mel_conv is not None:  # on every frame, as escd: with a time kernel the dropped ones are context
            bands = M // 8
            x = self.mel_conv(x).reshape(b, T, -1, bands).transpose(-1, -2)
        x = x[:, T - n * self.tubelet:].reshape(b, n, self.tubelet, P, self.patch_width)
        x = x.permute(0, 1, 3, 2, 4).reshape(b, n * P, -1)
        x = self.norm(self.blocks(self.patch_embed(x) + self.positions[: n * P]))
        return self.head(self.pooler(self.pool_query.expand(b, -1, -1), x).squeeze(1))


# ---------------------------------------------------------------------------------------------

def build(name, tiny):
    if name == "mamba":
        return MambaClassifier(d_model=32, n_layers=1) if tiny else MambaClassifier()
    if name == "liquid_s4":
        return LiquidS4Classifier(d_model=32, n_layers=1, d_state=8) if tiny else LiquidS4Classifier()
    if name == "vjepa2":
        return Vjepa2Classifier(D=32, depth=1, heads=2, max_tubelets=4) if tiny else Vjepa2Classifier()
    raise SystemExit(f"reference_models.py: unknown model '{name}' (expected mamba, liquid_s4 or vjepa2)")


def bench_model(name, args):
    torch.manual_seed(0)
    model = build(name, args.tiny)
    params = sum(p.numel() for p in model.parameters())
    frames = torch.randn(args.batch, args.frames, N_MELS)
    labels = torch.randint(N_CLASSES, (args.batch,))

    def train_step():
        model.zero_grad()
        F.cross_entropy(model(frames), labels).backward()

    out = {"parameters": params, "train_step_s": median_seconds(train_step, args.repeats)}
    with torch.no_grad():
        one = frames[:1]
        out["forward_clip_ms"] = 1e3 * median_seconds(lambda: model(one), args.repeats)
        if hasattr(model, "make_stepper"):
            for rows in (1, args.rows):
                step = model.make_stepper(rows)
                frame = torch.randn(rows, N_MELS)
                n = args.stream_steps

                def run():
                    for _ in range(n):
                        step(frame)
                out[f"step_{rows}_rows_us"] = 1e6 * median_seconds(run, args.repeats) / n
    return out


def openblas_core():
    """The OpenBLAS kernel torch runs ("Prescott", "SkylakeX", ...), or "" for another BLAS."""
    try:
        name = ctypes.CDLL("libopenblas.so.0").openblas_get_corename
    except (OSError, AttributeError):
        return ""
    name.restype = ctypes.c_char_p
    return name().decode()


def gemm_gflops(n, repeats):
    a, b = torch.randn(n, n), torch.randn(n, n)
    return 2.0 * n ** 3 / median_seconds(lambda: torch.mm(a, b), repeats) / 1e9


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--frames", type=int, default=155)
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--rows", type=int, default=10)
    ap.add_argument("--stream-steps", type=int, default=50)
    ap.add_argument("--gemm", type=int, default=2048, help="matrix size of the GEMM-rate probe")
    ap.add_argument("--models", default="mamba,liquid_s4,vjepa2")
    ap.add_argument("--tiny", action="store_true", help="tiny sizes: a smoke run of a few seconds")
    args = ap.parse_args()
    torch.set_num_threads(1)
    result = {"threads": torch.get_num_threads(), "torch": torch.__version__, "blas_core": openblas_core(),
              "gemm_gflops": gemm_gflops(args.gemm, args.repeats), "models": {}}
    for name in args.models.split(","):
        result["models"][name] = bench_model(name, args)
    print(json.dumps(result))


if __name__ == "__main__":
    main()

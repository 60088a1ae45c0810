"""Training throughput of the forecaster's configuration in PyTorch on the CPU.

The same network as Sources/KrylovForecaster (GPT-2 pre-norm blocks, ALiBi causal attention,
tanh GELU, F = 3 input features, one output per position), the same AdamW settings and
gradient clipping, timed on the same synthetic (B, T) windows as `krylov bench-forecaster`,
and reported in the same unit: positions (B*T) per second.

    pip install torch numpy
    python3 scripts/benchmarks/torch_train.py --threads 2

Not part of the tests (PyTorch is large); see docs/benchmarks.md.
"""
import argparse
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class Block(nn.Module):
    def __init__(self, C, NH):
        super().__init__()
        self.NH = NH
        self.ln1 = nn.LayerNorm(C, eps=1e-5)
        self.qkv = nn.Linear(C, 3 * C)
        self.proj = nn.Linear(C, C)
        self.ln2 = nn.LayerNorm(C, eps=1e-5)
        self.fc = nn.Linear(C, 4 * C)
        self.fcproj = nn.Linear(4 * C, C)

    def forward(self, x, bias):
        B, T, C = x.shape
        hs = C // self.NH
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q = q.view(B, T, self.NH, hs).transpose(1, 2)
        k = k.view(B, T, self.NH, hs).transpose(1, 2)
        v = v.view(B, T, self.NH, hs).transpose(1, 2)
        # ALiBi bias (NH, T, T) with -inf above the diagonal, as an additive mask.
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x = x + self.proj(y.transpose(1, 2).contiguous().view(B, T, C))
        x = x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh"))
        return x


class Forecaster(nn.Module):
    def __init__(self, L=4, NH=4, C=64, Fin=3):
        super().__init__()
        self.NH = NH
        self.wte = nn.Linear(Fin, C)
        self.blocks = nn.ModuleList([Block(C, NH) for _ in range(L)])
        self.lnf = nn.LayerNorm(C, eps=1e-5)
        self.head = nn.Linear(C, 1)

    def alibi(self, T):
        slopes = torch.tensor([2 ** (-8 * (h + 1) / self.NH) for h in range(self.NH)])
        pos = torch.arange(T)
        distance = (pos[:, None] - pos[None, :]).float()
        bias = -slopes[:, None, None] * distance
        return bias.masked_fill(distance < 0, float("-inf"))

    def forward(self, x, bias):
        h = self.wte(x)
        for block in self.blocks:
            h = block(h, bias)
        return self.head(self.lnf(h)).squeeze(-1)


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--length", type=int, default=320)
    p.add_argument("--steps", type=int, default=20)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = Forecaster()
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.01)
    x = torch.randn(a.batch, a.length, 3)
    y = torch.randn(a.batch, a.length)
    bias = model.alibi(a.length)
    times = []
    for step in range(a.steps + 2):
        t0 = time.perf_counter()
        out = model(x, bias)
        loss = F.mse_loss(out, y)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        if step >= 2:
            times.append(time.perf_counter() - t0)
    times.sort()
    step_time = times[len(times) // 2]
    print(f"pytorch {torch.__version__}: {params} parameters, B={a.batch} T={a.length}, {a.threads} threads: "
          f"{step_time * 1e3:.1f} ms/step, {a.batch * a.length / step_time:.0f} positions/s")


if __name__ == "__main__":
    main()

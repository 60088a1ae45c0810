"""Training throughput of the forecaster's configuration in PyTorch on the CPU.

The project's PyTorch network (scripts/torch/model.py, the same as Sources/KrylovForecaster:
GPT-2 pre-norm blocks, ALiBi causal attention, tanh GELU, F = 7 input features, one output per
position) in krylov's default configuration, the same AdamW settings and
gradient clipping, timed on the same synthetic (B, T) windows as `krylov bench-forecaster`,
and reported in the same unit: positions (B*T) per second.

    make torch-env && .venv-torch/bin/python scripts/benchmarks/torch_train.py --threads 2

Not part of the tests; see docs/benchmarks.md.
"""
import argparse
import sys
import time
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "torch"))
from model import Forecaster  # noqa: E402  (the project's PyTorch network, scripts/torch/model.py)

# krylov's default configuration (ForecasterConfig()): 7 input features with the system's.
CONFIG = {"layers": 4, "heads": 4, "channels": 64, "scaleWindow": 10, "stepGain": 5.0, "systemInputs": True}


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--length", type=int, default=320)
    p.add_argument("--steps", type=int, default=20)
    a = p.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(1)
    model = Forecaster(CONFIG)
    params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, betas=(0.9, 0.95), eps=1e-8, weight_decay=0.01)
    x = torch.randn(a.batch, a.length, model.wte.in_features)
    y = torch.randn(a.batch, a.length)
    times = []
    for step in range(a.steps + 2):
        t0 = time.perf_counter()
        out = model(x)
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

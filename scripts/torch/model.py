"""The forecaster's network in PyTorch, and its exchange with krylov's checkpoints.

The same network as Sources/KrylovForecaster (docs/model.md): GPT-2 pre-norm blocks, causal
multi-head attention with ALiBi biases and no position embedding, tanh GELU, one output per
position (the predicted next step). Every parameter is an `nn.Linear` or `nn.LayerNorm` whose
weight has exactly the shape krylov stores (`wte` is (C, F), `qkvw` is (L, 3C, C) stacked over
the layers, ...), so a checkpoint moves between the two by stacking and unstacking, with no
transposition and no conversion: `from_checkpoint` and `to_checkpoint`.

The file format itself is read and written by the numpy reference (scripts/reference/
forecaster.py), the project's one Python codec of checkpoints.
"""
import math
import sys
from pathlib import Path

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "reference"))
import forecaster as reference  # noqa: E402  (checkpoint codec, input encoding)

LAYER_NORM_EPSILON = reference.LAYER_NORM_EPSILON


class Block(nn.Module):
    """[LayerNorm -> causal ALiBi attention -> projection -> residual], then the MLP."""

    def __init__(self, C, NH):
        super().__init__()
        self.NH = NH
        self.ln1 = nn.LayerNorm(C, eps=LAYER_NORM_EPSILON)
        self.qkv = nn.Linear(C, 3 * C)
        self.proj = nn.Linear(C, C)
        self.ln2 = nn.LayerNorm(C, eps=LAYER_NORM_EPSILON)
        self.fc = nn.Linear(C, 4 * C)
        self.fcproj = nn.Linear(4 * C, C)

    def forward(self, x, bias, past=None):
        """x (B, Tq, C) for the last Tq positions; past: the cached (keys, values) of the earlier
        positions, or None. Returns the block's output and the (keys, values) of all positions."""
        B, T, C = x.shape
        hs = C // self.NH
        q, k, v = self.qkv(self.ln1(x)).split(C, dim=2)
        q, k, v = (t.view(B, T, self.NH, hs).transpose(1, 2) for t in (q, k, v))
        if past is not None:
            k, v = torch.cat((past[0], k), dim=2), torch.cat((past[1], v), dim=2)
        # bias (NH, Tq, Tk): -m_h (t - s) for key s at or before query t, -inf after it. The
        # scores are q.k / sqrt(hs) plus the bias, as in the Swift layer.
        y = F.scaled_dot_product_attention(q, k, v, attn_mask=bias)
        x = x + self.proj(y.transpose(1, 2).contiguous().view(B, T, C))
        return x + self.fcproj(F.gelu(self.fc(self.ln2(x)), approximate="tanh")), (k, v)


class Forecaster(nn.Module):
    """The whole network, from a krylov configuration (layers, heads, channels, systemInputs)."""

    def __init__(self, config):
        super().__init__()
        self.config = dict(config)
        L, NH, C = config["layers"], config["heads"], config["channels"]
        self.NH = NH
        self.wte = nn.Linear(reference.feature_count(config), C)
        self.blocks = nn.ModuleList([Block(C, NH) for _ in range(L)])
        self.lnf = nn.LayerNorm(C, eps=LAYER_NORM_EPSILON)
        self.head = nn.Linear(C, 1)

    def alibi(self, queries, keys, device, dtype):
        """The attention bias (NH, queries, keys) of the last `queries` of `keys` positions:
        ALiBi's -m_h (t - s) at and below the diagonal, -inf above it."""
        slopes = torch.tensor(reference.alibi_slopes(self.NH), dtype=dtype, device=device)
        distance = (torch.arange(keys - queries, keys, device=device)[:, None]
                    - torch.arange(keys, device=device)[None, :]).to(dtype)
        bias = -slopes[:, None, None] * distance
        return bias.masked_fill(distance < 0, float("-inf"))

    def forward(self, features):
        """(B, T, F) features -> (B, T) predicted steps, each position seeing only its past."""
        return self.decode(features)[0]

    def decode(self, features, past=None):
        """Outputs for positions that follow the cached ones: `past` is what an earlier call
        returned (None to start). Returns (outputs (B, Tq), the cache including these positions).
        The full forward and the rollout's one-row steps are this one function."""
        queries = features.shape[1]
        keys = queries + (0 if past is None else past[0][0].shape[2])
        bias = self.alibi(queries, keys, features.device, features.dtype)
        h = self.wte(features)
        present = []
        for l, block in enumerate(self.blocks):
            h, cache = block(h, bias, None if past is None else past[l])
            present.append(cache)
        return self.head(self.lnf(h)).squeeze(-1), present

    def initialize(self, seed):
        """krylov's initialization scheme (Transformer.initialize): N(0, 0.02) for the input,
        attention, MLP and head weights, scaled by 1/sqrt(2L) on the two residual projections;
        zero biases; unit LayerNorm weights. The draws differ from krylov's (another generator)."""
        generator = torch.Generator().manual_seed(seed)
        residual = 1 / math.sqrt(2 * self.config["layers"])
        with torch.no_grad():
            for name, p in self.named_parameters():
                if name.endswith("bias"):
                    p.zero_()
                elif ".ln" in name or name.startswith("lnf"):
                    p.fill_(1.0)
                else:
                    std = 0.02 * (residual if name.endswith(("proj.weight",)) else 1.0)
                    p.copy_(torch.randn(p.shape, generator=generator) * std)


# krylov's tensor name -> (per-layer module attribute or None for a whole-model one, parameter)
_NAMES = {
    "wte": (None, "wte.weight"), "bte": (None, "wte.bias"),
    "ln1w": ("ln1", "weight"), "ln1b": ("ln1", "bias"),
    "qkvw": ("qkv", "weight"), "qkvb": ("qkv", "bias"),
    "attprojw": ("proj", "weight"), "attprojb": ("proj", "bias"),
    "ln2w": ("ln2", "weight"), "ln2b": ("ln2", "bias"),
    "fcw": ("fc", "weight"), "fcb": ("fc", "bias"),
    "fcprojw": ("fcproj", "weight"), "fcprojb": ("fcproj", "bias"),
    "lnfw": (None, "lnf.weight"), "lnfb": (None, "lnf.bias"),
    "headw": (None, "head.weight"), "headb": (None, "head.bias"),
}


def to_checkpoint(model):
    """krylov's named tensors (numpy float32) of the model's current weights."""
    state = {k: v.detach().to("cpu", torch.float32) for k, v in model.state_dict().items()}
    tensors = {}
    for name, (module, attribute) in _NAMES.items():
        if module is None:
            tensors[name] = state[attribute].numpy()
        else:
            layers = [state[f"blocks.{l}.{module}.{attribute}"] for l in range(len(model.blocks))]
            tensors[name] = torch.stack(layers).numpy()
    return tensors


def from_checkpoint(config, tensors):
    """A model holding the weights of krylov's named tensors (as the reference loads them)."""
    model = Forecaster(config)
    state = {}
    for name, (module, attribute) in _NAMES.items():
        value = torch.as_tensor(tensors[name], dtype=torch.float32)
        if module is None:
            state[attribute] = value
        else:
            for l in range(config["layers"]):
                state[f"blocks.{l}.{module}.{attribute}"] = value[l]
    model.load_state_dict(state, strict=True)
    return model


def load(path):
    """(model, metadata) from a krylov checkpoint file."""
    config, tensors, metadata = reference.read_checkpoint(path)
    return from_checkpoint(config, tensors), metadata


@torch.no_grad()
def rollout(model, prefixes, horizons, contexts, device="cpu"):
    """Forecasts b_{k+1}..b_M for several sequences at once, as krylov's rollout does.

    prefixes: lists b_1..b_k (k may differ); horizons: M per sequence; contexts: the reference's
    system contexts (None, "inf" or (N, open)). Each sequence is scaled by the RMS of its first
    scaleWindow values; the prefix is fed as given, then each output (a step times stepGain) is
    added to the last scaled value, kept non-negative, and fed back. Sequences with the same k
    advance together, with keys and values cached, so a step costs one row through the network.
    """
    config = model.config
    window, gain = config["scaleWindow"], config["stepGain"]
    outputs = [[] for _ in prefixes]
    model.eval()
    by_length = {}
    for i, prefix in enumerate(prefixes):
        by_length.setdefault(len(prefix), []).append(i)
    for k, rows in by_length.items():
        scales = [reference.scale_of(prefixes[i], window) for i in rows]
        x = [[v / s for v in prefixes[i]] for i, s in zip(rows, scales)]
        features = np.stack([reference.encode(xi, config, contexts[i]) for xi, i in zip(x, rows)])
        steps, cache = model.decode(torch.from_numpy(features).to(device, torch.float32))
        last = max(horizons[i] for i in rows)
        for t in range(k, last):  # t values known; the next is b_{t+1}
            step = steps[:, -1].to("cpu", torch.float64).numpy()
            new_rows = []
            for r, i in enumerate(rows):
                value = max(0.0, x[r][-1] + float(step[r]) / gain)
                x[r].append(value)
                if t < horizons[i]:
                    outputs[i].append(float(value * scales[r]))
                new_rows.append(reference.encode(x[r][-2:], config, contexts[i], first=t - 1))
            if t + 1 < last:
                steps, cache = model.decode(
                    torch.from_numpy(np.stack(new_rows)[:, -1:]).to(device, torch.float32), cache)
    return outputs


def _forecast(model, config, prefix, horizon, context):
    """The reference's forecast signature, by this network's rollout (for the command line)."""
    k = len(prefix)
    if k < config["scaleWindow"]:
        raise ValueError(f"the prefix holds {k} coefficients; the model needs at least {config['scaleWindow']}")
    if horizon <= k:
        raise ValueError(f"the horizon M = {horizon} must be larger than the prefix length k = {k}")
    return rollout(model, [list(prefix)], [horizon], [context])[0]


def _load(path):
    model, _ = load(path)
    return model.config, model


if __name__ == "__main__":
    # One forecast value b_{k+1}..b_M per line, with the reference's options:
    #     python3 scripts/torch/model.py MODEL --prefix-file b.json --prefix 30 --horizon 200 [--n N] [--bc B]
    sys.exit(reference.main(load=_load, run=_forecast,
                            description="Forecast with the PyTorch network from a krylov checkpoint."))

#!/usr/bin/env python3
"""An independent numpy reference of the forecaster's forward pass and rollout.

It plays the part llm.c's PyTorch reference plays for its C code: the same network written a
second time, as plainly as possible (docs/model.md describes it), so that the Swift
implementation (Sources/KrylovForecaster) can be checked against it number for number. Nothing
here is shared with the Swift code: the checkpoint is parsed by hand, every layer is a few
lines of numpy in float64, and the rollout recomputes the full causal forward at every step
instead of caching keys and values, so it also checks the Swift key/value cache.

The network (GPT-2's pre-norm block, as in llm.c):

    features (T, F) -> wte, bte -> L x [x += attproj(attn(ln1(x))); x += fcproj(gelu(fc(ln2(x))))]
                    -> lnf -> headw, headb -> one output per position (the predicted next step)

Inputs at the position holding b_n, with x_n = b_n / s and s the RMS of b_1..b_w
(w = scaleWindow): x_n, g*(x_n - x_{n-1}) (0 at n = 1), log max(x_n, 1e-3), g = stepGain;
then, for a checkpoint whose config has "systemInputs": true, the four system features
(given, 8/N, open, min(n/(2N), 4)), which are (1, 0, 0, 0) for the infinite chain and all zero
when the size is unknown. Attention uses ALiBi: head h adds -m_h*(t - s) to the score of
query t on key s, m_h = 2^(-8(h+1)/NH), with no learned position embedding.

Use as a module:

    config, params = load_checkpoint("model.safetensors")
    values = forecast(params, config, prefix, horizon=200, context=(12, False))

or from the command line (one forecast value b_{k+1}..b_M per line):

    python3 scripts/reference/forecaster.py MODEL.safetensors --prefix-file b.json \\
        --prefix 30 --horizon 200 [--n N|inf] [--bc pbc|obc]

Only numpy and the standard library are needed.
"""
import argparse
import json
import math
import os
import struct
import sys

# The matrices here are tiny (T x C with C ~ 64): BLAS threads only add contention, which on a
# busy machine makes a rollout many times slower. Set before numpy loads its BLAS.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import numpy as np  # noqa: E402

LAYER_NORM_EPSILON = 1e-5
SEQUENCE_FEATURES = 3
SYSTEM_FEATURES = 4
FORMAT_NAME = "krylov-forecaster"
FORMAT_VERSION = "1"


# ---------------------------------------------------------------------------------------------
# Checkpoints


def parameter_shapes(config):
    """Every parameter tensor's name and shape, in llm.c's order (per-layer tensors stacked on L)."""
    L, C, F = config["layers"], config["channels"], feature_count(config)
    return {
        "wte": (C, F), "bte": (C,),
        "ln1w": (L, C), "ln1b": (L, C),
        "qkvw": (L, 3 * C, C), "qkvb": (L, 3 * C),
        "attprojw": (L, C, C), "attprojb": (L, C),
        "ln2w": (L, C), "ln2b": (L, C),
        "fcw": (L, 4 * C, C), "fcb": (L, 4 * C),
        "fcprojw": (L, C, 4 * C), "fcprojb": (L, C),
        "lnfw": (C,), "lnfb": (C,),
        "headw": (1, C), "headb": (1,),
    }


def feature_count(config):
    # A checkpoint from before size-aware models has no "systemInputs": it reads 3 features.
    return SEQUENCE_FEATURES + (SYSTEM_FEATURES if config.get("systemInputs", False) else 0)


def read_checkpoint(path):
    """(config, tensors, metadata) from a safetensors checkpoint written by `krylov train`.

    safetensors: an 8-byte little-endian header length, a JSON header mapping each tensor name
    to its dtype, shape and [begin, end) byte range in the data section that follows, and
    `__metadata__` (string to string); the forecaster's configuration is the JSON string
    metadata["config"]. The tensors are float32 numpy arrays, checked against the configuration.
    """
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: too short to be a safetensors file")
    (length,) = struct.unpack("<Q", data[:8])
    if length > len(data) - 8:
        raise ValueError(f"{path}: the header length {length} runs past the end of the file")
    header = json.loads(data[8:8 + length].decode("utf-8"))
    body = data[8 + length:]
    metadata = header.pop("__metadata__", {})
    if metadata.get("format") != FORMAT_NAME or metadata.get("format_version") != FORMAT_VERSION:
        raise ValueError(f"{path}: not a {FORMAT_NAME} checkpoint of format version {FORMAT_VERSION}")
    config = json.loads(metadata["config"])
    config.setdefault("systemInputs", False)
    expected = parameter_shapes(config)
    if set(header) != set(expected):
        raise ValueError(f"{path}: tensors {sorted(header)} do not match the configuration's {sorted(expected)}")
    tensors = {}
    for name, shape in expected.items():
        entry = header[name]
        if entry["dtype"] != "F32" or tuple(entry["shape"]) != shape:
            raise ValueError(f"{path}: tensor {name} is {entry['dtype']} {entry['shape']}, expected F32 {list(shape)}")
        begin, end = entry["data_offsets"]
        if not (0 <= begin <= end <= len(body)) or end - begin != 4 * math.prod(shape):
            raise ValueError(f"{path}: tensor {name} has byte range [{begin}, {end}), which does not fit its shape")
        tensors[name] = np.frombuffer(body[begin:end], dtype="<f4").reshape(shape).copy()
    return config, tensors, metadata


def load_checkpoint(path):
    """(config, params) from a checkpoint, the parameters in float64 for the reference forward."""
    config, tensors, _ = read_checkpoint(path)
    return config, {name: t.astype(np.float64) for name, t in tensors.items()}


def save_checkpoint(path, config, params, metadata=None):
    """Writes params (float32) and config as a checkpoint `krylov` reads, atomically.

    `metadata` (string to string) is added beside the format, version and configuration: the
    training record, the training coverage (docs/formats.md).
    """
    names = sorted(params)
    blobs = [np.ascontiguousarray(params[n], dtype="<f4").tobytes() for n in names]
    meta = dict(metadata or {})
    meta.update({
        "format": FORMAT_NAME, "format_version": FORMAT_VERSION,
        "config": json.dumps(config, sort_keys=True, separators=(",", ":")),
    })
    header = {"__metadata__": meta}
    offset = 0
    for name, blob in zip(names, blobs):
        header[name] = {"dtype": "F32", "shape": list(np.shape(params[name])),
                        "data_offsets": [offset, offset + len(blob)]}
        offset += len(blob)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * (-len(text) % 8)  # the data section starts 8-byte aligned
    partial = f"{path}.partial-{os.getpid()}"
    with open(partial, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + b"".join(blobs))
        f.flush()
        os.fsync(f.fileno())
    os.replace(partial, path)  # a reader sees the old file or the new one, never half of one


# ---------------------------------------------------------------------------------------------
# The network


def layer_norm(x, w, b):
    mean = x.mean(axis=-1, keepdims=True)
    var = ((x - mean) ** 2).mean(axis=-1, keepdims=True)  # biased variance, as llm.c
    return (x - mean) / np.sqrt(var + LAYER_NORM_EPSILON) * w + b


def gelu(x):
    # GPT-2's tanh approximation, not the exact erf form.
    return 0.5 * x * (1.0 + np.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def alibi_slopes(heads):
    return np.array([2.0 ** (-8.0 * (h + 1) / heads) for h in range(heads)])


def attention(qkv, heads):
    """Causal multi-head attention with ALiBi biases over (T, 3C) -> (T, C)."""
    T, C3 = qkv.shape
    C = C3 // 3
    hs = C // heads
    q, k, v = qkv[:, :C], qkv[:, C:2 * C], qkv[:, 2 * C:]
    t = np.arange(T)
    distance = (t[:, None] - t[None, :]).astype(np.float64)  # t - s for query t, key s
    future = distance < 0
    out = np.empty((T, C))
    for h, slope in enumerate(alibi_slopes(heads)):
        cols = slice(h * hs, (h + 1) * hs)
        scores = q[:, cols] @ k[:, cols].T / math.sqrt(hs) - slope * distance
        scores[future] = -np.inf
        weights = np.exp(scores - scores.max(axis=1, keepdims=True))
        weights /= weights.sum(axis=1, keepdims=True)
        out[:, cols] = weights @ v[:, cols]
    return out


def forward(params, config, features):
    """The model's outputs (T,) for a (T, F) feature matrix, every position seeing only its past."""
    p = params
    x = np.asarray(features, dtype=np.float64) @ p["wte"].T + p["bte"]
    for l in range(config["layers"]):
        h = layer_norm(x, p["ln1w"][l], p["ln1b"][l])
        y = attention(h @ p["qkvw"][l].T + p["qkvb"][l], config["heads"])
        x = x + y @ p["attprojw"][l].T + p["attprojb"][l]
        h = layer_norm(x, p["ln2w"][l], p["ln2b"][l])
        h = gelu(h @ p["fcw"][l].T + p["fcb"][l])
        x = x + h @ p["fcprojw"][l].T + p["fcprojb"][l]
    x = layer_norm(x, p["lnfw"], p["lnfb"])
    return (x @ p["headw"].T + p["headb"])[:, 0]


# ---------------------------------------------------------------------------------------------
# Encoding and rollout


def scale_of(b, window):
    """RMS of b_1..b_w, w = min(window, len(b)), computed without overflow; 1 if it is unusable."""
    head = np.abs(np.asarray(b[:window], dtype=np.float64))
    if head.size == 0:
        return 1.0
    largest = head.max()
    if not (largest > 0 and math.isfinite(largest)):
        return 1.0
    s = largest * math.sqrt(np.mean((head / largest) ** 2))
    return s if s > 0 and math.isfinite(s) else 1.0


def system_features(context, n):
    """(given, 8/N, open, min(n/(2N), 4)) at the position holding b_n.

    context: None or "unknown" (all zero), "inf" (the N -> infinity limit of the finite
    features), or (N, open_boundary).
    """
    if context is None or context == "unknown":
        return (0.0, 0.0, 0.0, 0.0)
    if context == "inf":
        return (1.0, 0.0, 0.0, 0.0)
    sites, open_boundary = context
    N = float(max(int(sites), 1))
    return (1.0, 8.0 / N, 1.0 if open_boundary else 0.0, min(n / (2.0 * N), 4.0))


def encode(x, config, context=None, first=0):
    """The (T, F) features of the scaled values x, x[0] holding b_{first+1} (b_1 by default;
    the first row's step is 0, so encode from one value before the rows wanted)."""
    x = np.asarray(x, dtype=np.float64)
    step = np.zeros_like(x)
    step[1:] = config["stepGain"] * (x[1:] - x[:-1])
    columns = [x, step, np.log(np.maximum(x, 1e-3))]
    if config.get("systemInputs", False):
        rows = [system_features(context, first + t + 1) for t in range(len(x))]
        columns += list(np.array(rows, dtype=np.float64).reshape(len(x), SYSTEM_FEATURES).T)
    # The Swift model is float32 and receives its inputs rounded to float32; doing the same
    # here keeps the comparison about the network rather than about input rounding.
    return np.stack(columns, axis=1).astype(np.float32).astype(np.float64)


def forecast(params, config, prefix, horizon, context=None):
    """b_{k+1}..b_M (M = horizon) continued from the prefix b_1..b_k by the model.

    The prefix is fed as given; from the last prefix position on, each output (a step scaled
    by stepGain) is added to the current scaled value, kept non-negative, and fed back. The
    scale is fixed by the prefix's first scaleWindow values for the whole rollout. The context
    is ignored by a model without system inputs.
    """
    prefix = [float(v) for v in prefix]
    k = len(prefix)
    if k < config["scaleWindow"]:
        raise ValueError(f"the prefix holds {k} coefficients; the model needs at least {config['scaleWindow']}")
    if horizon <= k:
        raise ValueError(f"the horizon M = {horizon} must be larger than the prefix length k = {k}")
    for n, v in enumerate(prefix, start=1):
        if not (v > 0 and math.isfinite(v)):
            raise ValueError(f"b_{n} = {v} in the prefix is not a positive finite number")
    s = scale_of(prefix, config["scaleWindow"])
    gain = config["stepGain"]
    x = [v / s for v in prefix]
    out = []
    while len(x) < horizon:
        # Full causal forward over everything so far; only the last output is new.
        step = forward(params, config, encode(x, config, context))[-1]
        x.append(max(0.0, x[-1] + float(step) / gain))
        out.append(float(x[-1] * s))
    return out


# ---------------------------------------------------------------------------------------------
# Command line


def read_coefficients(path):
    """(b, context) from a coefficients file: `krylov lanczos` JSON or a CSV of n,b_n rows.

    JSON gives its trusted values and its system block's size and boundary; a CSV gives its
    second column ('#' lines and a header row skipped) and no system.
    """
    with open(path, encoding="utf-8-sig") as f:
        text = f.read()
    if path.endswith(".json") or text.lstrip().startswith("{"):
        doc = json.loads(text)
        b = doc["b"]
        if doc.get("trusted") is not None:
            b = b[:doc["trusted"]]
        system = doc.get("system") or {}
        size = system.get("n")
        if size is None:
            context = None
        elif str(size) == "inf":
            context = "inf"
        else:
            context = (int(size), system.get("bc", "pbc") == "obc")
        return [float(v) for v in b], context
    b = []
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        fields = [f.strip() for f in line.split(",")]
        try:
            b.append(float(fields[1]))
        except (IndexError, ValueError):
            if b:
                raise ValueError(f"{path}: cannot read the row '{line}'")
            # a header row
    return b, None


def main(argv=None, load=load_checkpoint, run=forecast, description=__doc__.splitlines()[0]):
    """The command line; `load` (path -> (config, params)) and `run` (forecast's signature) let
    another implementation of the network (the PyTorch one) share it."""
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("checkpoint")
    parser.add_argument("--prefix-file", required=True, help="coefficients, CSV (n,b_n) or JSON")
    parser.add_argument("--prefix", type=int, default=30, help="prefix length k")
    parser.add_argument("--horizon", type=int, default=200, help="horizon M")
    parser.add_argument("--n", help="the chain's sites N, or inf (default: the file's, else unknown)")
    parser.add_argument("--bc", choices=["pbc", "obc"], help="the boundary (default: the file's, else pbc); overrides the file's")
    args = parser.parse_args(argv)

    try:
        config, params = load(args.checkpoint)
        b, context = read_coefficients(args.prefix_file)
    except (OSError, ValueError, KeyError) as error:
        parser.exit(1, f"error: {error}\n")
    if args.n is not None:
        context = "inf" if args.n == "inf" else (int(args.n), args.bc == "obc")
    elif args.bc is not None and isinstance(context, tuple):
        context = (context[0], args.bc == "obc")
    if len(b) < args.prefix:
        parser.error(f"{args.prefix_file} holds {len(b)} coefficients, fewer than the prefix {args.prefix}")
    try:
        values = run(params, config, b[:args.prefix], args.horizon, context)
    except ValueError as error:
        parser.exit(1, f"error: {error}\n")
    for value in values:
        print(repr(value))


if __name__ == "__main__":
    sys.exit(main())

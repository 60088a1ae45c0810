#!/usr/bin/env python3
"""Train the krylov forecaster with PyTorch, on a GPU where there is one.

The same model, inputs, loss and optimizer as `krylov train` (docs/model.md), from the same
dataset directories (`krylov dataset build`), writing a checkpoint that krylov loads unchanged
(`krylov forecast --model`, the explorer's `--model`, `krylov train --initial-weights`), and
continuing from any krylov checkpoint (`--initial-weights`). What is the same as `krylov train`:
the features and the RMS scaling, the masked squared error of the next step from position
scaleWindow on, relative input noise with the target taken from the noisy value, the system
withheld from a share of the windows, AdamW (0.9, 0.95, 1e-8, decoupled decay), global gradient
clipping, linear warm-up and cosine decay to 10%, the validation split by system group, and the
kept weights chosen by the geometric mean of validation rollouts. What differs: the random
draws (another generator, so the split and the batches differ for the same seed) and the
arithmetic's order, so the weights are not bit for bit those of `krylov train`.

The validation systems are recorded in the checkpoint (`training.validation_systems`), so

    krylov calibrate --data DIR --model OUT --out OUT

computes the 80% band of the kept weights on exactly the systems this run never trained on.

    python3 scripts/torch/train.py --data DIR [DIR ...] --out MODEL.safetensors \\
        [--config docs/datasets/default-model.json] [--device auto|cuda|cpu] [--steps N] ...

Ctrl-C or SIGTERM (a Slurm time limit) stops training and still writes the best weights so far;
the best weights are also written at every evaluation that improves them.
"""
import argparse
import json
import math
import os
import signal
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
import model as network  # noqa: E402
from model import reference  # noqa: E402

DEFAULT_SHAPE = {"layers": 4, "heads": 4, "channels": 64, "scaleWindow": 10, "stepGain": 5.0, "systemInputs": True}
SHAPE_KEYS = tuple(DEFAULT_SHAPE)
# krylov's TrainingOptions, with their defaults and allowed ranges (Trainer.swift).
DEFAULT_OPTIONS = {
    "steps": 3000, "batchSize": 16, "sequenceLength": 320, "learningRate": 1e-3, "warmupSteps": 100,
    "weightDecay": 0.01, "gradientClip": 1.0, "inputNoise": 0.01, "validationFraction": 0.15,
    "evaluationInterval": 100, "rolloutPrefix": 30, "unknownSystemFraction": 0.25, "seed": 1,
}
RANGES = {
    "steps": (1, 10_000_000), "batchSize": (1, 4096), "sequenceLength": (2, 100_000),
    "learningRate": (1e-12, 1), "warmupSteps": (0, 10_000_000), "weightDecay": (0, 1),
    "gradientClip": (1e-12, 1e12), "inputNoise": (0, 0.5), "validationFraction": (0, 0.999999),
    "evaluationInterval": (1, 10_000_000), "rolloutPrefix": (1, 100_000), "unknownSystemFraction": (0, 1),
    "seed": (0, 2**64 - 1),
}
SHAPE_RANGES = {"layers": (1, 64), "heads": (1, 64), "channels": (1, 4096), "scaleWindow": (1, 1000),
                "stepGain": (1e-6, 1e6)}
LEARNING_RATE_FLOOR = 0.1


class TrainingError(Exception):
    pass


# ---------------------------------------------------------------------------------------------
# Data


def fnv1a64(data):
    """FNV-1a 64 of bytes, as hex: the manifest hash krylov records."""
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return f"{h:016x}"


def load_datasets(directories):
    """Every entry of the datasets' manifests: trusted values, group, label and system context."""
    sequences, names, hashes, spins = [], [], [], set()
    for directory in directories:
        path = Path(directory) / "manifest.json"
        try:
            raw = path.read_bytes()
            manifest = json.loads(raw)
        except (OSError, ValueError) as error:
            raise TrainingError(f"{directory}: no readable dataset manifest ({error}); build it with "
                                f"'krylov dataset build' (or merge its parts with 'krylov dataset merge')")
        if not manifest.get("complete", True):
            raise TrainingError(f"{directory}: the dataset build is not complete; run it again to finish it")
        names.append(manifest.get("name", Path(directory).name))
        hashes.append(fnv1a64(raw))
        for entry in manifest.get("entries", []):
            try:
                document = json.loads((Path(directory) / entry["file"]).read_text(encoding="utf-8"))
                values = [float(v) for v in document["b"]]
                trusted = document.get("trusted")
                if trusted is not None:
                    values = values[:int(trusted)]
                size = str(entry["size"])
                context = "inf" if size == "inf" else (int(size), entry.get("boundary") == "obc")
            except (OSError, ValueError, KeyError, TypeError) as error:
                raise TrainingError(f"{directory}: cannot read the sequence of '{entry.get('label', '?')}' ({error})")
            spins.add(entry.get("spins", "quantum"))
            sequences.append({"values": values, "group": entry["group"], "label": entry["label"], "context": context})
    return sequences, names, hashes, sorted(spins)


def split(sequences, config, options):
    """(training, validation): usable sequences split by group, seeded, a group wholly on one side."""
    minimum = config["scaleWindow"] + 2
    usable = [s for s in sequences
              if len(s["values"]) >= minimum and all(v > 0 and math.isfinite(v) for v in s["values"])]
    if not usable:
        raise TrainingError(f"no sequence has the {minimum} positive coefficients training needs")
    groups = sorted({s["group"] for s in usable})
    np.random.default_rng(options["seed"] ^ 0xA5A5).shuffle(groups)
    held = 0 if len(groups) < 2 else max(1, round(len(groups) * options["validationFraction"]))
    validation_groups = set(groups[:held])
    training = [s for s in usable if s["group"] not in validation_groups]
    validation = [s for s in usable if s["group"] in validation_groups]
    scored = validation or training
    if options["rolloutPrefix"] < config["scaleWindow"] or not any(
            len(s["values"]) > rollout_prefix(s, options, config) for s in scored):
        raise TrainingError(f"no sequence is longer than the rollout prefix ({options['rolloutPrefix']}), and it must "
                            f"be at least the scale window ({config['scaleWindow']}): set rolloutPrefix in the configuration")
    return training, validation


def rollout_prefix(sequence, options, config):
    """The validation rollout's prefix: rolloutPrefix, at most half the sequence, at least the window."""
    return max(config["scaleWindow"], min(options["rolloutPrefix"], len(sequence["values"]) // 2))


def window(values, context, T, config, noise, rng):
    """One sequence's (features, targets, mask) over T positions, padded, as krylov's fillWindow."""
    F = reference.feature_count(config)
    gain = config["stepGain"]
    b = np.asarray(values, dtype=np.float64)
    s = reference.scale_of(values, config["scaleWindow"])
    length = min(T, len(b) - 1)
    clean = b[:length] / s
    x = clean * (1 + noise * rng.standard_normal(length)) if noise > 0 else clean
    # The inputs as every forecast encodes them (the reference's encoding), then padding.
    features = np.zeros((T, F))
    features[:length] = reference.encode(x, config, context)
    targets = np.zeros(T)
    targets[:length] = gain * (b[1:length + 1] / s - x)
    mask = np.zeros(T)
    mask[config["scaleWindow"] - 1:length] = 1.0  # never forecast from an incomplete window
    return features, targets, mask


def batch(sequences, T, config, noise, rng, withheld):
    """Stacked windows (float32 tensors) of the sequences, the system withheld where asked."""
    parts = [window(s["values"], None if w else s["context"], T, config, noise, rng)
             for s, w in zip(sequences, withheld)]
    return tuple(torch.from_numpy(np.stack(p).astype(np.float32)) for p in zip(*parts))


# ---------------------------------------------------------------------------------------------
# Training


def masked_loss(output, targets, mask):
    weight = mask.sum()
    return ((output - targets) ** 2 * mask).sum() / weight.clamp(min=1.0)


def learning_rate(step, options):
    """Linear warm-up to the peak, then cosine decay to 10% at the last step (1-based step)."""
    peak, warmup, total = options["learningRate"], options["warmupSteps"], options["steps"]
    if step <= warmup:
        return peak * step / max(1, warmup)
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return peak * (LEARNING_RATE_FLOOR + (1 - LEARNING_RATE_FLOOR) * 0.5 * (1 + math.cos(math.pi * progress)))


@torch.no_grad()
def validation_loss(model, sequences, options, config, device):
    if not sequences:
        return float("nan")
    T = min(options["sequenceLength"], max(len(s["values"]) for s in sequences) - 1)
    total, weight = 0.0, 0.0
    rng = np.random.default_rng(0)
    for start in range(0, len(sequences), options["batchSize"]):
        chunk = sequences[start:start + options["batchSize"]]
        features, targets, mask = (t.to(device) for t in batch(chunk, T, config, 0.0, rng, [False] * len(chunk)))
        count = float(mask.sum())
        total += float(masked_loss(model(features), targets, mask)) * count
        weight += count
    return total / weight if weight > 0 else float("nan")


def rollout_error(model, sequences, options, config, device):
    """Geometric mean over the sequences of the relative RMS error of rollouts to their end."""
    cases = []
    for s in sequences:
        k = rollout_prefix(s, options, config)
        M = min(len(s["values"]), k + options["sequenceLength"])
        if M > k:
            cases.append((s, k, M))
    if not cases:
        return float("nan")
    forecasts = network.rollout(model, [s["values"][:k] for s, k, _ in cases], [M for _, _, M in cases],
                                [s["context"] for s, _, _ in cases], device)
    logs = []
    for (s, k, M), f in zip(cases, forecasts):
        truth = np.asarray(s["values"][k:M])
        error = math.sqrt(float(np.sum((np.asarray(f) - truth) ** 2)) / max(float(np.sum(truth ** 2)), 1e-300))
        logs.append(math.log(max(error, 1e-12)))
    model.train()
    return math.exp(sum(logs) / len(logs))


def coverage(sequences):
    """The sizes, infinite chain and boundary trained on (krylov's `trained_on`)."""
    sizes = sorted({s["context"][0] for s in sequences if isinstance(s["context"], tuple)})
    return {"sizes": sizes, "infinite": any(s["context"] == "inf" for s in sequences),
            "openBoundary": any(isinstance(s["context"], tuple) and s["context"][1] for s in sequences)}


def write(path, model, config, record, trained_on):
    metadata = {
        "training": json.dumps(record, separators=(",", ":")),
        "trained_on": json.dumps(trained_on, separators=(",", ":")),
        "normalization": f"x_n = b_n / RMS(b_1..b_{config['scaleWindow']}); features (x_n, {config['stepGain']:g}*(x_n - x_{{n-1}}), "
                         f"log max(x_n, 1e-3)" + (", given, 8/N, open, min(n/2N, 4)" if config["systemInputs"] else "")
                         + f"); output = {config['stepGain']:g}*(x_{{n+1}} - x_n)",
    }
    reference.save_checkpoint(path, config, network.to_checkpoint(model), metadata)


def settings(args):
    """(shape, options) from the defaults, the --config file, the initial weights and the flags."""
    shape, options = dict(DEFAULT_SHAPE), dict(DEFAULT_OPTIONS)
    given = {}
    if args.config:
        try:
            given = json.loads(Path(args.config).read_text(encoding="utf-8-sig"))
        except (OSError, ValueError) as error:
            raise TrainingError(f"{args.config}: not a readable JSON configuration ({error})")
        if not isinstance(given, dict):
            raise TrainingError(f"{args.config}: the configuration must be a JSON object")
        unknown = sorted(set(given) - set(shape) - set(options))
        if unknown:
            raise TrainingError(f"{args.config}: unknown setting(s) {', '.join(unknown)}")
        shape.update({k: v for k, v in given.items() if k in shape})
        options.update({k: v for k, v in given.items() if k in options})
    for flag, key in (("steps", "steps"), ("batch_size", "batchSize"), ("learning_rate", "learningRate"),
                      ("eval_every", "evaluationInterval"), ("seed", "seed")):
        if getattr(args, flag) is not None:
            options[key] = getattr(args, flag)
    for key, (low, high) in {**RANGES, **SHAPE_RANGES}.items():
        value = options.get(key, shape.get(key))
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low <= value <= high) \
                or (key in ("steps", "batchSize", "sequenceLength", "warmupSteps", "evaluationInterval",
                            "rolloutPrefix", "seed", "layers", "heads", "channels", "scaleWindow")
                    and value != int(value)):
            raise TrainingError(f"{key} must be a number between {low:g} and {high:g} (got {value!r})")
    if shape["channels"] % shape["heads"]:
        raise TrainingError(f"channels ({shape['channels']}) must be a multiple of heads ({shape['heads']})")
    if not isinstance(shape["systemInputs"], bool):
        raise TrainingError(f"systemInputs must be true or false (got {shape['systemInputs']!r})")
    for key in ("steps", "batchSize", "sequenceLength", "warmupSteps", "evaluationInterval", "rolloutPrefix", "seed"):
        options[key] = int(options[key])
    for key in ("layers", "heads", "channels", "scaleWindow"):
        shape[key] = int(shape[key])
    return shape, options, {k for k in given if k in DEFAULT_SHAPE}


def pick_device(name):
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise TrainingError("--device cuda: PyTorch sees no CUDA device here (use --device cpu, or run on a GPU node)")
    return name


def main(argv=None):
    parser = argparse.ArgumentParser(
        description="Train the krylov forecaster with PyTorch on krylov dataset directories; writes a checkpoint "
                    "krylov loads unchanged.",
        epilog="Then: krylov calibrate --data DIR --model OUT --out OUT (the 80%% band, on this run's validation systems).")
    parser.add_argument("--data", nargs="+", required=True, help="dataset directories built by 'krylov dataset build'")
    parser.add_argument("--out", required=True, help="checkpoint to write (.safetensors)")
    parser.add_argument("--config", help="JSON model and training settings (the keys 'krylov train --config' reads)")
    parser.add_argument("--initial-weights", help="continue from this krylov checkpoint (its shape is kept)")
    parser.add_argument("--device", default="auto", choices=["auto", "cuda", "cpu"],
                        help="where to train (auto: cuda when PyTorch sees a GPU, else cpu)")
    parser.add_argument("--steps", type=int, help="optimizer steps")
    parser.add_argument("--batch-size", type=int, help="sequences per batch")
    parser.add_argument("--learning-rate", type=float, help="peak learning rate")
    parser.add_argument("--eval-every", type=int, help="steps between evaluations")
    parser.add_argument("--seed", type=int, help="random seed (initialization, split, batches, noise)")
    parser.add_argument("--source-commit", help="the commit of the code that trains, recorded in the checkpoint")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress on standard error")
    args = parser.parse_args(argv)

    def say(text):
        if not args.quiet:
            print(text, file=sys.stderr, flush=True)

    try:
        shape, options, shape_given = settings(args)
        device = pick_device(args.device)
        initial = None
        if args.initial_weights:
            try:
                initial, _ = network.load(args.initial_weights)
            except (OSError, ValueError, KeyError) as error:
                raise TrainingError(f"--initial-weights: {error}")
            for key in shape_given:
                if initial.config.get(key) != shape[key]:
                    raise TrainingError(f"the configuration asks for {key} {shape[key]} but --initial-weights has "
                                        f"{key} {initial.config.get(key)}: another shape (drop the shape fields to fine-tune)")
            shape = {k: initial.config.get(k, DEFAULT_SHAPE[k]) for k in SHAPE_KEYS}
        sequences, names, hashes, spins = load_datasets(args.data)
        training, validation = split(sequences, shape, options)
    except TrainingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1

    torch.manual_seed(options["seed"])
    rng = np.random.default_rng(options["seed"])
    model = initial if initial is not None else network.Forecaster(shape)
    if initial is None:
        model.initialize(options["seed"])
    model.config = dict(shape)
    model.to(device).train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=options["learningRate"], betas=(0.9, 0.95), eps=1e-8,
                                  weight_decay=options["weightDecay"])
    scored = validation or training
    parameters = sum(p.numel() for p in model.parameters())
    say(f"train.py: PyTorch {torch.__version__} on {device}; training on {len(training)} sequences, validating on "
        f"{len(validation)} (held-out systems); {parameters} parameters, {options['steps']} steps")

    stop = {"signal": None}

    def on_signal(number, _frame):
        if stop["signal"] is not None:
            os._exit(128 + number)  # a second signal: leave at once
        stop["signal"] = number

    for number in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(number, on_signal)

    B = options["batchSize"]
    T = min(options["sequenceLength"], max(len(s["values"]) for s in training) - 1)
    best_error = rollout_error(model, scored, options, shape, device) if initial is not None else math.inf
    best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
    best_step = 0
    history = []
    loss_sum, loss_count, tokens = 0.0, 0, 0
    clock = start = time.time()

    def record(cancelled):
        return {
            "trainer": f"pytorch {torch.__version__} ({device})", "datasets": names, "manifest_fnv1a64": hashes,
            "source_commit": args.source_commit, "spins": spins, "initial_weights": args.initial_weights or "none",
            "training_systems": len(training), "validation_systems": [s["label"] for s in validation],
            "best_step": best_step,
            "best_validation_rollout_error": best_error if math.isfinite(best_error) else None,
            "options": options, "history": history, "cancelled": cancelled,
        }

    def save(cancelled):
        # The best weights; if no evaluation ever scored (a run stopped before its first), the
        # current ones, as krylov train does.
        if best_step == 0 and initial is None:
            write(args.out, model, shape, record(cancelled), coverage(sequences))
            return
        current = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(best_state)
        write(args.out, model, shape, record(cancelled), coverage(sequences))
        model.load_state_dict(current)

    for step in range(1, options["steps"] + 1):
        if stop["signal"] is not None:
            break
        chosen = [training[i] for i in rng.integers(0, len(training), size=B)]
        withheld = [bool(shape["systemInputs"] and rng.random() < options["unknownSystemFraction"]) for _ in chosen]
        features, targets, mask = (t.to(device) for t in batch(chosen, T, shape, options["inputNoise"], rng, withheld))
        loss = masked_loss(model(features), targets, mask)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), options["gradientClip"])
        rate = learning_rate(step, options)
        for group in optimizer.param_groups:
            group["lr"] = rate
        optimizer.step()
        value = loss.item()
        loss_sum += value
        loss_count += 1
        tokens += int(mask.sum())
        if not math.isfinite(value):
            print(f"error: the training loss is {value} at step {step}; lower the learning rate", file=sys.stderr)
            return 1
        if step % options["evaluationInterval"] == 0 or step == options["steps"]:
            seconds = time.time() - clock
            val_loss = validation_loss(model, validation, options, shape, device)
            error = rollout_error(model, scored, options, shape, device)
            improved = error < best_error
            if improved:
                best_error, best_step = error, step
                best_state = {k: v.detach().clone() for k, v in model.state_dict().items()}
            history.append({"step": step, "loss": loss_sum / max(1, loss_count),
                            "validation_loss": val_loss if math.isfinite(val_loss) else None,
                            "validation_rollout_error": error if math.isfinite(error) else None,
                            "tokens_per_second": tokens / max(seconds, 1e-9)})
            if improved:
                save(False)  # a killed job keeps its best weights
            eta = (time.time() - start) / step * (options["steps"] - step)
            say(f"step {step:5d}/{options['steps']}  loss {loss_sum / max(1, loss_count):.5f}  val loss {val_loss:.5f}  "
                f"val rollout err {error:.4f}{' *' if improved else '  '}  {tokens / max(seconds, 1e-9):.0f} tok/s  "
                f"lr {rate:.2e}  eta {eta:.0f} s")
            loss_sum, loss_count, tokens = 0.0, 0, 0
            clock = time.time()

    cancelled = stop["signal"] is not None
    save(cancelled)
    kept = "the initial weights: no step improved on them" if best_step == 0 else f"weights of step {best_step}"
    say(f"train.py: wrote {args.out} ({kept}, validation rollout error {best_error:.4f})"
        + ("; training was interrupted" if cancelled else ""))
    say(f"train.py: for its 80% band: krylov calibrate --data {' '.join(args.data)} --model {args.out} --out {args.out}")
    return 130 if cancelled else 0


if __name__ == "__main__":
    sys.exit(main())

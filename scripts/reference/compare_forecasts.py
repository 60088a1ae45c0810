#!/usr/bin/env python3
"""Compares a `krylov forecast --format json` output with another implementation's forecast.

    python3 scripts/reference/compare_forecasts.py KRYLOV.json OTHER.txt TOLERANCE

OTHER.txt holds one value per line (what scripts/reference/forecaster.py and
scripts/torch/model.py print). Prints the largest relative difference |a - b| / max(|a|, |b|)
over the forecast and exits 0 when it is at most TOLERANCE, 1 otherwise (or when the lengths
differ). The numpy reference's test and the PyTorch trainer's test both judge with it.
"""
import json
import sys


def main(argv):
    if len(argv) != 4:
        sys.exit(f"usage: {argv[0]} KRYLOV.json OTHER.txt TOLERANCE")
    with open(argv[1]) as f:
        krylov = json.load(f)["forecast"]
    with open(argv[2]) as f:
        other = [float(line) for line in f if line.strip()]
    if len(krylov) != len(other) or not krylov:
        print(f"lengths differ: krylov {len(krylov)}, other {len(other)}")
        return 1
    worst = max((abs(a - b) / max(abs(a), abs(b)) if a != b else 0.0) for a, b in zip(krylov, other))
    print(f"max rel diff {worst:.2e} over {len(krylov)} values")
    return 0 if worst <= float(argv[3]) else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

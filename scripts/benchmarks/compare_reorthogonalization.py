#!/usr/bin/env python3
"""Every reorthogonalization mode and storage precision against full reorthogonalization in Double.

Runs `krylov lanczos` four times for one system and prints, for each mode, the trusted count, the
largest relative difference from the reference over the coefficients both trust, the number of
reorthogonalized steps and the recursion's time.

    python3 scripts/benchmarks/compare_reorthogonalization.py --n 11 --steps 300 [--model tfim --op z0]
"""
import argparse
import json
import subprocess
import sys


def run(binary, args, reorth, precision):
    out = subprocess.run(
        [binary, "lanczos", *args, "--reorth", reorth, "--precision", precision, "--format", "json", "-q"],
        capture_output=True, text=True)
    if out.returncode:
        sys.exit(out.stderr)
    return json.loads(out.stdout)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", required=True)
    p.add_argument("--steps", default="300")
    p.add_argument("--model", default="mfim")
    p.add_argument("--op", default="sz_total")
    p.add_argument("--binary", default=".build/release/krylov")
    a = p.parse_args()
    args = ["--n", a.n, "--steps", a.steps, "--model", a.model, "--op", a.op]
    ref = run(a.binary, args, "full", "double")
    print("model,op,n,reorth,precision,trusted,max_rel_diff,reorth_steps,run_s")
    print(f"{a.model},{a.op},{a.n},full,double,{ref['trusted']},0,"
          f"{ref['reorthogonalization']['reorthogonalized_steps']},{ref['timings']['total_seconds']:.2f}")
    for reorth, precision in [("full", "single"), ("partial", "double"), ("partial", "single")]:
        d = run(a.binary, args, reorth, precision)
        common = min(d["trusted"], ref["trusted"])
        diff = max((abs(x - y) / y for x, y in zip(d["b"][:common], ref["b"][:common])), default=0)
        print(f"{a.model},{a.op},{a.n},{reorth},{precision},{d['trusted']},{diff:.1e},"
              f"{d['reorthogonalization']['reorthogonalized_steps']},{d['timings']['total_seconds']:.2f}")


if __name__ == "__main__":
    main()

#!/usr/bin/env python3
"""Hostile-input sweep of the krylov command-line tool.

Runs about 1300 hostile cases (about 7 minutes on 2 cores) against a krylov binary: every subcommand's numeric options
with 0, -1, huge, nan, inf, empty and non-numbers; every kind of input file (coefficient CSV and
JSON, safetensors checkpoints, themes, dataset specs, training configurations, dataset
directories) missing, a directory, a device, a FIFO, empty, random, truncated, bit-flipped,
with CRLF line endings or a byte-order mark, and with hostile contents (huge or negative counts,
NaN, wrong JSON types, overflowing shapes, escape sequences); output targets that fail (a full
disk, a missing or read-only directory); signals during long runs; scale extremes and sizes
that ask for unbounded work.

Run it as root for the full set: the read-only-directory cases then run as nobody, and the
full-device cases for checkpoints use a device node of their own (mknod). Each case runs alone,
under `nice -n 19`, in a fresh temporary directory (its working
directory, TMPDIR, HOME and XDG_CONFIG_HOME), with a wall-clock timeout and an address-space
cap (RLIMIT_AS). Fixtures (valid coefficient files, a tiny dataset and checkpoint) are built
first with the binary under test. Each outcome is classified, the first that applies:

  crash    killed by a signal the sweep did not send, an exit status >= 128 that no signal we
           sent explains, or a trap / backtrace on standard error
  hang     still running at the timeout, or slower than allowed to honour a signal we sent
  nan      exit 0 with nan or inf where numbers belong (standard output or output files,
           checkpoint tensors included), or a forecast column that is 0 on every row
  lost     exit 0 with nothing written, an expected output file missing, empty or not valid
           JSON, success reported while writing to a full device (or a device node replaced by
           a file), C(t) printed from 0 coefficients, or the partial output of an interrupted
           run deleted or not marked as stopped
  litter   hidden '.NAME.partial*' files left behind
  refused  a valid input (CRLF line endings, a byte-order mark) rejected
  unclear  non-zero exit with an empty message, Foundation boilerplate ("The operation could
           not be completed", NSCocoaErrorDomain, "Error Domain="), a raw Swift error dump,
           escape sequences copied to the terminal, a message that does not name the reason
           the case expects, or exit 0 on input that must be refused
  ok       otherwise

Prints a table (case, class, exit status, seconds, first error line of standard error) and the
count per class; --json writes every result with its command and notes. Exit status 1 when any
case is crash, hang, nan or lost.

Examples:
  cp .build/release/krylov /tmp/krylov-sweep
  nice -n 19 scripts/hostile/sweep.py /tmp/krylov-sweep --json /tmp/sweep-result.json
  scripts/hostile/sweep.py /tmp/krylov-sweep --filter csv.trusted --timeout 20
  scripts/hostile/sweep.py /tmp/krylov-sweep --list
"""

import argparse
import array
import json
import math
import os
import random
import re
import resource
import shutil
import signal
import stat
import struct
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

GIB = 1 << 30
NOBODY = 65534
CLASSES = ["crash", "hang", "nan", "lost", "litter", "refused", "unclear", "ok"]
FAILING = {"crash", "hang", "nan", "lost"}

# ---------------------------------------------------------------------------------------------
# Cases


class Dir:
    """A directory where the input file should be."""


class Fifo:
    """A named pipe; a writer feeds it the given bytes once a reader opens it (like <(...))."""

    def __init__(self, content=b""):
        self.content = content


class Sparse:
    """A sparse file of the given size (tests size limits without using the disk)."""

    def __init__(self, size):
        self.size = size


class Link:
    """A symbolic link (target may use {d} and {fx})."""

    def __init__(self, target):
        self.target = target


class Node:
    """A character device node (major, minor): /dev/full is (1, 7). Needs root."""

    def __init__(self, major, minor):
        self.major, self.minor = major, minor


class Copy:
    """A copy of a file or directory (source may use {fx})."""

    def __init__(self, source):
        self.source = source


@dataclass
class Case:
    name: str
    argv: list  # arguments after the binary; '{d}' is the case directory, '{fx}' the fixtures
    files: dict = field(default_factory=dict)  # path relative to {d} -> bytes | Dir | Fifo | ...
    setup: object = None  # callable(d) for anything files cannot say
    stdin: bytes = b""
    env: dict = field(default_factory=dict)  # overrides; None removes a variable
    signals: list = field(default_factory=list)  # [(seconds after start, signal number)]
    stdout_to: str = None  # a path standard output goes to (e.g. /dev/full) instead of a capture
    outputs: list = field(default_factory=list)  # files that must exist, non-empty, on exit 0
    expect_stdout: bool = True  # exit 0 must print something
    interrupted: str = None  # a signal case's output: must survive, non-empty and marked
    reason: str = None  # regex the message must match when the exit status is non-zero
    must_fail: bool = False  # exit 0 accepts input that must be refused
    must_succeed: bool = False  # a non-zero exit refuses valid input
    as_user: int = None  # run as this uid (root ignores permissions)
    device_kept: str = None  # a device node that must still be a device afterwards
    timeout: float = None
    honour: float = 10.0  # seconds allowed from the last signal sent to the exit


def with_opt(base, opt, value):
    """base with every occurrence of opt (and its value) removed and opt=value appended."""
    out, skip = [], False
    for a in base:
        if skip:
            skip = False
            continue
        if a == opt:
            skip = True
            continue
        if a.startswith(opt + "="):
            continue
        out.append(a)
    return out + [f"{opt}={value}"]


INT_VALUES = ["0", "-1", "1000000000000", "9223372036854775807", "abc"]
REAL_VALUES = ["0", "-1", "1e30", "nan", "inf", "", "abc"]
SIZE_VALUES = ["0", "-1", "1e30", "9223372036854775807", "18446744073709551616G", "nan", "inf", "", "8X"]

# Small, fast baselines per subcommand; each option is replaced in turn.
FX = "{fx}"
BASES = {
    "lanczos": ["lanczos", "--n", "8", "--steps", "30", "-q"],
    "lanczos-trunc": ["lanczos", "--n", "inf", "--steps", "10", "--truncate", "50", "-q"],
    "simulate": ["simulate", "--n", "8", "--samples", "512", "--tmax", "1", "--seed", "1", "-q"],
    "observe": ["observe", "--input", FX + "/f.csv"],
    "forecast": ["forecast", "--input", FX + "/g.csv", "--horizon", "60"],
    "attention": ["attention", "--input", FX + "/f.csv", "--horizon", "40"],
    "ablate": ["ablate", "--input", FX + "/f.csv", "--horizon", "60"],
    "ablate-rank": ["ablate", "--input", FX + "/f.csv", "--horizon", "50", "--rank", "history"],
    "interpret": ["interpret", "--data", FX + "/ds", "--horizon", "60", "--prefix", "20", "-q"],
    "interpret-fig": ["interpret", "--data", FX + "/ds", "--horizon", "60", "--prefix", "20", "-q", "--figure"],
    "evaluate": ["evaluate", "--data", FX + "/ds", "--horizon", "60", "--prefix", "20", "--md-samples", "0"],
    "evaluate-md": ["evaluate", "--data", FX + "/cds", "--horizon", "16", "--prefix", "10", "--md-samples", "256",
                    "--md-tmax", "1"],
    "evaluate-cont": ["evaluate", "--data", FX + "/cds", "--horizon", "16", "--prefix", "10", "--md-samples", "256",
                      "--md-tmax", "1", "--continue-to", "20", "--continue-tmax", "1"],
    "train": ["train", "--data", FX + "/ds", "--out", "{d}/m.safetensors", "--config", FX + "/cfg.json", "-q"],
    "build": ["dataset", "build", "--spec", FX + "/spec.json", "--out", "{d}/out", "-q"],
    "plan": ["dataset", "plan", "--spec", FX + "/spec.json"],
    "bench": ["bench", "--sizes", "6", "--steps", "20"],
    "bench-forecaster": ["bench-forecaster", "--steps", "1", "--rollouts", "1", "--batch-size", "2",
                         "--sequence-length", "40"],
    "bench-explorer": ["bench-explorer", "--n", "6", "--steps", "30", "--frames", "2", "--width", "80",
                       "--height", "24"],
    "render": ["render", "--n", "8", "--steps", "40", "--width", "80", "--height", "24"],
}
# (base, option, kind): kind int, real, size or n (the --n option takes 'inf' too)
NUMERIC = [
    ("lanczos", "--n", "n"), ("lanczos", "--steps", "int"), ("lanczos", "--memory-limit", "size"),
    ("lanczos-trunc", "--truncate", "int"),
    ("simulate", "--n", "n"), ("simulate", "--samples", "int"), ("simulate", "--tmax", "real"),
    ("simulate", "--dt", "real"), ("simulate", "--substeps", "int"), ("simulate", "--seed", "int"),
    ("simulate", "--threads", "int"),
    ("observe", "--tmax", "real"), ("observe", "--dt", "real"),
    ("forecast", "--prefix", "int"), ("forecast", "--horizon", "int"), ("forecast", "--n", "n"),
    ("attention", "--prefix", "int"), ("attention", "--horizon", "int"), ("attention", "--layer", "int"),
    ("attention", "--head", "int"),
    ("ablate", "--prefix", "int"), ("ablate", "--horizon", "int"), ("ablate", "--window", "int"),
    ("ablate-rank", "--block", "int"),
    ("interpret", "--prefix", "int"), ("interpret", "--horizon", "int"), ("interpret-fig", "--figure-lags", "int"),
    ("evaluate", "--prefix", "int"), ("evaluate", "--horizon", "int"),
    ("evaluate-md", "--md-samples", "int"), ("evaluate-md", "--md-tmax", "real"), ("evaluate-md", "--md-seed", "int"),
    ("evaluate-md", "--continue-to", "int"), ("evaluate-cont", "--continue-tmax", "real"),
    ("train", "--seed", "int"), ("train", "--steps", "int"), ("train", "--batch-size", "int"),
    ("train", "--learning-rate", "real"), ("train", "--eval-every", "int"),
    ("build", "--memory-limit", "size"),
    ("bench", "--steps", "int"), ("bench", "--sizes", "int"),
    ("bench-forecaster", "--steps", "int"), ("bench-forecaster", "--batch-size", "int"),
    ("bench-forecaster", "--sequence-length", "int"), ("bench-forecaster", "--rollouts", "int"),
    ("bench-explorer", "--n", "n"), ("bench-explorer", "--steps", "int"), ("bench-explorer", "--prefix", "int"),
    ("bench-explorer", "--width", "int"), ("bench-explorer", "--height", "int"), ("bench-explorer", "--frames", "int"),
    ("render", "--n", "n"), ("render", "--steps", "int"), ("render", "--prefix", "int"),
    ("render", "--width", "int"), ("render", "--height", "int"), ("render", "--timeout", "real"),
]
NO_STDOUT = {"train", "build"}
LONG_WORK = {("simulate", "--samples"), ("evaluate-md", "--md-samples")}  # baselines that write files, not standard output


def base_outputs(base):
    if base == "train":
        return ["{d}/m.safetensors"]
    if base == "build":
        return ["{d}/out/manifest.json"]
    return []


def numeric_cases():
    cases = []
    for base, opt, kind in NUMERIC:
        values = {"int": INT_VALUES, "real": REAL_VALUES, "size": SIZE_VALUES,
                  "n": ["0", "-1", "9223372036854775807", "infinity", "abc"]}[kind]
        for v in values:
            extra = {}
            if (base, opt) in LONG_WORK and v in ("1000000000000", "9223372036854775807"):
                # accepted as long work by design: it must stop cleanly on Ctrl-C instead
                extra = {"signals": [(5.0, signal.SIGINT)], "honour": 10.0}
            cases.append(Case(f"num.{base}.{opt[2:]}={v or 'EMPTY'}", with_opt(BASES[base], opt, v),
                              expect_stdout=base not in NO_STDOUT, outputs=base_outputs(base),
                              must_fail=v in ("nan", "", "abc"), **extra))
    # --param values and names, on each command that takes them
    for base in ["lanczos", "simulate", "render"]:
        for v in ["nan", "inf", "1e308", "", "abc"]:
            cases.append(Case(f"num.{base}.param-g={v or 'EMPTY'}", BASES[base] + ["--param", f"g={v}"],
                              must_fail=v in ("nan", "", "abc")))
    return cases


# ---------------------------------------------------------------------------------------------
# Files and their mutations


def mutations(valid, rng, ext, text=True):
    """Generic hostile versions of one input file: (tag, path or None, file spec, reason, flags).

    A text file must still be read with CRLF line endings or a byte-order mark; a FIFO is fed
    the valid contents (as a shell's <(...) would be), so it must be read or refused, never
    waited on forever."""
    valid_text = {"must_succeed": True} if text else {}
    def flip(data, bits):
        b = bytearray(data)
        for _ in range(bits):
            i = rng.randrange(len(b))
            b[i] ^= 1 << rng.randrange(8)
        return bytes(b)

    mid = len(valid) // 2
    return [
        ("missing", "{d}/missing" + ext, None, r"no such file|not found|does not exist|missing", {}),
        ("directory", None, Dir(), r"director", {}),
        ("devzero", "/dev/zero", None, r"regular file|device", {}),
        ("devnull", "/dev/null", None, None, {}),
        ("fifo", None, Fifo(valid), None, {}),
        ("empty", None, b"", None, {}),
        ("random", None, bytes(rng.randrange(256) for _ in range(4096)), None, {}),
        ("truncated", None, valid[:mid], None, {}),
        ("head10", None, valid[:10], None, {}),
        ("bitflip", None, flip(valid, 16), None, {}),
        ("nul", None, valid[:mid] + b"\x00\x00" + valid[mid:], None, {}),
        ("crlf", None, valid.replace(b"\n", b"\r\n"), None, valid_text),
        ("bom", None, b"\xef\xbb\xbf" + valid, None, valid_text),
        ("bom-crlf", None, b"\xef\xbb\xbf" + valid.replace(b"\n", b"\r\n"), None, valid_text),
        ("sparse-3GiB", None, Sparse(3 * GIB), r"large|size|limit|MiB|GiB|bytes", {}),
        ("symlink-loop", None, Link("{d}/in" + ext), r"loop|symbolic|link|no such", {}),
    ]


def mutation_cases(prefix, valid, rng, ext, make_argv, text=True, **kw):
    """One case per generic mutation; make_argv(path) gives the arguments."""
    cases = []
    for tag, path, spec, reason, flags in mutations(valid, rng, ext, text):
        files = {}
        if path is None:
            path = "{d}/in" + ext
            files["in" + ext] = spec
        cases.append(Case(f"{prefix}.{tag}", make_argv(path), files=files, reason=reason, **flags, **kw))
    return cases


def csv_variant(valid, *, replace=None, rows=None, extra_meta=None):
    """The fixture CSV with metadata lines replaced, rows transformed or metadata added."""
    lines = valid.decode().split("\n")
    out = []
    for line in lines:
        if replace:
            for k, v in replace.items():
                if line.startswith(k):
                    line = v
        if rows and line[:1].isdigit():
            n, b, t = line.split(",")
            r = rows(int(n), b, t)
            if r is None:
                continue
            line = r
        out.append(line)
    if extra_meta:
        out.insert(2, extra_meta)
    return "\n".join(out).encode()


def plain_csv(values, header=True):
    s = "n,b_n\n" if header else ""
    return (s + "".join(f"{i + 1},{v}\n" for i, v in enumerate(values))).encode()


def coefficient_cases(fx, rng):
    cases = []
    f_csv = (Path(fx) / "f.csv").read_bytes()
    f_json = (Path(fx) / "f.json").read_bytes()
    consumers = {
        "observe": lambda p: ["observe", "--input", p],
        "forecast": lambda p: ["forecast", "--input", p, "--horizon", "60"],
        "attention": lambda p: ["attention", "--input", p, "--horizon", "40", "--format", "csv"],
        "ablate": lambda p: ["ablate", "--input", p, "--horizon", "60", "--rank", "heads"],
    }
    for c in ["observe", "forecast"]:
        cases += mutation_cases(f"csv.gen.{c}", f_csv, rng, ".csv", consumers[c])
    cases += mutation_cases("json.gen.observe", f_json, rng, ".json", consumers["observe"])

    # CSV contents: numeric ones go through every consumer, structural ones through two.
    numeric = {
        "trusted-negative": csv_variant(f_csv, replace={"# trusted:": "# trusted: -5"}),
        "trusted-huge": csv_variant(f_csv, replace={"# trusted:": "# trusted: 9223372036854775807"}),
        "trusted-overflow": csv_variant(f_csv, replace={"# trusted:": "# trusted: 99999999999999999999999"}),
        "trusted-nan": csv_variant(f_csv, replace={"# trusted:": "# trusted: nan"}),
        "trusted-real": csv_variant(f_csv, replace={"# trusted:": "# trusted: 3.5"}),
        "b-nan": csv_variant(f_csv, rows=lambda n, b, t: f"{n},{'nan' if n == 5 else b},{t}"),
        "b-inf": csv_variant(f_csv, rows=lambda n, b, t: f"{n},{'inf' if n == 5 else b},{t}"),
        "b-negative": csv_variant(f_csv, rows=lambda n, b, t: f"{n},{'-' + b if n == 3 else b},{t}"),
        "b-zero-first": csv_variant(f_csv, rows=lambda n, b, t: f"{n},{'0' if n == 1 else b},{t}"),
        "b-zero-mid": csv_variant(f_csv, rows=lambda n, b, t: f"{n},{'0' if n == 10 else b},{t}"),
        "b-1e308": csv_variant(f_csv, rows=lambda n, b, t: f"{n},1e308,{t}"),
        "b-1e-308": csv_variant(f_csv, rows=lambda n, b, t: f"{n},{float(b) * 1e-308!r},{t}"),
        "b-denormal": csv_variant(f_csv, rows=lambda n, b, t: f"{n},5e-324,{t}"),
        "b-1e200": csv_variant(f_csv, rows=lambda n, b, t: f"{n},{float(b) * 1e200!r},{t}"),
        "b-alternating": csv_variant(f_csv, rows=lambda n, b, t: f"{n},{'1e300' if n % 2 else '1e-300'},{t}"),
        "b-overflow-literal": csv_variant(f_csv, rows=lambda n, b, t: f"{n},{'1e400' if n == 7 else b},{t}"),
        "plain-1e308": plain_csv(["1e308"] * 60),
        "plain-constant": plain_csv(["1"] * 60),
    }
    for tag, data in numeric.items():
        for c, make in consumers.items():
            cases.append(Case(f"csv.{tag}.{c}", make("{d}/in.csv"), files={"in.csv": data}))

    esc = "\x1b[2J\x1b[31mEVIL"
    structural = {
        "n-gap": csv_variant(f_csv, rows=lambda n, b, t: None if n == 3 else f"{n},{b},{t}"),
        "n-start0": csv_variant(f_csv, rows=lambda n, b, t: f"{n - 1},{b},{t}"),
        "n-duplicate": csv_variant(f_csv, rows=lambda n, b, t: f"{min(n, 50)},{b},{t}"),
        "n-descending": plain_csv([]) + "".join(f"{61 - i},{i}\n" for i in range(1, 61)).encode(),
        "n-huge": csv_variant(f_csv, rows=lambda n, b, t: f"{n if n < 40 else 9223372036854775807},{b},{t}"),
        "extra-columns": csv_variant(f_csv, rows=lambda n, b, t: f"{n},{b},{t},7,8"),
        "one-column": csv_variant(f_csv, rows=lambda n, b, t: f"{n}"),
        "trusted-2": csv_variant(f_csv, rows=lambda n, b, t: f"{n},{b},2"),
        "header-only": b"n,b_n,trusted\n",
        "comments-only": b"# just a comment\n# another\n",
        "single-row": plain_csv(["2.1"]),
        "quoted": b'n,b_n\n' + "".join(f'"{i}","{i + 1.5}"\n' for i in range(1, 61)).encode(),
        "spaces": b"n , b_n\n" + "".join(f" {i} , {i + 1.5} \n" for i in range(1, 61)).encode(),
        "semicolons": b"n;b_n\n" + "".join(f"{i};{i + 1.5}\n" for i in range(1, 61)).encode(),
        "decimal-comma": b"n,b_n\n" + "".join(f'{i},"{i},5"\n' for i in range(1, 61)).encode(),
        "no-final-newline": f_csv.rstrip(b"\n"),
        "cr-only": f_csv.replace(b"\n", b"\r"),
        "plain-crlf": plain_csv([f"{1 + 0.5 * i}" for i in range(60)]).replace(b"\n", b"\r\n"),
        "plain-bom": b"\xef\xbb\xbf" + plain_csv([f"{1 + 0.5 * i}" for i in range(60)]),
        "latin1": csv_variant(f_csv, extra_meta="# note: caf\xe9").replace("é".encode(), b"\xe9"),
        "esc-model": csv_variant(f_csv, replace={"# model:": "# model: " + esc}),
        "esc-comment": csv_variant(f_csv, extra_meta="# note: " + esc),
        "esc-value": csv_variant(f_csv, rows=lambda n, b, t: f"{n},{b + esc if n == 4 else b},{t}"),
        "system-n-99": csv_variant(f_csv, replace={"# n:": "# n: 99"}),
        "system-n-1e30": csv_variant(f_csv, replace={"# n:": "# n: 1e30"}),
        "system-n-negative": csv_variant(f_csv, replace={"# n:": "# n: -5"}),
        "system-bc-ring": csv_variant(f_csv, replace={"# bc:": "# bc: ring"}),
        "system-params-nan": csv_variant(f_csv, replace={"# params:": "# params: J=nan g=inf h=1e400"}),
        "system-hamiltonian-esc": csv_variant(
            f_csv, replace={"# model:": "# hamiltonian: 1.0*Z0Z1 + " + esc, "# params:": "#"}),
        "format-version-99": csv_variant(f_csv, replace={"# format_version:": "# format_version: 99"}),
        "format-version-negative": csv_variant(f_csv, replace={"# format_version:": "# format_version: -1"}),
        "steps-negative": csv_variant(f_csv, replace={"# steps:": "# steps: -1"}),
        "long-comment-20MB": b"# " + b"x" * (20 << 20) + b"\n" + f_csv,
        "long-row-20MB": plain_csv(["1.5"] * 5) + b"6," + b"9" * (20 << 20) + b"\n",
    }
    for tag, data in structural.items():
        for c in ["observe", "forecast"]:
            flags = {"must_succeed": True} if tag in ("plain-crlf", "plain-bom", "no-final-newline") else {}
            cases.append(Case(f"csv.{tag}.{c}", consumers[c]("{d}/in.csv"), files={"in.csv": data}, **flags))

    # sizes of work: observe on thousands of coefficients
    for rows in [3000, 30000]:
        data = plain_csv([f"{0.5 * i + 1:.6f}" for i in range(rows)])
        cases.append(Case(f"csv.rows-{rows}.observe", ["observe", "--input", "{d}/in.csv"], files={"in.csv": data}))
    cases.append(Case("csv.rows-30000.forecast", ["forecast", "--input", "{d}/in.csv", "--horizon", "300"],
                      files={"in.csv": plain_csv([f"{0.5 * i + 1:.6f}" for i in range(30000)])}))

    # JSON contents
    base = json.loads(f_json)

    def jv(**changes):
        d = dict(base)
        for k, v in changes.items():
            if v is DELETE:
                d.pop(k, None)
            else:
                d[k] = v
        return json.dumps(d).encode()

    sysd = base["system"]
    variants = {
        "b-string": jv(b="abc"), "b-object": jv(b={}), "b-null": jv(b=None), "b-null-item": jv(b=[None] * 60),
        "b-string-items": jv(b=[str(x) for x in base["b"]]), "b-empty": jv(b=[], trusted=0),
        "b-negative": jv(b=[-x for x in base["b"]]), "b-1e308": jv(b=[1e308] * 60),
        "b-denormal": jv(b=[5e-324] * 60), "b-missing": jv(b=DELETE),
        "b-overflow-literal": json.dumps(base).replace(str(base["b"][6]), "1e400", 1).encode(),
        "b-nan-literal": json.dumps(base).replace(str(base["b"][6]), "NaN", 1).encode(),
        "b-30000": jv(b=[0.5 * i + 1 for i in range(30000)], trusted=30000),
        "trusted-negative": jv(trusted=-1), "trusted-huge": jv(trusted=9223372036854775807),
        "trusted-1e30": jv(trusted=1e30), "trusted-string": jv(trusted="x"), "trusted-beyond": jv(trusted=61),
        "trusted-real": jv(trusted=3.5), "trusted-0": jv(trusted=0),
        "system-number": jv(system=5), "system-empty": jv(system={}),
        "system-n-negative": jv(system={**sysd, "n": -3}), "system-n-1e30": jv(system={**sysd, "n": 1e30}),
        "system-n-inf-obc": jv(system={**sysd, "n": "inf", "bc": "obc"}),
        "system-model-esc": jv(system={**sysd, "model": "\x1b[2Jmfim"}),
        "system-params-huge": jv(system={**sysd, "params": {"J": 1e308, "g": -1e308, "h": 1e-320}}),
        "format-version-99": jv(format_version=99), "format-version-string": jv(format_version="2"),
        "exhausted-string": jv(exhausted="yes"),
        "top-array": b"[1, 2, 3]", "top-number": b"42", "top-string": b'"b"',
        "deep-nesting": b"[" * 200000 + b"]" * 200000,
        "deep-object": b'{"b":' * 100000 + b"1" + b"}" * 100000,
        "duplicate-keys": f_json.replace(b"{", b'{"b": "dup", ', 1),
        "huge-string": jv(note="x" * (10 << 20)),
    }
    for tag, data in variants.items():
        cons = ["observe", "forecast"] if tag.startswith(("b-", "trusted", "system")) else ["observe"]
        for c in cons:
            cases.append(Case(f"json.{tag}.{c}", consumers[c]("{d}/in.json"), files={"in.json": data}))
    return cases


DELETE = object()

# ---------------------------------------------------------------------------------------------
# Checkpoints


def read_safetensors(path):
    raw = Path(path).read_bytes()
    n = struct.unpack("<Q", raw[:8])[0]
    return json.loads(raw[8:8 + n]), raw[8 + n:]


def write_safetensors(header, data, header_bytes=None, length=None):
    h = header_bytes if header_bytes is not None else json.dumps(header).encode()
    return struct.pack("<Q", len(h) if length is None else length) + h + data


def checkpoint_cases(fx, rng):
    cases = []
    valid = (Path(fx) / "m.safetensors").read_bytes()
    header, data = read_safetensors(Path(fx) / "m.safetensors")
    meta = header["__metadata__"]
    config = json.loads(meta["config"])

    def forecast(p):
        return ["forecast", "--input", "{fx}/f.csv", "--horizon", "60", "--model", p]

    cases += mutation_cases("ckpt.gen.forecast", valid, rng, ".safetensors", forecast, text=False)

    def hv(fn):
        h = json.loads(json.dumps(header))
        fn(h)
        return write_safetensors(h, data)

    def tensor(name, **kw):
        return lambda h: h[name].update(kw)

    def with_config(**kw):
        return lambda h: h["__metadata__"].update(config=json.dumps({**config, **kw}))

    def with_meta(**kw):
        return lambda h: h["__metadata__"].update(kw)

    def weights(value):
        d = bytearray(data)
        off = header["qkvw"]["data_offsets"]
        d[off[0]:off[1]] = struct.pack("<f", value) * ((off[1] - off[0]) // 4)
        return write_safetensors(header, bytes(d))

    def drop(name):
        return lambda h: h.pop(name)

    wte = header["wte"]["data_offsets"]

    variants = {
        "header-len-0": write_safetensors(header, data, length=0),
        "header-len-max": write_safetensors(header, data, length=(1 << 64) - 1),
        "header-len-beyond": write_safetensors(header, data, length=len(valid) + 10),
        "header-len-2GiB": write_safetensors(header, data, length=2 * GIB),
        "header-garbage": write_safetensors(None, data, header_bytes=b"not json at all" + b" " * 40),
        "header-array": write_safetensors(None, data, header_bytes=b"[1,2,3]"),
        "header-deep": write_safetensors(None, data, header_bytes=b"[" * 100000 + b"]" * 100000),
        "shape-overflow": hv(tensor("qkvw", shape=[1 << 62, 24, 8])),
        "shape-overflow-2": hv(tensor("wte", shape=[4294967296, 4294967296])),
        "shape-negative": hv(tensor("qkvw", shape=[-1, 24, 8])),
        "shape-real": hv(tensor("qkvw", shape=[1.5, 24, 8])),
        "shape-empty": hv(tensor("qkvw", shape=[])),
        "shape-wrong": hv(tensor("qkvw", shape=[1, 8, 24])),
        "dtype-f64": hv(tensor("qkvw", dtype="F64")),
        "dtype-bogus": hv(tensor("qkvw", dtype="XYZ")),
        "dtype-number": hv(tensor("qkvw", dtype=5)),
        "offsets-beyond": hv(tensor("wte", data_offsets=[wte[0], 10 ** 12])),
        "offsets-reversed": hv(tensor("wte", data_offsets=[wte[1], wte[0]])),
        "offsets-negative": hv(tensor("wte", data_offsets=[-8, wte[1]])),
        "offsets-short": hv(tensor("wte", data_offsets=[wte[0], wte[0] + 4])),
        "offsets-huge": hv(tensor("wte", data_offsets=[0, 18446744073709551615])),
        "missing-tensor": hv(drop("wte")),
        "extra-tensor": hv(lambda h: h.update(extra={"dtype": "F32", "shape": [1], "data_offsets": [0, 4]})),
        "tensor-name-esc": hv(lambda h: h.update({"\x1b[2Jx": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}})),
        "config-64x4096": hv(with_config(layers=64, channels=4096, heads=16)),
        "config-layers-1e6": hv(with_config(layers=1000000)),
        "config-heads-0": hv(with_config(heads=0)),
        "config-heads-3": hv(with_config(heads=3)),
        "config-channels-0": hv(with_config(channels=0)),
        "config-layers-negative": hv(with_config(layers=-1)),
        "config-scalewindow-0": hv(with_config(scaleWindow=0)),
        "config-scalewindow-huge": hv(with_config(scaleWindow=9223372036854775807)),
        "config-stepgain-1e308": hv(with_config(stepGain=1e308)),
        "config-stepgain-0": hv(with_config(stepGain=0)),
        "config-string": hv(with_config(layers="four")),
        "config-not-json": hv(with_meta(config="{{{")),
        "config-missing": hv(lambda h: h["__metadata__"].pop("config")),
        "metadata-missing": hv(lambda h: h.pop("__metadata__")),
        "metadata-number": hv(lambda h: h.update(__metadata__=5)),
        "format-other": hv(with_meta(format="pytorch")),
        "format-version-99": hv(with_meta(format_version="99")),
        "normalization-garbage": hv(with_meta(normalization="\x1b[2J nonsense")),
        "band-garbage": hv(with_meta(band_calibration="{{{")),
        "band-overflow": hv(with_meta(band_calibration=meta.get("band_calibration", "{}").replace(
            "-0.0", "1e400", 1).replace('"level":0.8', '"level":1e400'))),
        "band-level-2": hv(with_meta(band_calibration=meta.get("band_calibration", "{}").replace(
            '"level":0.8', '"level":2'))),
        "band-edges-empty": hv(with_meta(band_calibration=re.sub(r'"horizonEdges":\[[^\]]*\]', '"horizonEdges":[]',
                                                                 meta.get("band_calibration", "{}")))),
        "band-edges-negative": hv(with_meta(band_calibration=re.sub(
            r'"horizonEdges":\[[^\]]*\]', '"horizonEdges":[-5,-1,-9223372036854775807]',
            meta.get("band_calibration", "{}")))),
        "trained-on-garbage": hv(with_meta(trained_on='{"sizes":[-1,1e30],"infinite":"x"}')),
        "training-garbage": hv(with_meta(training="{{{")),
        "weights-nan": weights(float("nan")),
        "weights-inf": weights(float("inf")),
        "weights-3e38": weights(3e38),
    }
    for tag, blob in variants.items():
        cases.append(Case(f"ckpt.{tag}.forecast", forecast("{d}/m.safetensors"), files={"m.safetensors": blob}))

    # the most dangerous ones through every command that loads a checkpoint
    consumers = {
        "render": lambda p: ["render", "--n", "8", "--steps", "40", "--width", "80", "--height", "24",
                             "--checkpoint", p],
        "attention": lambda p: ["attention", "--input", "{fx}/f.csv", "--horizon", "40", "--model", p],
        "ablate": lambda p: ["ablate", "--input", "{fx}/f.csv", "--horizon", "60", "--rank", "heads", "--model", p],
        "train-initial": lambda p: ["train", "--data", "{fx}/ds", "--out", "{d}/out.safetensors", "--steps", "2",
                                    "--eval-every", "1", "-q", "--initial-weights", p],
        "calibrate": lambda p: ["calibrate", "--data", "{fx}/ds", "--model", p, "--out", "{d}/out.safetensors"],
        "evaluate": lambda p: ["evaluate", "--data", "{fx}/ds", "--horizon", "60", "--prefix", "20", "--md-samples",
                               "0", "--model", p],
        "evaluate-reference": lambda p: ["evaluate", "--data", "{fx}/ds", "--horizon", "60", "--prefix", "20",
                                         "--md-samples", "0", "--reference-model", p],
        "interpret": lambda p: ["interpret", "--data", "{fx}/ds", "--horizon", "60", "--prefix", "20", "-q",
                                "--model", p],
        "bench-forecaster": lambda p: ["bench-forecaster", "--steps", "1", "--rollouts", "1", "--batch-size", "2",
                                       "--sequence-length", "40", "--model", p],
        "bench-explorer": lambda p: ["bench-explorer", "--n", "6", "--steps", "30", "--frames", "2", "--width",
                                     "80", "--height", "24", "--checkpoint", p],
    }
    for tag in ["shape-overflow", "config-64x4096", "weights-nan", "weights-3e38", "band-edges-negative",
                "training-garbage"]:
        for c, make in consumers.items():
            outs = ["{d}/out.safetensors"] if c in ("train-initial", "calibrate") else []
            cases.append(Case(f"ckpt.{tag}.{c}", make("{d}/m.safetensors"), files={"m.safetensors": variants[tag]},
                              outputs=outs, expect_stdout=c not in ("train-initial", "calibrate")))
    for tag in ["directory", "random", "truncated", "bitflip"]:
        for c in ["render", "train-initial", "calibrate", "bench-forecaster"]:
            m = {m[0]: m for m in mutations(valid, rng, ".safetensors", False)}[tag]
            cases.append(Case(f"ckpt.gen.{tag}.{c}", consumers[c]("{d}/m.safetensors"),
                              files={"m.safetensors": m[2]}))
    # the real embedded-size model
    if (Path(fx) / "real.safetensors").exists():
        cases.append(Case("ckpt.real.forecast", forecast("{fx}/real.safetensors")))
        cases.append(Case("ckpt.real.calibrate-same-file", ["calibrate", "--data", "{fx}/ds", "--model",
                                                            "{d}/m.safetensors", "--out", "{d}/m.safetensors"],
                          files={"m.safetensors": Copy("{fx}/real.safetensors")}, expect_stdout=False,
                          outputs=["{d}/m.safetensors"]))
    cases.append(Case("ckpt.name-default-classical.forecast", forecast("classical")))
    return cases


# ---------------------------------------------------------------------------------------------
# Themes


def theme_cases(fx, rng):
    valid = (Path(fx) / "nord.theme").read_bytes()

    def render(p):
        return ["render", "--n", "6", "--steps", "30", "--width", "80", "--height", "24", "--theme", p]

    cases = mutation_cases("theme.gen.render", valid, rng, ".theme", render)
    esc = "\x1b[2J\x1b]0;pwned\x07"
    variants = {
        "esc-value": f'theme[main_fg]="{esc}"\n'.encode(),
        "esc-key": f'theme[{esc}]="#ffffff"\n'.encode(),
        "esc-line": f"{esc} no equals\n".encode(),
        "bad-colours": b'theme[main_fg]="#zzzzzz"\ntheme[title]="300 300 300"\ntheme[hi_fg]="-1 -1 -1"\n'
                       b'theme[div_line]="1e30 0 0"\ntheme[graph_text]="#"\n',
        "unterminated": b'theme[main_fg]="#ffffff\n',
        "no-equals": b"theme[main_fg]\n",
        "long-line-2MB": b'theme[main_fg]="' + b"f" * (2 << 20) + b'"\n',
        "many-lines": b'theme[main_fg]="#ffffff"\n' * 200000,
        "only-comments": b"# nothing here\n",
    }
    for tag, data in variants.items():
        cases.append(Case(f"theme.{tag}.render", render("{d}/in.theme"), files={"in.theme": data}))
    cases += [
        Case("theme.name-missing.render", render("no-such-theme")),
        Case("theme.name-traversal.render", render("../../../../etc/passwd")),
        Case("theme.name-esc.render", render("\x1b[2Jevil")),
        Case("theme.env-devzero.render", render("nord"), env={"KRYLOV_THEMES": "/dev/zero"}),
        Case("theme.env-dir-bad.render", render("bad"), files={"th/bad.theme": b"\x00\xff" * 100},
             env={"KRYLOV_THEMES": "{d}/th"}),
        Case("theme.crlf.bench-explorer", ["bench-explorer", "--n", "6", "--steps", "30", "--frames", "2",
                                           "--width", "80", "--height", "24", "--theme", "{d}/in.theme"],
             files={"in.theme": valid.replace(b"\n", b"\r\n")}),
    ]
    return cases


# ---------------------------------------------------------------------------------------------
# Dataset specs, training configurations, dataset directories


def spec_cases(fx, rng):
    valid = (Path(fx) / "spec.json").read_bytes()
    spec = json.loads(valid)

    def plan(p):
        return ["dataset", "plan", "--spec", p]

    def build(p):
        return ["dataset", "build", "--spec", p, "--out", "{d}/out", "-q"]

    cases = mutation_cases("spec.gen.plan", valid, rng, ".json", plan)

    def sv(group=None, **top):
        s = json.loads(valid)
        s.update(top)
        if group:
            s["groups"][0].update(group)
        return json.dumps(s).encode()

    g0 = spec["groups"][0]
    variants = {
        "samples-1e12": sv({"samples": 10 ** 12}), "samples-0": sv({"samples": 0}), "samples-negative": sv({"samples": -1}),
        "samples-intmax": sv({"samples": 9223372036854775807}), "samples-real": sv({"samples": 1.5}),
        "samples-string": sv({"samples": "2"}),
        "sizes-empty": sv({"sizes": []}), "sizes-negative": sv({"sizes": [-1]}), "sizes-1e30": sv({"sizes": [1e30]}),
        "sizes-2": sv({"sizes": [2]}), "sizes-100": sv({"sizes": [100]}), "sizes-string": sv({"sizes": ["abc"]}),
        "sizes-null": sv({"sizes": [None]}), "sizes-inf-obc": sv({"sizes": ["inf"], "boundaries": ["obc"]}),
        "sizes-31": sv({"sizes": [31]}),
        "boundaries-empty": sv({"boundaries": []}), "boundaries-bogus": sv({"boundaries": ["ring"]}),
        "operators-empty": sv({"operators": []}), "operators-bogus": sv({"operators": ["bogus"]}),
        "parameter-unknown": sv({"parameters": {"zz": {"range": [0, 1]}}}),
        "range-reversed": sv({"parameters": {"g": {"range": [1, -1]}}}),
        "range-one": sv({"parameters": {"g": {"range": [1]}}}),
        "range-strings": sv({"parameters": {"g": {"range": ["a", "b"]}}}),
        "range-huge": sv({"parameters": {"g": {"range": [-1e308, 1e308]}}}),
        "range-overflow": sv({"parameters": {"g": {"range": [0, 1]}}}).replace(b"[0, 1]", b"[0, 1e400]"),
        "values-empty": sv({"parameters": {"g": {"values": []}}}),
        "values-1e308": sv({"parameters": {"g": {"values": [1e308]}, "h": {"values": [1e308]}}}),
        "values-1e-300": sv({"parameters": {"g": {"values": [1e-300]}, "h": {"values": [1e-300]}}, "sizes": [6]}),
        "range-and-values": sv({"parameters": {"g": {"range": [0, 1], "values": [1]}}}),
        "steps-0": sv(steps=0), "steps-negative": sv(steps=-1), "steps-1e12": sv(steps=10 ** 12),
        "group-steps-0": sv({"steps": 0}),
        "seed-negative": sv(seed=-1), "seed-1e30": sv(seed=1e30), "seed-max": sv(seed=18446744073709551615),
        "name-slash": sv(name="../../x"), "name-esc": sv(name="\x1b[2Jevil"), "name-empty": sv(name=""),
        "groups-empty": sv(groups=[]), "groups-object": sv(groups={}), "top-array": b"[]",
        "spins-bogus": sv({"spins": "both"}), "model-custom": sv({"model": "custom"}),
        "model-esc": sv({"model": "\x1b[2Jmfim"}),
        "many-systems": sv({"samples": 100000, "sizes": [6, 7]}),
        "classical-9": sv({"spins": "classical", "sizes": [9], "steps": 3}),
    }
    for tag, data in variants.items():
        cases.append(Case(f"spec.{tag}.plan", plan("{d}/in.json"), files={"in.json": data}))
    for tag in ["samples-1e12", "sizes-empty", "boundaries-empty", "values-1e308", "values-1e-300", "sizes-31",
                "name-slash", "name-esc", "steps-1e12", "many-systems", "sizes-2", "crlf", "bom"]:
        data = variants.get(tag)
        flags = {}
        if data is None:
            data = valid.replace(b"\n", b"\r\n") if tag == "crlf" else b"\xef\xbb\xbf" + valid
            flags = {"must_succeed": True}
        cases.append(Case(f"spec.{tag}.build", build("{d}/in.json"), files={"in.json": data}, expect_stdout=False,
                          outputs=["{d}/out/manifest.json"], **flags))
    # shards
    for shard in ["0/0", "1/1", "-1/2", "5/2", "0/9223372036854775807", "abc", "1/", "/2", "0/-1", "0.5/2"]:
        cases.append(Case(f"spec.shard={shard}.plan", ["dataset", "plan", "--spec", "{fx}/spec.json", f"--shard={shard}"]))
    for shard in ["0/0", "5/2", "0/9223372036854775807"]:
        cases.append(Case(f"spec.shard={shard}.build", build("{fx}/spec.json") + [f"--shard={shard}"],
                          expect_stdout=False))
    return cases


CONFIG_INT = ["layers", "heads", "channels", "scaleWindow", "steps", "batchSize", "sequenceLength", "warmupSteps",
              "evaluationInterval", "rolloutPrefix", "seed"]
CONFIG_REAL = ["stepGain", "learningRate", "weightDecay", "gradientClip", "inputNoise", "validationFraction",
               "unknownSystemFraction"]


def config_cases(fx, rng):
    valid = (Path(fx) / "cfg.json").read_bytes()
    cfg = json.loads(valid)

    def train(p):
        return ["train", "--data", "{fx}/ds", "--out", "{d}/m.safetensors", "--config", p, "-q"]

    kw = dict(expect_stdout=False, outputs=["{d}/m.safetensors"])
    cases = mutation_cases("config.gen.train", valid, rng, ".json", train, **kw)
    for k in CONFIG_INT + CONFIG_REAL:
        huge = 9223372036854775807 if k in CONFIG_INT else 1e300
        for v in [0, -1, huge, "x"] + ([1.5] if k in CONFIG_INT else []):
            tag = {None: "null", "x": "string", huge: "huge"}.get(v, str(v)) if not isinstance(v, float) or v != 1.5 \
                else "real"
            data = json.dumps({**cfg, k: v}).encode()
            cases.append(Case(f"config.{k}={tag}.train", train("{d}/in.json"), files={"in.json": data}, **kw))
    extra = {
        "shape-64x4096": {"layers": 64, "channels": 4096, "heads": 16},
        "heads-3": {"heads": 3},
        "validationFraction-1": {"validationFraction": 1},
        "validationFraction-2": {"validationFraction": 2},
        "unknownSystemFraction-2": {"unknownSystemFraction": 2},
        "rolloutPrefix-1e9": {"rolloutPrefix": 10 ** 9},
        "sequenceLength-1": {"sequenceLength": 1},
        "batchSize-1e9": {"batchSize": 10 ** 9},
        "inputNoise-1e10": {"inputNoise": 1e10},
        "learningRate-1e30": {"learningRate": 1e30},
        "systemInputs-string": {"systemInputs": "yes"},
        "unknown-key": {"bogus": 1},
        "overflow-literal": None,
    }
    for tag, change in extra.items():
        data = json.dumps({**cfg, **(change or {})}).encode()
        if change is None:
            data = data.replace(b'"steps": 4', b'"steps": 1e400')
        cases.append(Case(f"config.{tag}.train", train("{d}/in.json"), files={"in.json": data}, **kw))
    # flags beside the config
    cases.append(Case("config.initial-weights-shape-conflict.train",
                      train("{fx}/cfg.json") + ["--initial-weights", "default"], **kw))
    return cases


def dataset_dir_cases(fx, rng):
    cases = []
    manifest = (Path(fx) / "ds" / "manifest.json").read_bytes()
    m = json.loads(manifest)
    seq0 = m["entries"][0]["file"]

    def mv(fn):
        d = json.loads(manifest)
        fn(d)
        return json.dumps(d).encode()

    variants = {
        "empty-dir": ("dir", None, None),
        "no-manifest": ("nomanifest", None, None),
        "manifest-empty": ("copy", b"", None),
        "manifest-garbage": ("copy", bytes(rng.randrange(256) for _ in range(2000)), None),
        "manifest-truncated": ("copy", manifest[:len(manifest) // 2], None),
        "manifest-crlf": ("copy", manifest.replace(b"\n", b"\r\n"), None),
        "manifest-entries-empty": ("copy", mv(lambda d: d.update(entries=[])), None),
        "manifest-missing-file": ("copy", mv(lambda d: d["entries"][0].update(file="sequences/nope.json")), None),
        "manifest-traversal": ("copy", mv(lambda d: d["entries"][0].update(file="../../../../etc/passwd")), None),
        "manifest-devzero": ("copy", mv(lambda d: d["entries"][0].update(file="/dev/zero")), None),
        "manifest-trusted-negative": ("copy", mv(lambda d: d["entries"][0].update(trusted=-1)), None),
        "manifest-incomplete": ("copy", mv(lambda d: d.update(complete=False)), None),
        "manifest-label-esc": ("copy", mv(lambda d: d["entries"][0].update(label="\x1b[2Jevil")), None),
        "seq-random": ("copy", None, bytes(rng.randrange(256) for _ in range(2000))),
        "seq-1e308": ("copy", None, "b-1e308"),
        "seq-trusted-negative": ("copy", None, "trusted-negative"),
        "seq-nan-literal": ("copy", None, "nan-literal"),
    }
    seq_json = json.loads((Path(fx) / "ds" / seq0).read_bytes())

    def seq_variant(tag):
        d = dict(seq_json)
        if tag == "b-1e308":
            d["b"] = [1e308] * len(d["b"])
        elif tag == "trusted-negative":
            d["trusted"] = -1
        elif tag == "nan-literal":
            return json.dumps(d).replace(str(d["b"][3]), "NaN", 1).encode()
        return json.dumps(d).encode()

    consumers = {
        "train": (lambda p: ["train", "--data", p, "--out", "{d}/m.safetensors", "--config", "{fx}/cfg.json", "-q"],
                  False, ["{d}/m.safetensors"]),
        "evaluate": (lambda p: ["evaluate", "--data", p, "--horizon", "60", "--prefix", "20", "--md-samples", "0"],
                     True, []),
        "show": (lambda p: ["dataset", "show", p], True, []),
        "calibrate": (lambda p: ["calibrate", "--data", p, "--model", "{fx}/m.safetensors", "--out",
                                 "{d}/c.safetensors"], False, ["{d}/c.safetensors"]),
        "interpret": (lambda p: ["interpret", "--data", p, "--horizon", "60", "--prefix", "20", "-q"], True, []),
        "merge": (lambda p: ["dataset", "merge", p, "--out", "{d}/merged"], False, ["{d}/merged/manifest.json"]),
    }
    wide = {"empty-dir", "no-manifest", "manifest-garbage", "manifest-traversal", "seq-random", "seq-1e308",
            "manifest-entries-empty", "manifest-crlf"}
    for tag, (kind, mbytes, seq) in variants.items():
        files = {}
        if kind == "dir":
            files["ds"] = Dir()
        else:
            files["ds"] = Copy("{fx}/ds")
        def setup(d, kind=kind, mbytes=mbytes, seq=seq):
            if kind == "nomanifest":
                os.unlink(os.path.join(d, "ds", "manifest.json"))
            if mbytes is not None:
                Path(d, "ds", "manifest.json").write_bytes(mbytes)
            if seq is not None:
                Path(d, "ds", seq0).write_bytes(seq if isinstance(seq, bytes) else seq_variant(seq))
        names = list(consumers) if tag in wide else ["train", "evaluate", "show"]
        for c in names:
            make, out, outs = consumers[c]
            flags = {"must_succeed": True} if tag == "manifest-crlf" else {}
            if tag in ("empty-dir", "manifest-entries-empty") and c in ("train", "evaluate", "interpret", "calibrate"):
                flags = {"must_fail": True}  # nothing to train or score on
            cases.append(Case(f"data.{tag}.{c}", make("{d}/ds"), files=dict(files), setup=setup, expect_stdout=out,
                              outputs=outs, **flags))
    for c, (make, out, outs) in consumers.items():
        cases.append(Case(f"data.missing.{c}", make("{d}/nope"), reason=r"no such|not found|does not exist|missing"))
        cases.append(Case(f"data.is-file.{c}", make("{fx}/f.csv")))
    cases += [
        Case("data.merge-unrelated", ["dataset", "merge", "{fx}/ds", "{fx}/cds", "--out", "{d}/merged"]),
        Case("data.merge-same-twice", ["dataset", "merge", "{fx}/ds", "{fx}/ds", "--out", "{d}/merged"],
             expect_stdout=False, outputs=["{d}/merged/manifest.json"]),
        Case("data.merge-out-is-file", ["dataset", "merge", "{fx}/ds", "--out", "{d}/file"], files={"file": b"x"}),
        Case("data.merge-out-devnull", ["dataset", "merge", "{fx}/ds", "--out", "/dev/null"]),
        Case("data.merge-none", ["dataset", "merge"]),
        Case("data.build-out-is-file", ["dataset", "build", "--spec", "{fx}/spec.json", "--out", "{d}/file", "-q"],
             files={"file": b"x"}),
        Case("data.build-out-devnull", ["dataset", "build", "--spec", "{fx}/spec.json", "--out", "/dev/null", "-q"]),
    ]
    return cases


# ---------------------------------------------------------------------------------------------
# Output targets, signals, scale, sizes, environment, misc


WRITERS = {
    "lanczos": (["lanczos", "--n", "8", "--steps", "30", "-q"], "-o"),
    "lanczos-json": (["lanczos", "--n", "8", "--steps", "30", "-q", "--format", "json"], "-o"),
    "simulate": (["simulate", "--n", "8", "--samples", "512", "--tmax", "1", "--seed", "1", "-q"], "-o"),
    "observe": (["observe", "--input", "{fx}/f.csv"], "-o"),
    "forecast": (["forecast", "--input", "{fx}/g.csv", "--horizon", "60"], "-o"),
    "forecast-json": (["forecast", "--input", "{fx}/g.csv", "--horizon", "60", "--format", "json"], "-o"),
    "attention": (["attention", "--input", "{fx}/f.csv", "--horizon", "40"], "-o"),
    "train": (["train", "--data", "{fx}/ds", "--config", "{fx}/cfg.json", "-q"], "--out"),
    "calibrate": (["calibrate", "--data", "{fx}/ds", "--model", "{fx}/m.safetensors"], "--out"),
    "interpret-lags": (["interpret", "--data", "{fx}/ds", "--horizon", "60", "--prefix", "20", "-q"], "--lags-out"),
}
STDOUT_COMMANDS = {
    "lanczos": ["lanczos", "--n", "8", "--steps", "30", "-q"],
    "lanczos-json": ["lanczos", "--n", "8", "--steps", "30", "-q", "--format", "json"],
    "simulate": ["simulate", "--n", "8", "--samples", "512", "--tmax", "1", "--seed", "1", "-q"],
    "observe": ["observe", "--input", "{fx}/f.csv"],
    "forecast": ["forecast", "--input", "{fx}/g.csv", "--horizon", "60"],
    "attention": ["attention", "--input", "{fx}/f.csv", "--horizon", "40"],
    "ablate": ["ablate", "--input", "{fx}/f.csv", "--horizon", "60", "--rank", "heads"],
    "evaluate": BASES["evaluate"], "interpret": BASES["interpret"],
    "models": ["models"], "help": ["--help"], "version": ["--version"],
    "plan": ["dataset", "plan", "--spec", "{fx}/spec.json"], "show": ["dataset", "show", "{fx}/ds"],
    "render": BASES["render"], "bench-forecaster": BASES["bench-forecaster"],
    "bench-explorer": BASES["bench-explorer"], "bench": BASES["bench"],
}


def output_cases():
    cases = []
    for name, (argv, opt) in WRITERS.items():
        quiet = name in ("train", "calibrate")
        ext = ".safetensors" if quiet else ".csv"
        if quiet:
            # Checkpoints may be written by renaming a file over the target: as root that could
            # replace /dev/full itself, so the full device is a node of its own in the case
            # directory (root only), and /dev/full is tried as nobody.
            cases.append(Case(f"out.{name}.devfull-as-nobody", argv + [opt, "/dev/full"], as_user=NOBODY,
                              must_fail=True))
            if os.geteuid() == 0:
                cases.append(Case(f"out.{name}.devfull-node", argv + [opt, "{d}/full"], files={"full": Node(1, 7)},
                                  reason=r"space|full", must_fail=True, device_kept="{d}/full"))
        else:
            cases.append(Case(f"out.{name}.devfull", argv + [opt, "/dev/full"], reason=r"space|full", must_fail=True))
        cases += [
            Case(f"out.{name}.missing-dir", argv + [opt, "{d}/no/such/dir/x" + ext],
                 reason=r"no such|not found|does not exist|director"),
            Case(f"out.{name}.is-dir", argv + [opt, "{d}/adir"], files={"adir": Dir()}, reason=r"director"),
            Case(f"out.{name}.readonly-dir", argv + [opt, "{d}/ro/x" + ext], files={"ro": Dir()},
                 setup=lambda d: os.chmod(os.path.join(d, "ro"), 0o555), as_user=NOBODY,
                 reason=r"permission|read-only|denied|not writable"),
            Case(f"out.{name}.empty-path", argv + [opt, ""]),
            Case(f"out.{name}.proc", argv + [opt, "/proc/version"], must_fail=True),
        ]
        if not quiet:
            cases.append(Case(f"out.{name}.ok", argv + [opt, "{d}/x" + ext], outputs=["{d}/x" + ext],
                              expect_stdout=False))
    for name, argv in STDOUT_COMMANDS.items():
        cases.append(Case(f"stdout.{name}.devfull", argv, stdout_to="/dev/full", reason=r"space|full|write",
                          must_fail=True))
    return cases


def signal_cases():
    cases = []
    long_run = ["lanczos", "--n", "12", "--steps", "1500"]
    for fmt in ["csv", "json"]:
        for sig, delay in [(signal.SIGINT, 1.0), (signal.SIGTERM, 1.0), (signal.SIGHUP, 1.0),
                           (signal.SIGINT, 6.0), (signal.SIGTERM, 6.0), (signal.SIGHUP, 6.0)]:
            out = "{d}/out." + fmt
            cases.append(Case(f"sig.lanczos-{fmt}.{sig.name}@{delay:g}s", long_run + ["--format", fmt, "-o", out],
                              signals=[(delay, sig)], interrupted=out, expect_stdout=False))
    cases.append(Case("sig.lanczos-stdout.SIGINT@4s", long_run + ["-q"], signals=[(4.0, signal.SIGINT)]))
    sim = ["simulate", "--n", "16", "--samples", "5000000", "--tmax", "3", "--seed", "1", "-o", "{d}/out.csv"]
    for sig in [signal.SIGINT, signal.SIGTERM, signal.SIGHUP]:
        cases.append(Case(f"sig.simulate.{sig.name}@2s", sim, signals=[(2.0, sig)], interrupted="{d}/out.csv",
                          expect_stdout=False))
    classical = ["lanczos", "--spins", "classical", "--steps", "20", "-o", "{d}/out.csv"]
    cases.append(Case("sig.classical-setup.SIGINT-twice", classical,
                      signals=[(1.0, signal.SIGINT), (2.0, signal.SIGINT)], honour=3.0, expect_stdout=False))
    cases.append(Case("sig.classical-setup.SIGTERM", classical, signals=[(1.5, signal.SIGTERM)], honour=5.0,
                      expect_stdout=False))
    trunc = ["lanczos", "--n", "inf", "--truncate", "1000000000", "--steps", "100000", "-o", "{d}/out.csv"]
    cases.append(Case("sig.truncate-1e9.SIGTERM@3s", trunc, signals=[(3.0, signal.SIGTERM)], honour=5.0,
                      interrupted="{d}/out.csv", expect_stdout=False))
    cases.append(Case("sig.dataset-build.SIGINT@3s",
                      ["dataset", "build", "--spec", "{d}/spec.json", "--out", "{d}/out"],
                      files={"spec.json": json.dumps({"name": "sig", "seed": 1, "steps": 3000, "groups": [
                          {"model": "mfim", "sizes": [10, 11, 12], "operators": ["sz_total"], "samples": 4,
                           "parameters": {"g": {"range": [-1.5, -0.6]}}}]}).encode()},
                      signals=[(3.0, signal.SIGINT)], honour=10.0, expect_stdout=False,
                      interrupted="{d}/out/manifest.json"))
    cases.append(Case("sig.train.SIGINT@4s",
                      ["train", "--data", "{fx}/ds", "--out", "{d}/m.safetensors", "--config", "{d}/cfg.json"],
                      files={"cfg.json": json.dumps({"layers": 2, "heads": 2, "channels": 16, "steps": 100000,
                                                     "batchSize": 4, "sequenceLength": 60, "evaluationInterval": 20,
                                                     "rolloutPrefix": 10}).encode()},
                      signals=[(4.0, signal.SIGINT)], interrupted="{d}/m.safetensors", expect_stdout=False))
    cases.append(Case("sig.render.SIGTERM@1s", ["render", "--n", "12", "--steps", "2000"],
                      signals=[(1.0, signal.SIGTERM)], honour=5.0, expect_stdout=False))
    return cases


def scale_cases():
    cases = []
    texts = {
        "op-1e-200": ["--operator", "1e-200*Z0 + 1e-200*Z1"],
        "op-1e200": ["--operator", "1e200*Z0 + 1e200*Z1"],
        "op-1e308": ["--operator", "1e308*Z0 + 1e308*Z1"],
        "op-denormal": ["--operator", "5e-324*Z0"],
        "op-zero": ["--operator", "0*Z0"],
        "op-nan": ["--operator", "nan*Z0"],
        "op-inf": ["--operator", "inf*Z0"],
        "op-overflow-literal": ["--operator", "1e400*Z0"],
        "op-site-40": ["--operator", "Z40"],
        "op-site-huge": ["--operator", "Z9223372036854775807"],
        "op-empty": ["--operator", ""],
        "op-dangling": ["--operator", "Z0 +"],
        "op-esc": ["--operator", "\x1b[2JZ0"],
        "op-long-12k-terms": ["--operator", " + ".join(f"{(i % 7) + 1}*Z{i % 8}" for i in range(12000))],
        "ham-1e308": ["--hamiltonian", "1e308*Z0Z1 + 1e308*X0"],
        "ham-1e-308": ["--hamiltonian", "1e-308*Z0Z1 + 1e-308*X0"],
        "ham-1e200": ["--hamiltonian", "1e200*Z0Z1 + -1e200*X0 + 1e200*Z0"],
        "ham-zero": ["--hamiltonian", "0*Z0Z1"],
        "ham-nan": ["--hamiltonian", "nan*Z0Z1 + X0"],
        "ham-identity": ["--hamiltonian", "1.0*I0"],
        "ham-long-range": ["--hamiltonian", "Z0Z7 + X0"],
        "ham-wide-cell": ["--hamiltonian", "Z0Z1Z2Z3Z4Z5Z6Z7Z8 + X0"],
        # Charge sectors: U(1) Hamiltonians at extreme scales, wider than a support table, with an
        # imaginary (Dzyaloshinskii–Moriya) term, and operators of mixed charges and phases.
        "u1-1e300": ["--hamiltonian", "1e300*X0X1 + 1e300*Y0Y1 + 5e299*Z0Z1"],
        "u1-1e-300": ["--hamiltonian", "1e-300*X0X1 + 1e-300*Y0Y1 + 5e-301*Z0Z1"],
        "u1-support-7": ["--hamiltonian", "X0X1Z2Z3Z4Z5Z6 + Y0Y1Z2Z3Z4Z5Z6 + Z0Z1"],
        "u1-dm": ["--hamiltonian", "X0Y1 + -1*Y0X1 + Z0Z1"],
        "u1-mixed-op": ["--model", "xxz", "--operator", "X0X1 + 0.5*Y0 + 1e-300*Z3"],
        "u1-imaginary-op": ["--model", "xxz", "--operator", "X0Y1 + -1*Y0X1"],
        "u1-wide-op": ["--model", "xxz", "--operator", "X0X1X2X3X4X5X6X7"],
        "param-g-1e308": ["--param", "g=1e308", "--param", "h=1e308"],
        "param-dup-case": ["--param", "g=1", "--param", "G=2"],
        "param-dup": ["--param", "g=1", "--param", "g=2"],
        "param-unknown": ["--param", "zz=1"],
        "param-no-value": ["--param", "g"],
        "param-no-name": ["--param", "=1"],
        "param-double-eq": ["--param", "g==1"],
    }
    for tag, extra in texts.items():
        for fmt in ["csv", "json"]:
            cases.append(Case(f"scale.lanczos-{fmt}.{tag}", ["lanczos", "--n", "8", "--steps", "30", "-q",
                                                              "--format", fmt] + extra))
    for tag in ["op-1e-200", "op-1e308", "ham-1e308", "ham-1e-308", "param-g-1e308", "op-nan"]:
        cases.append(Case(f"scale.classical.{tag}", ["lanczos", "--spins", "classical", "--steps", "8", "-q"]
                          + texts[tag]))
        cases.append(Case(f"scale.simulate.{tag}", ["simulate", "--n", "8", "--samples", "512", "--tmax", "1",
                                                     "--seed", "1", "-q"] + texts[tag]))
        cases.append(Case(f"scale.render.{tag}", BASES["render"] + texts[tag]))
    wide = {"classical-9-sites-ham": ["--hamiltonian", "Z0Z8 + X0"],
            "classical-9-sites-op": ["--operator", "Z0Z1Z2Z3Z4Z5Z6Z7Z8"],
            "classical-12-sites-op": ["--operator", "Z0Z11", "--translate-operator"]}
    for tag, extra in wide.items():
        cases.append(Case(f"scale.lanczos.{tag}", ["lanczos", "--spins", "classical", "--steps", "6", "-q"] + extra))
        cases.append(Case(f"scale.simulate.{tag}", ["simulate", "--n", "12", "--samples", "512", "--tmax", "1",
                                                     "--seed", "1", "-q"] + extra))
        cases.append(Case(f"scale.render.{tag}", ["render", "--spins", "classical", "--steps", "6", "--width",
                                                   "80", "--height", "24"] + extra))
    # sizes of work
    cases += [
        Case("size.truncate-1e9", ["lanczos", "--n", "inf", "--truncate", "1000000000", "--steps", "100000", "-q"]),
        Case("size.forecast-horizon-100000", ["forecast", "--input", "{fx}/f.csv", "--horizon", "100000"]),
        Case("size.attention-horizon-3000", ["attention", "--input", "{fx}/f.csv", "--horizon", "3000",
                                             "-o", "{d}/att.json"], outputs=["{d}/att.json"], expect_stdout=False),
        Case("size.attention-horizon-1000", ["attention", "--input", "{fx}/f.csv", "--horizon", "1000",
                                             "-o", "{d}/att.json"], outputs=["{d}/att.json"], expect_stdout=False),
        Case("size.ablate-horizon-100000", ["ablate", "--input", "{fx}/f.csv", "--horizon", "100000", "--rank",
                                            "heads"]),
        Case("size.bench-steps-1e12", ["bench", "--sizes", "6", "--steps", "1000000000000"]),
        Case("size.simulate-samples-1e12", ["simulate", "--n", "8", "--samples", "1000000000000", "--tmax", "1",
                                            "-o", "{d}/out.csv"], signals=[(5.0, signal.SIGINT)], honour=10.0,
             interrupted="{d}/out.csv", expect_stdout=False),
        Case("size.simulate-dt-1e-300", ["simulate", "--n", "8", "--samples", "512", "--tmax", "1", "--dt", "1e-300"]),
        Case("size.observe-dt-1e-9", ["observe", "--input", "{fx}/f.csv", "--dt", "1e-9"]),
        Case("size.bench-explorer-frames-1e12", with_opt(BASES["bench-explorer"], "--frames", "1000000000000")),
        Case("size.bench-explorer-100000x100000", with_opt(with_opt(BASES["bench-explorer"], "--width", "100000"),
                                                           "--height", "100000")),
        Case("size.render-100000x100000", ["render", "--n", "8", "--steps", "40", "--width", "100000", "--height",
                                           "100000"]),
        Case("size.render-steps-100000", ["render", "--n", "8", "--steps", "100000", "--timeout", "20"]),
        Case("size.interpret-horizon-1e12", ["interpret", "--data", "{fx}/ds", "--horizon", "1000000000000", "-q"]),
        Case("size.evaluate-continue-to-1e6", BASES["evaluate-md"] + ["--continue-to", "1000000"]),
        Case("size.lanczos-classical-steps-40", ["lanczos", "--spins", "classical", "--steps", "40", "-q"]),
        Case("size.lanczos-n31", ["lanczos", "--n", "31", "--steps", "2", "-q"], reason=r"memory"),
        Case("size.memory-limit-1", ["lanczos", "--n", "8", "--steps", "30", "-q", "--memory-limit", "1"],
             reason=r"memory"),
    ]
    return cases


def misc_cases():
    render = BASES["render"]
    cases = [
        Case("misc.unknown-subcommand", ["frobnicate"]),
        Case("misc.bad-format", ["lanczos", "--format", "xml"]),
        Case("misc.invalid-utf8-arg", ["lanczos", "--operator", b"Z0\xff\xfe".decode("utf-8", "surrogateescape")]),
        Case("misc.arabic-digit", ["lanczos", "--n", "\u0663"]),
        Case("misc.steps-underscore", ["lanczos", "--steps", "1_000"]),
        Case("misc.n-inf-z0", ["lanczos", "--n", "inf", "--op", "z0", "--steps", "10", "-q"]),
        Case("misc.observe-stdin-dash", ["observe", "--input", "-"], stdin=b"n,b_n\n1,1\n2,1.5\n"),
        Case("misc.observe-dev-stdin", ["observe", "--input", "/dev/stdin"], stdin=b"n,b_n\n1,1\n2,1.5\n"),
        Case("misc.ablate-heads-bogus", ["ablate", "--input", "{fx}/f.csv", "--horizon", "60", "--heads", "L99H0"]),
        Case("misc.ablate-heads-negative", ["ablate", "--input", "{fx}/f.csv", "--horizon", "60", "--heads=-1.-1"]),
        Case("misc.ablate-heads-all", ["ablate", "--input", "{fx}/f.csv", "--horizon", "60",
                                       "--heads", ",".join(f"L{l}H{h}" for l in range(4) for h in range(4))]),
        Case("misc.ablate-heads-dup", ["ablate", "--input", "{fx}/f.csv", "--horizon", "60", "--heads",
                                       "L0H0,L0H0,0.0"]),
        Case("misc.ablate-heads-empty", ["ablate", "--input", "{fx}/f.csv", "--horizon", "60", "--heads", ""]),
        Case("misc.ablate-heads-huge", ["ablate", "--input", "{fx}/f.csv", "--horizon", "60", "--heads",
                                        "L9223372036854775807H9223372036854775807"]),
    ]
    for opt in ["--exclude", "--only"]:
        for v in ["5:3", "0:0", "-1:5", "1:9223372036854775807", "abc", "1:", ":", "1:30", "31:60"]:
            cases.append(Case(f"misc.ablate{opt[1:]}={v}", ["ablate", "--input", "{fx}/f.csv", "--horizon", "60",
                                                            f"{opt}={v}"]))
    for keys in ["Zzz", "\x1b[2J", " ".join(["Tab"] * 20000), "Enter Enter Enter q", "? ? ? Esc", "w"]:
        cases.append(Case(f"misc.render-keys={keys[:12]!r}", render + ["--keys", keys]))
    for tag, env in {"term-unset": {"TERM": None}, "term-dumb": {"TERM": "dumb"}, "columns": {"COLUMNS": "-1",
                     "LINES": "1e30"}, "glyphs": {"KRYLOV_GLYPHS": "\x1b[2J"}, "no-color": {"NO_COLOR": "1"},
                     "home-missing": {"HOME": "/nonexistent"}, "xdg-devnull": {"XDG_CONFIG_HOME": "/dev/null"},
                     "locale": {"LC_ALL": "de_DE.UTF-8", "LANG": "de_DE.UTF-8"}}.items():
        cases.append(Case(f"misc.env-{tag}.render", render, env=env))
    cases.append(Case("misc.env-locale.lanczos", ["lanczos", "--n", "8", "--steps", "30", "-q"],
                      env={"LC_ALL": "de_DE.UTF-8"}))
    cases.append(Case("misc.settings-garbage.render", render, files={".config/krylov/settings.json": b"\x00{{{"}))
    return cases


def all_cases(fx):
    rng = random.Random(15)
    cases = (numeric_cases() + coefficient_cases(fx, rng) + checkpoint_cases(fx, rng) + theme_cases(fx, rng)
             + spec_cases(fx, rng) + config_cases(fx, rng) + dataset_dir_cases(fx, rng) + output_cases()
             + signal_cases() + scale_cases() + misc_cases())
    seen = set()
    for c in cases:
        assert c.name not in seen, c.name
        seen.add(c.name)
    return cases


# ---------------------------------------------------------------------------------------------
# Fixtures


def build_fixtures(binary, fx, repo):
    """Valid inputs made by the binary under test (and a few copied from the repository)."""
    def run(*argv, cwd=fx):
        p = subprocess.run(["nice", "-n", "19", binary, *argv], cwd=cwd, capture_output=True, timeout=300)
        if p.returncode != 0:
            sys.exit(f"fixture failed: krylov {' '.join(argv)}: exit {p.returncode}\n{p.stderr.decode()[-2000:]}")

    os.makedirs(fx, exist_ok=True)
    run("lanczos", "--n", "8", "--steps", "60", "-q", "-o", "f.csv")
    run("lanczos", "--n", "8", "--steps", "60", "-q", "--format", "json", "-o", "f.json")
    run("lanczos", "--n", "10", "--steps", "250", "-q", "-o", "g.csv")
    Path(fx, "spec.json").write_text(json.dumps({
        "name": "tiny", "seed": 1, "steps": 80,
        "groups": [{"model": "mfim", "sizes": [6, 7], "operators": ["sz_total", "sx_total"], "samples": 2,
                    "parameters": {"g": {"range": [-1.5, -0.6]}, "h": {"range": [0.1, 0.9]}}}]}, indent=1) + "\n")
    Path(fx, "cspec.json").write_text(json.dumps({
        "name": "ctiny", "seed": 2, "steps": 16,
        "groups": [{"spins": "classical", "model": "mfim", "sizes": ["inf"], "operators": ["sz_total", "sx_total"],
                    "samples": 2, "parameters": {"g": {"range": [-1.5, -0.6]}, "h": {"range": [0.1, 0.9]}}}]},
        indent=1) + "\n")
    Path(fx, "cfg.json").write_text(json.dumps({
        "layers": 1, "heads": 2, "channels": 8, "steps": 4, "batchSize": 2, "sequenceLength": 40,
        "evaluationInterval": 2, "rolloutPrefix": 10}, indent=1) + "\n")
    run("dataset", "build", "--spec", "spec.json", "--out", "ds", "-q")
    run("dataset", "build", "--spec", "cspec.json", "--out", "cds", "-q")
    run("train", "--data", "ds", "--out", "m.safetensors", "--config", "cfg.json", "-q")
    real = Path(repo, ".data", "size-aware-cal.safetensors")
    if real.exists():
        shutil.copy(real, Path(fx, "real.safetensors"))
    theme = Path(repo, "Themes", "nord.theme")
    if theme.exists():
        shutil.copy(theme, Path(fx, "nord.theme"))
    else:
        Path(fx, "nord.theme").write_text('# nord\ntheme[main_bg]="#2e3440"\ntheme[main_fg]="#d8dee9"\n'
                                          'theme[title]="#eceff4"\ntheme[hi_fg]="#88c0d0"\n')
    for root, dirs, files in os.walk(fx):
        for n in dirs:
            os.chmod(os.path.join(root, n), 0o755)
        for n in files:
            os.chmod(os.path.join(root, n), 0o644)
    os.chmod(fx, 0o755)


def tree_digest(path):
    out = {}
    for root, _, files in os.walk(path):
        for n in files:
            p = os.path.join(root, n)
            st = os.stat(p)
            out[os.path.relpath(p, path)] = (st.st_size, st.st_mtime_ns)
    return out


# ---------------------------------------------------------------------------------------------
# Running and classifying

CRASH_TEXT = re.compile(r"Fatal error|Illegal instruction|Program crashed|Thread \d+ crashed|Backtrace|"
                        r"Segmentation fault|Current stack trace|Crash(ed)? at|Precondition failed|"
                        r"Assertion failed|Aborted|core dumped|💣")
BOILERPLATE = re.compile(r"The operation could not be completed|The operation couldn.t be completed|"
                         r"NSCocoaErrorDomain|NSPOSIXErrorDomain|Error Domain=|NSUnderlyingError|"
                         r"dataCorrupted\(|keyNotFound\(|typeMismatch\(|valueNotFound\(|CodingKeys\(|"
                         r"Swift\.DecodingError|DecodingError\.|_GenericObjCError|Foundation\._")
NONFINITE_TOKEN = re.compile(r"^[+-]?(nan|inf|infinity)$", re.I)
NAN_WORD = re.compile(r"(?<![A-Za-z_])[+-]?nan(?![A-Za-z_])", re.I)
INF_IN_TEXT = re.compile(r"(=\s+[+-]?inf(inity)?\b)|(\|\s*[+-]?inf(inity)?\s*\|)|((^|[\s,(\[])[+-]inf(inity)?\b)",
                         re.I)
SCAN_LIMIT = 48 << 20


def materialize(d, fx, files):
    for rel, spec in files.items():
        p = os.path.join(d, rel)
        os.makedirs(os.path.dirname(p), exist_ok=True)
        if isinstance(spec, bytes):
            Path(p).write_bytes(spec)
        elif isinstance(spec, Dir):
            os.makedirs(p, exist_ok=True)
        elif isinstance(spec, Fifo):
            os.mkfifo(p)
            threading.Thread(target=feed_fifo, args=(p, spec.content), daemon=True).start()
        elif isinstance(spec, Sparse):
            with open(p, "wb") as f:
                f.truncate(spec.size)
        elif isinstance(spec, Link):
            os.symlink(spec.target.replace("{d}", d).replace("{fx}", fx), p)
        elif isinstance(spec, Node):
            os.mknod(p, 0o666 | stat.S_IFCHR, os.makedev(spec.major, spec.minor))
        elif isinstance(spec, Copy):
            src = spec.source.replace("{fx}", fx)
            if os.path.isdir(src):
                shutil.copytree(src, p)
            else:
                shutil.copy(src, p)


def feed_fifo(path, content, patience=120.0):
    """Writes content into a FIFO once a reader has it open (gives up after patience seconds)."""
    end = time.monotonic() + patience
    while time.monotonic() < end:
        try:
            fd = os.open(path, os.O_WRONLY | os.O_NONBLOCK)
        except OSError:  # ENXIO: no reader yet; ENOENT: the case is over
            if not os.path.exists(path):
                return
            time.sleep(0.05)
            continue
        try:
            os.set_blocking(fd, True)
            os.write(fd, content)
        except OSError:
            pass
        finally:
            os.close(fd)
        return


def nonfinite_in_json(value, path="$"):
    """The JSON path of a non-finite number (or a 'nan' string among numbers), else None."""
    if isinstance(value, float) and not math.isfinite(value):
        return path
    if isinstance(value, str) and value.strip().lower() in ("nan", "-nan", "+nan"):
        return path
    if isinstance(value, list):
        numeric = any(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
        for i, v in enumerate(value):
            if numeric and isinstance(v, str) and NONFINITE_TOKEN.match(v.strip()):
                return f"{path}[{i}]"
            r = nonfinite_in_json(v, f"{path}[{i}]")
            if r:
                return r
    if isinstance(value, dict):
        for k, v in value.items():
            r = nonfinite_in_json(v, f"{path}.{k}")
            if r:
                return r
    return None


def scan_text(text, where):
    """A description of the first nan/inf where a number belongs, or of broken JSON, else None."""
    body = text.lstrip("\ufeff").strip()
    if body[:1] in "{[":
        try:
            doc = json.loads(body)
        except ValueError:
            docs = []
            for line in body.splitlines():
                try:
                    docs.append(json.loads(line))
                except ValueError:
                    return ("lost", f"{where}: not valid JSON")
            doc = docs
        r = nonfinite_in_json(doc)
        return ("nan", f"{where}: non-finite at {r}") if r else None
    for no, line in enumerate(text.splitlines(), 1):
        if NAN_WORD.search(line):
            return ("nan", f"{where}:{no}: {line.strip()[:100]}")
        if not line.startswith("#") and "," in line:
            for tok in line.split(","):
                if NONFINITE_TOKEN.match(tok.strip()):
                    return ("nan", f"{where}:{no}: {line.strip()[:100]}")
        if INF_IN_TEXT.search(line):
            return ("nan", f"{where}:{no}: {line.strip()[:100]}")
    return None


FORECAST_COLUMNS = ("transformer", "linear_fit", "log_corrected_fit", "best_fit", "linear_ar")


def zero_forecast(text, where):
    """A forecast CSV column that is exactly 0 on every row: a non-finite value masked as 0."""
    rows = [l.split(",") for l in text.splitlines() if l and not l.startswith("#")]
    if len(rows) < 6 or "transformer" not in rows[0]:
        return None
    header, body = rows[0], rows[1:]
    for name in FORECAST_COLUMNS:
        if name in header:
            i = header.index(name)
            values = [r[i] for r in body if len(r) > i]
            try:
                if values and all(float(v) == 0.0 for v in values):
                    return ("nan", f"{where}: column {name} is 0 on every row (a masked nan?)")
            except ValueError:
                return None
    return None


def scan_safetensors(path):
    try:
        header, data = read_safetensors(path)
    except (ValueError, struct.error, UnicodeDecodeError) as e:
        return ("lost", f"{path}: unreadable checkpoint ({e})")
    meta = header.get("__metadata__", {})
    for k, v in meta.items():
        if isinstance(v, str) and v[:1] in "{[":
            try:
                r = nonfinite_in_json(json.loads(v))
            except ValueError:
                r = None
            if r:
                return ("nan", f"{os.path.basename(path)}: metadata {k} non-finite at {r}")
            if NAN_WORD.search(v):
                return ("nan", f"{os.path.basename(path)}: metadata {k} holds nan")
    for name, t in header.items():
        if name == "__metadata__" or t.get("dtype") != "F32":
            continue
        a, b = t["data_offsets"]
        values = array.array("f")
        values.frombytes(data[a:b - (b - a) % 4])
        if any(not math.isfinite(x) for x in values):
            return ("nan", f"{os.path.basename(path)}: tensor {name} holds nan/inf")
    return None


def scan_output(path):
    if os.path.isdir(path):
        return None
    if path.endswith(".safetensors"):
        return scan_safetensors(path)
    with open(path, "rb") as f:
        raw = f.read(SCAN_LIMIT)
    text = raw.decode("utf-8", "replace")
    if os.path.getsize(path) > SCAN_LIMIT:  # too large to parse whole: look for the tokens only
        m = re.search(r"\b(NaN|-?Infinity)\b|(?<![A-Za-z_])[+-]?nan(?![A-Za-z_])", text)
        return ("nan", f"{os.path.basename(path)}: {m.group(0)} in the first {SCAN_LIMIT >> 20} MiB") if m else None
    return scan_text(text, os.path.basename(path))


def interrupted_ok(path):
    """None when the interrupted run's output survived and says it stopped, else the problem."""
    if not os.path.exists(path):
        return "the interrupted run's output is missing"
    if os.path.getsize(path) == 0:
        return "the interrupted run's output is empty"
    if path.endswith(".safetensors"):
        r = scan_safetensors(path)
        return r[1] if r else None
    raw = Path(path).read_bytes()[:SCAN_LIMIT].decode("utf-8", "replace")
    if path.endswith(".json"):
        try:
            json.loads(raw)
        except ValueError:
            return "the interrupted run's JSON output is not valid JSON"
        return None
    if not re.search(r"stop|cancel|interrupt|signal", raw.split("\n", 2)[-1][-4000:], re.I):
        return "the interrupted run's CSV is not marked as stopped"
    return None


def litter(dirs):
    found = []
    for top in dirs:
        for root, ds, files in os.walk(top):
            for n in files + ds:
                if n.startswith(".") and ".partial" in n:
                    found.append(os.path.relpath(os.path.join(root, n), top))
    return found


def error_line(stderr):
    lines = [l for l in stderr.splitlines() if l.strip()]
    for l in lines:
        if re.match(r"\s*(error|Error|fatal|Fatal|warning)", l) or CRASH_TEXT.search(l):
            return l.strip()
    return lines[0].strip() if lines else ""


def classify(case, rc, timed_out, sent, elapsed, exit_after_signal, stdout_path, stderr, d, fx, outputs):
    notes = []
    flags = []
    sigs = {s for s, _ in sent}
    if case.signals and not sent:
        notes.append("finished before any signal was sent")
    # crash
    if not timed_out:
        if rc < 0 and -rc not in sigs:
            flags.append("crash")
            notes.append(f"killed by {signal.Signals(-rc).name}")
        elif rc >= 128 and not sigs:
            flags.append("crash")
            notes.append(f"exit {rc}")
        if CRASH_TEXT.search(stderr):
            flags.append("crash")
            notes.append("trap text on stderr")
        if "crash" in flags and re.search(r"alloc|memory|mmap", stderr, re.I):
            notes.append("allocation failure: compare with the RLIMIT_AS cap")
    # hang
    if timed_out:
        flags.append("hang")
        notes.append("timed out" + (" after signals" if sent else ""))
    elif sent and exit_after_signal is not None and exit_after_signal > case.honour:
        flags.append("hang")
        notes.append(f"took {exit_after_signal:.1f} s to honour the signal (allowed {case.honour:g} s)")
    # nan and lost (output checks)
    stdout_text = ""
    if stdout_path and os.path.exists(stdout_path):
        with open(stdout_path, "rb") as f:
            stdout_raw = f.read(SCAN_LIMIT)
        stdout_text = stdout_raw.decode("utf-8", "replace")
    if rc == 0 and not timed_out:
        if stdout_path:
            r = (scan_text(stdout_text, "stdout") or zero_forecast(stdout_text, "stdout")) if stdout_text.strip() \
                else None
            if r:
                flags.append(r[0])
                notes.append(r[1])
            if case.expect_stdout and not stdout_text.strip() and not case.outputs and not any(
                    a in ("-o", "--output", "--out") or a.startswith(("-o=", "--output=")) for a in case.argv):
                flags.append("lost")
                notes.append("exit 0 with empty standard output")
        for out in outputs:
            if not os.path.exists(out):
                flags.append("lost")
                notes.append(f"exit 0 but {os.path.basename(out)} is missing")
            elif os.path.isfile(out) and os.path.getsize(out) == 0:
                flags.append("lost")
                notes.append(f"exit 0 but {os.path.basename(out)} is empty")
            else:
                r = scan_output(out)
                if r:
                    flags.append(r[0])
                    notes.append(r[1])
        if re.search(r"^# coefficients: 0$", stdout_text, re.M):
            flags.append("lost")
            notes.append("C(t) printed from 0 coefficients")
        if case.stdout_to == "/dev/full" or "/dev/full" in case.argv or any(
                isinstance(f, Node) for f in case.files.values()):
            flags.append("lost")
            notes.append("exit 0 while writing to a full device")
    elif rc != 0 and not timed_out:
        for out in outputs:
            if os.path.isfile(out) and os.path.getsize(out) > 0 and out.endswith((".csv", ".json")):
                r = scan_output(out)
                if r and r[0] == "nan":
                    notes.append("(exit non-zero) " + r[1])
    if case.interrupted and sent and not timed_out:
        problem = interrupted_ok(case.interrupted.replace("{d}", d))
        if problem:
            flags.append("nan" if "nan" in problem else "lost")
            notes.append(problem)
    if case.device_kept:
        p = case.device_kept.replace("{d}", d)
        if not os.path.exists(p) or not stat.S_ISCHR(os.lstat(p).st_mode):
            flags.append("lost")
            notes.append("the device node was replaced by a regular file (as root, the same command with "
                         "/dev/full would replace /dev/full)")
    # litter
    left = litter([d, fx]) + [os.path.join("..", n) for n in os.listdir(os.path.dirname(d))
                              if n.startswith(".") and ".partial" in n]
    if left:
        flags.append("litter")
        notes.append("left " + ", ".join(left[:3]))
    # refused
    if case.must_succeed and rc != 0 and not timed_out:
        flags.append("refused")
        notes.append("a valid input was refused")
    # unclear
    signalled = bool(sigs) and (rc >= 128 or -rc in sigs)
    if rc != 0 and not timed_out and "crash" not in flags and not signalled:
        if not stderr.strip():
            flags.append("unclear")
            notes.append("non-zero exit with nothing on standard error")
        elif BOILERPLATE.search(stderr):
            flags.append("unclear")
            notes.append("Foundation/Swift boilerplate: " + BOILERPLATE.search(stderr).group(0))
        elif case.reason and not re.search(case.reason, stderr, re.I) and not sent:
            flags.append("unclear")
            notes.append(f"message does not say /{case.reason}/")
    if rc != 0 and re.search(r"cannot write standard output", stderr) and any(
            a in ("-o", "--output", "--out", "--lags-out") for a in case.argv):
        flags.append("unclear")
        notes.append("the message names standard output, not the file given")
    if "\x1b" in stderr:
        flags.append("unclear")
        notes.append("escape sequence copied to standard error")
    if "\x1b" in stdout_text and case.argv[:1] in (["render"], ["models"], ["evaluate"], ["interpret"],
                                                   ["bench-explorer"], ["ablate"]):
        flags.append("unclear")
        notes.append("escape sequence in the text printed for the terminal")
    if case.must_fail and rc == 0 and not timed_out and "lost" not in flags:
        flags.append("unclear")
        notes.append("exit 0 on input that must be refused")
    cls = next((c for c in CLASSES if c in flags), "ok")
    return cls, notes


def run_case(case, binary, root, fx, timeout, as_limit):
    d = tempfile.mkdtemp(prefix=re.sub(r"[^A-Za-z0-9._=-]", "_", case.name)[:80] + ".", dir=root)
    as_user = case.as_user if os.geteuid() == 0 else None  # a normal user is already subject to permissions
    os.chmod(d, 0o777 if as_user else 0o755)
    materialize(d, fx, case.files)
    if case.setup:
        case.setup(d)
    if as_user:
        for r, ds, fs in os.walk(d):
            for n in ds + fs:
                p = os.path.join(r, n)
                if not os.path.islink(p) and not (n == "ro"):
                    os.chown(p, as_user, as_user)

    def sub(s):
        return s.replace("{d}", d).replace("{fx}", fx)

    argv = ["nice", "-n", "19", binary] + [sub(a) for a in case.argv]
    env = dict(os.environ)
    env.update({"TMPDIR": d, "HOME": d, "XDG_CONFIG_HOME": os.path.join(d, ".config")})
    env.pop("KRYLOV_THEMES", None)
    for k, v in case.env.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = sub(v)
    stdout_path = None if case.stdout_to else os.path.join(root, os.path.basename(d) + ".stdout")
    stderr_path = os.path.join(root, os.path.basename(d) + ".stderr")

    def limits():
        resource.setrlimit(resource.RLIMIT_AS, (as_limit, as_limit))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
        resource.setrlimit(resource.RLIMIT_FSIZE, (8 * GIB, 8 * GIB))
        if as_user:
            os.setgroups([])
            os.setgid(as_user)
            os.setuid(as_user)

    limit = case.timeout or timeout
    with open(case.stdout_to or stdout_path, "wb") as out, open(stderr_path, "wb") as err:
        t0 = time.monotonic()
        try:
            p = subprocess.Popen(argv, cwd=d, env=env, stdin=subprocess.PIPE if case.stdin else subprocess.DEVNULL,
                                 stdout=out, stderr=err, preexec_fn=limits, start_new_session=True)
        except OSError as e:
            return ({"name": case.name, "class": "ok", "exit": None, "seconds": 0.0, "command": case.argv[:8],
                     "notes": [f"not run: {e}"], "stderr": "", "stdout_head": "", "signals": [], "dir": d},
                    d, stdout_path, stderr_path)
        if case.stdin:
            def feed():
                try:
                    p.stdin.write(case.stdin)
                    p.stdin.close()
                except OSError:
                    pass
            threading.Thread(target=feed, daemon=True).start()
        sent = []
        for delay, sig in case.signals:
            try:
                p.wait(timeout=max(0.0, t0 + delay - time.monotonic()))
                break
            except subprocess.TimeoutExpired:
                os.kill(p.pid, sig)
                sent.append((sig, time.monotonic() - t0))
        timed_out = False
        try:
            rc = p.wait(timeout=max(0.1, t0 + limit - time.monotonic()))
        except subprocess.TimeoutExpired:
            timed_out = True
            try:
                os.killpg(p.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            rc = p.wait()
        elapsed = time.monotonic() - t0
    exit_after_signal = (elapsed - sent[-1][1]) if sent else None
    stderr = Path(stderr_path).read_bytes()[:1 << 20].decode("utf-8", "replace")
    outputs = [sub(o) for o in case.outputs]
    cls, notes = classify(case, rc, timed_out, sent, elapsed, exit_after_signal, stdout_path, stderr, d, fx,
                          outputs)
    stdout_head = ""
    if stdout_path:
        with open(stdout_path, "rb") as f:
            stdout_head = f.read(600).decode("utf-8", "replace")
    result = {
        "name": case.name, "class": cls, "exit": None if timed_out else rc, "seconds": round(elapsed, 2),
        "command": ["krylov"] + [a if len(a) < 300 else a[:300] + "…" for a in (sub(x) for x in case.argv)],
        "notes": notes, "stderr": stderr[:3000], "stdout_head": stdout_head,
        "signals": [[signal.Signals(s).name, round(t, 2)] for s, t in sent], "dir": d,
    }
    return result, d, stdout_path, stderr_path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 epilog="See the module docstring (pydoc) for the classes.",
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("binary", help="the krylov binary (copy it first: another build may replace it)")
    ap.add_argument("--filter", default="", help="run only cases whose name contains SUBSTR")
    ap.add_argument("--timeout", type=float, default=60.0, help="wall-clock seconds per case (default 60)")
    ap.add_argument("--json", metavar="OUT", help="write every result to this JSON file")
    ap.add_argument("--as-limit", type=float, default=8.0, metavar="GIB",
                    help="address-space cap per case in GiB (default 8)")
    ap.add_argument("--keep", action="store_true", help="keep the case directories (printed at the end)")
    ap.add_argument("--list", action="store_true", help="list the case names and exit")
    args = ap.parse_args()

    binary = os.path.abspath(args.binary)
    if not os.access(binary, os.X_OK):
        sys.exit(f"{binary}: not an executable")
    repo = Path(__file__).resolve().parents[2]
    root = tempfile.mkdtemp(prefix="krylov-sweep.")
    os.chmod(root, 0o755)
    fx = os.path.join(root, "fixtures")
    t_start = time.monotonic()
    build_fixtures(binary, fx, repo)
    cases = [c for c in all_cases(fx) if args.filter in c.name]
    if args.list:
        for c in cases:
            print(c.name)
        shutil.rmtree(root, ignore_errors=True)
        return 0
    before = tree_digest(fx)
    print(f"{len(cases)} cases against {binary}; fixtures in {fx}", file=sys.stderr)
    print(f"{'case':<58} {'class':<8} {'exit':>5} {'sec':>6}  stderr")
    results = []
    for case in cases:
        r, d, so, se = run_case(case, binary, root, fx, args.timeout, int(args.as_limit * GIB))
        results.append(r)
        line = error_line(r["stderr"]).replace("\x1b", "\\e")
        print(f"{case.name[:58]:<58} {r['class']:<8} {str(r['exit']):>5} {r['seconds']:>6.1f}  {line[:110]}",
              flush=True)
        if r["class"] != "ok" and r["notes"]:
            print(f"{'':<58} ↳ {'; '.join(r['notes'])[:160]}", flush=True)
        for n in os.listdir(root):
            if n.startswith(".") and ".partial" in n:
                os.unlink(os.path.join(root, n))
        if not args.keep:
            shutil.rmtree(d, ignore_errors=True)
            for f in (so, se):
                if f and os.path.exists(f):
                    os.unlink(f)
        if tree_digest(fx) != before:
            print(f"warning: {case.name} changed the fixtures", file=sys.stderr)
            before = tree_digest(fx)
    counts = {c: sum(r["class"] == c for r in results) for c in CLASSES}
    total = time.monotonic() - t_start
    print(f"\n{len(results)} cases in {total:.0f} s: " + ", ".join(f"{c} {n}" for c, n in counts.items() if n))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"binary": binary, "cases": len(results), "counts": counts, "seconds": round(total, 1),
                       "timeout": args.timeout, "as_limit_gib": args.as_limit, "results": results}, f, indent=1)
    if args.keep:
        print(f"case directories kept in {root}", file=sys.stderr)
    else:
        shutil.rmtree(root, ignore_errors=True)
    return 1 if any(counts[c] for c in FAILING) else 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/env python3
"""Plain numpy/scipy baseline for the Swift Krylov engine (`krylov bench`).

This is the implementation a physicist would write with numpy: exact Lanczos
recursion of the operator sz_total = sum_i Z_i / sqrt(N) under the Liouvillian
L = i[H, .] of the mixed-field Ising chain (mfim, periodic):

    H = sum_i J Z_i Z_{i+1} + g X_i + h Z_i,   J = 1, g = -1.05, h = 0.5,

in the Pauli-string basis reduced by the dihedral symmetry of the ring
(translations and reflections) and split into two blocks by Y parity, with
full reorthogonalization (classical Gram-Schmidt, twice) at every step.
Conventions are those of the engine, so the b_n agree with
`krylov lanczos --n N --steps S --format json` to about 1e-12.

It is a speed baseline only and is kept out of CI (run it by hand, or through
`make bench`):

    python3 scripts/benchmarks/numpy_lanczos.py --sizes 8 10 11 --steps 200 [--out FILE.json]

One CSV line per size goes to stdout. setup_s is sector + matrix construction,
run_s the recursion only; peak_rss_MiB is the process peak so far
(getrusage), so with several sizes in one run it is cumulative.
"""
import argparse
import json
import resource
import time

import numpy as np
import scipy.sparse as sp

J, G, HZ = 1.0, -1.05, 0.5
popcount = np.bitwise_count


def site_permutations(n):
    """The 2N site maps of the dihedral group: translations, and reflection then translation."""
    for t in range(n):
        yield [(i + t) % n for i in range(n)]
        yield [(n - 1 - i + t) % n for i in range(n)]


def sector(n):
    """Orbit representative and orbit size of every key (z << N) | x, by vectorized canonicalization."""
    masks = np.arange(1 << n, dtype=np.int64)
    keys = np.arange(1 << 2 * n, dtype=np.int64)
    x, z = keys & ((1 << n) - 1), keys >> n
    rep, stab = keys.copy(), np.zeros(keys.size, dtype=np.int64)
    for perm in site_permutations(n):
        table = np.zeros_like(masks)  # permuted image of every N-bit mask
        for i, j in enumerate(perm):
            table |= ((masks >> i) & 1) << j
        image = (table[z] << n) | table[x]
        np.minimum(rep, image, out=rep)
        stab += image == keys
    size = 2 * n // stab  # orbit-stabilizer
    return rep, size


def hamiltonian(n):
    """H as a list of Pauli strings (x mask, z mask, coefficient)."""
    terms = []
    for i in range(n):
        terms += [(0, (1 << i) | (1 << (i + 1) % n), J), (1 << i, 0, G), (0, 1 << i, HZ)]
    return terms


def liouvillian(n):
    """Orbit bases of the two Y-parity blocks and the sparse blocks L[even->odd], L[odd->even]."""
    rep, size = sector(n)
    keys = np.arange(rep.size, dtype=np.int64)
    reps = keys[(rep == keys) & (keys != 0)]
    parity = popcount((reps & ((1 << n) - 1)) & (reps >> n)) & 1
    basis = [reps[parity == 0], reps[parity == 1]]
    index = np.full(rep.size, -1, dtype=np.int64)
    for b in basis:
        index[b] = np.arange(b.size)
    blocks = []
    for src, dst in ((0, 1), (1, 0)):
        s = basis[src]
        xs, zs = s & ((1 << n) - 1), s >> n
        rows, cols, vals = [], [], []
        for xh, zh, c in hamiltonian(n):
            anti = (popcount((xs & zh) ^ (zs & xh)) & 1).astype(bool)
            xp, zp = xs[anti], zs[anti]
            xq, zq = xp ^ xh, zp ^ zh
            e = (popcount(xh & zh) + popcount(xp & zp).astype(np.int64)
                 - popcount(xq & zq).astype(np.int64) + 2 * popcount(zh & xp).astype(np.int64)) % 4
            sign = np.where(e == 3, 1.0, -1.0)
            r = rep[(zq << n) | xq]
            rows.append(index[r])
            cols.append(np.flatnonzero(anti))
            vals.append(2 * c * sign * np.sqrt(size[s[anti]] / size[r]))
        rows, cols, vals = map(np.concatenate, (rows, cols, vals))
        assert (rows >= 0).all() and (popcount((basis[dst] & ((1 << n) - 1)) & (basis[dst] >> n)) & 1 == dst).all()
        blocks.append(sp.csr_matrix((vals, (rows, cols)), shape=(basis[dst].size, s.size)))  # duplicates summed
    return basis, blocks, index[rep[1 << n]]  # index of the orbit of Z_0 in the even block


def lanczos(basis, blocks, start, steps):
    """b_1..b_steps; Krylov vectors stored as columns, O_n in block n % 2."""
    cols = steps // 2 + 2
    V = [np.zeros((b.size, cols), order="F") for b in basis]
    count = [0, 0]
    V[0][start, 0] = 1.0  # sz_total: orbit coefficient sqrt(N) * (1/sqrt(N)), already normalized
    count[0] = 1
    bs, prev, cur = [], np.zeros(basis[1].size), V[0][:, 0]
    for n in range(1, steps + 1):
        p = n % 2
        A = blocks[1 - p] @ cur
        if bs:
            A -= bs[-1] * prev
        W = V[p][:, :count[p]]
        for _ in range(2):
            A -= W @ (W.T @ A)
        b = np.linalg.norm(A)
        if bs and b < 1e-10 * max(bs):
            break
        bs.append(b)
        V[p][:, count[p]] = A / b
        prev, cur = cur, V[p][:, count[p]]
        count[p] += 1
    return bs


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[8, 10, 11])
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--out", help="write the b_n of every size to this JSON file")
    args = ap.parse_args()
    print("impl,n,steps,computed,setup_s,run_s,coeff_per_s,peak_rss_MiB", flush=True)
    runs = []
    for n in args.sizes:
        t0 = time.perf_counter()
        basis, blocks, start = liouvillian(n)
        t1 = time.perf_counter()
        bs = lanczos(basis, blocks, start, args.steps)
        t2 = time.perf_counter()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
        print(f"numpy,{n},{args.steps},{len(bs)},{t1 - t0:.3f},{t2 - t1:.3f},{len(bs) / (t2 - t1):.1f},{rss:.1f}", flush=True)
        runs.append({"n": n, "steps": args.steps, "computed": len(bs), "dimensions": [b.size for b in basis],
                     "setup_s": t1 - t0, "run_s": t2 - t1, "peak_rss_MiB": rss, "b": bs})
    if args.out:
        with open(args.out, "w") as f:
            json.dump({"runs": runs}, f, indent=1)


if __name__ == "__main__":
    main()

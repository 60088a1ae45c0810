#!/usr/bin/env python3
"""Plain numpy baseline for `krylov simulate` (classical molecular dynamics).

The implementation a physicist would write with numpy: classical unit spins on a
ring of N sites under the mixed-field Ising Hamiltonian (mfim, periodic),

    H = sum_j J Sz_j Sz_{j+1} + g Sx_j + h Sz_j,   J = 1, g = -1.05, h = 0.5,

equations of motion dS_j/dt = F_j x S_j with F_j = dH/dS_j = (g, 0, h + J (Sz_{j-1} + Sz_{j+1})),
integrated by classical RK4 with 10 substeps per output step (no renormalization),
vectorized over samples. Initial spins are independent and uniform on the sphere.
C(t) = mean(O(t) O(0)) / mean(O(0)^2) for O = sum_j Sz_j / sqrt(N), with the
delta-method standard error of that ratio (the same estimator as the Swift code).

It is a speed and cross-check baseline only, run by hand:

    python3 scripts/benchmarks/numpy_md.py --samples 10000 [--n 16 --tmax 3 --dt 0.05]
        [--compare krylov.csv]

Prints 't,C,stderr' rows every 0.5 in t, then the timing line
'impl,n,samples,steps,substeps,run_s,samples_per_s'. With --compare, also the largest
|C_numpy - C_krylov| over the grid in units of the combined standard error.
"""
import argparse
import time

import numpy as np

J, G, HZ = 1.0, -1.05, 0.5


def rates(x, y, z):
    fz = HZ + J * (np.roll(z, 1, axis=1) + np.roll(z, -1, axis=1))
    # F x S with F = (G, 0, fz)
    return -fz * y, fz * x - G * z, G * y


def run(samples, n, tmax, dt, substeps, seed, batch):
    steps = int(round(tmax / dt))
    h = dt / substeps
    rng = np.random.default_rng(seed)
    sx = np.zeros(steps + 1)
    sxx = np.zeros(steps + 1)
    sxy = np.zeros(steps + 1)
    sy = syy = 0.0
    done = 0
    while done < samples:
        m = min(batch, samples - done)
        z = rng.uniform(-1, 1, (m, n))
        phi = rng.uniform(0, 2 * np.pi, (m, n))
        r = np.sqrt(1 - z * z)
        x, y = r * np.cos(phi), r * np.sin(phi)
        o0 = z.sum(axis=1) / np.sqrt(n)
        yv = o0 * o0
        sy += yv.sum()
        syy += (yv * yv).sum()
        for k in range(steps + 1):
            if k > 0:
                for _ in range(substeps):
                    k1 = rates(x, y, z)
                    k2 = rates(x + h / 2 * k1[0], y + h / 2 * k1[1], z + h / 2 * k1[2])
                    k3 = rates(x + h / 2 * k2[0], y + h / 2 * k2[1], z + h / 2 * k2[2])
                    k4 = rates(x + h * k3[0], y + h * k3[1], z + h * k3[2])
                    x = x + h / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0])
                    y = y + h / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1])
                    z = z + h / 6 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2])
            xv = z.sum(axis=1) / np.sqrt(n) * o0
            sx[k] += xv.sum()
            sxx[k] += (xv * xv).sum()
            sxy[k] += (xv * yv).sum()
        done += m
    c = sx / sy
    resid = np.maximum(0, sxx - 2 * c * sxy + c * c * syy)
    stderr = np.sqrt(resid / (done - 1) / done) / (sy / done)
    return np.arange(steps + 1) * dt, c, stderr


def read_krylov_csv(path):
    rows = [line.split(",") for line in open(path) if line[:1].isdigit()]
    return np.array([[float(v) for v in row] for row in rows])


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--samples", type=int, default=10000)
    p.add_argument("--n", type=int, default=16)
    p.add_argument("--tmax", type=float, default=3.0)
    p.add_argument("--dt", type=float, default=0.05)
    p.add_argument("--substeps", type=int, default=10)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--batch", type=int, default=10000, help="samples integrated together (memory)")
    p.add_argument("--compare", help="a CSV written by 'krylov simulate' on the same grid")
    a = p.parse_args()

    start = time.perf_counter()
    t, c, err = run(a.samples, a.n, a.tmax, a.dt, a.substeps, a.seed, a.batch)
    seconds = time.perf_counter() - start
    every = max(1, int(round(0.5 / a.dt)))
    print("t,C,stderr")
    for k in range(0, len(t), every):
        print(f"{t[k]:.4g},{c[k]:.6f},{err[k]:.6f}")
    print("impl,n,samples,steps,substeps,run_s,samples_per_s")
    print(f"numpy_rk4,{a.n},{a.samples},{len(t) - 1},{a.substeps},{seconds:.3f},{a.samples / seconds:.1f}")
    if a.compare:
        other = read_krylov_csv(a.compare)
        if len(other) != len(t) or np.max(np.abs(other[:, 0] - t)) > 1e-9:
            raise SystemExit("--compare: the grids differ")
        combined = np.sqrt(err**2 + other[:, 2] ** 2)
        z = np.abs(c - other[:, 1])[1:] / combined[1:]
        print(f"compare: max |C_numpy - C_krylov| = {np.max(np.abs(c - other[:, 1])):.2e}, "
              f"max in combined standard errors = {np.max(z):.2f}, mean = {np.mean(z):.2f}")


if __name__ == "__main__":
    main()

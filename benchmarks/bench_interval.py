"""Interval matrix product: certify.arith.interval vs python-flint arb_mat vs mpmath iv vs plain float numpy.

Run as ``python benchmarks/bench_interval.py``.  All figures are measured in the same run; the
ratios are against plain float numpy (``A @ B`` on the midpoints), the non-rigorous baseline.
Also reports the width ratio ours / Arb (Arb at 53 bits, the same working precision).

BLAS is pinned to one thread (set before numpy is imported): on a 2-core machine shared with other
processes OpenBLAS's threads can turn a 64x128x64 product from 0.03 ms into several ms.
"""

from __future__ import annotations

import os

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")

import time  # noqa: E402

import flint  # noqa: E402
import mpmath  # noqa: E402
import numpy as np  # noqa: E402

from certify.arith.interval import Interval  # noqa: E402


def best_time(fn, repeat: int = 5, number: int = 1) -> float:
    """Best wall time of ``number`` calls, over ``repeat`` rounds (seconds per call)."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for _ in range(number):
            fn()
        best = min(best, (time.perf_counter() - t0) / number)
    return best


def make(n: int, rng, batch: int | None = None, rel: float = 1e-6):
    shape = (n, n) if batch is None else (batch, n, n)
    mid = rng.standard_normal(shape)
    return Interval.from_midrad(mid, rel * np.abs(mid) + rel)


def to_arb_mat(x: Interval) -> flint.arb_mat:
    m, r = x.midrad()
    return flint.arb_mat([[flint.arb(float(a), float(b)) for a, b in zip(mr, rr)] for mr, rr in zip(m, r)])


def to_mpmath_iv(x: Interval):
    return mpmath.iv.matrix([[mpmath.iv.mpf([float(a), float(b)]) for a, b in zip(lr, hr)]
                             for lr, hr in zip(x.lo, x.hi)])


def arb_widths(c: flint.arb_mat) -> np.ndarray:
    return np.array([[2 * float(c[i, j].rad()) for j in range(c.ncols())] for i in range(c.nrows())])


def row(name, t, base, note=""):
    print(f"  {name:34s} {t * 1e3:10.4f} ms   {t / base:9.1f}x   {note}")


def main():
    rng = np.random.default_rng(0)
    flint.ctx.prec = 53
    mpmath.iv.prec = 53
    print("Interval matrix products (best of 5; ratio = time / float numpy on the midpoints)")

    for n in (16, 64):
        a, b = make(n, rng), make(n, rng)
        am, bm = a.mid, b.mid
        base = best_time(lambda: am @ bm, number=200)
        print(f"\n{n}x{n} @ {n}x{n}")
        row("float numpy (not rigorous)", base, base)
        ours = best_time(lambda: a @ b, number=50)
        row("certify.arith.interval, interval@interval", ours, base)
        row("certify.arith.interval, point@interval", best_time(lambda: am @ b, number=50), base)
        aa, ab = to_arb_mat(a), to_arb_mat(b)
        t_arb = best_time(lambda: aa * ab, number=5)
        row("python-flint arb_mat (53 bits)", t_arb, base, f"arb / ours = {t_arb / ours:.1f}")
        if n == 16:
            ia, ib = to_mpmath_iv(a), to_mpmath_iv(b)
            t_mp = best_time(lambda: ia * ib, repeat=2)
            row("mpmath iv", t_mp, base, f"ours is {t_mp / ours:.0f}x faster")
            mp16 = t_mp
        else:
            # mpmath's cost is n^3 scalar operations: extrapolate from the 16x16 measurement
            t_ext = mp16 * (n / 16) ** 3
            row("mpmath iv (EXTRAPOLATED n^3 from 16)", t_ext, base, f"ours is ~{t_ext / ours:.0f}x faster")
        w = (a @ b).width / arb_widths(aa * ab)
        print(f"  width ours / Arb: median {np.median(w):.4f}, max {w.max():.4f}, min {w.min():.4f}")

    batch = 100
    a, b = make(64, rng, batch=batch), make(64, rng)
    am, bm = a.mid, b.mid
    print(f"\nbatched {batch}x64x64 @ 64x64")
    base = best_time(lambda: am @ bm, number=3)
    row("float numpy (not rigorous)", base, base)
    ours = best_time(lambda: a @ b, number=3)
    row("certify.arith.interval", ours, base)
    aa = [to_arb_mat(a[i]) for i in range(batch)]
    ab = to_arb_mat(b)
    t_arb = best_time(lambda: [x * ab for x in aa], repeat=2)
    row("python-flint arb_mat (loop of 100)", t_arb, base, f"arb / ours = {t_arb / ours:.1f}")
    t_ext = mp16 * (64 / 16) ** 3 * batch
    row("mpmath iv (EXTRAPOLATED)", t_ext, base, f"ours is ~{t_ext / ours:.0f}x faster")


if __name__ == "__main__":
    main()

"""Benchmark: ``universal_law.evaluate`` on 1e6 points vs a bare NumPy formula.

Run ``python benchmarks/bench_bounds.py``. Prints the best-of-5 times and the ratio
(target <= 2). The bare implementation is written here, independently of the record, and
does what ``evaluate`` must do at minimum: both hypotheses and the bound, NaN outside.
"""

import time

import numpy as np

import bounds

N_POINTS = 1_000_000
REPEATS = 5


def bare_universal_law(n, d, p, eps, delta, W, J, c=1.0, K=1.0):
    """Theorem 3 [BS21] in plain NumPy (no validation)."""
    ok = (4096 * K * np.log(8 * K / delta) <= n * eps ** 2) & (eps <= 60 * W * J)
    v = eps / (512 * np.sqrt(c)) * np.sqrt(n * d / (p * np.log(60 * W * J / eps)
                                                    + np.log(4 / delta)))
    return np.where(ok, v, np.nan)


def grid(seed=0):
    rng = np.random.default_rng(seed)
    return dict(n=np.round(10 ** rng.uniform(3, 12, N_POINTS)),
                d=np.round(10 ** rng.uniform(0, 4, N_POINTS)),
                p=np.round(10 ** rng.uniform(0, 15, N_POINTS)),
                eps=10 ** rng.uniform(-6, -0.01, N_POINTS),
                delta=10 ** rng.uniform(-6, -0.01, N_POINTS),
                W=10 ** rng.uniform(0, 3, N_POINTS), J=10 ** rng.uniform(0, 3, N_POINTS))


def best_time(fn, **kw):
    times = []
    for _ in range(REPEATS):
        t0 = time.perf_counter()
        out = fn(**kw)
        times.append(time.perf_counter() - t0)
    return min(times), out


def main():
    g = grid()
    law = bounds.get("universal_law")
    law.evaluate(**{k: v[:10] for k, v in g.items()})          # compile the lambdas once
    t_law, out = best_time(law.evaluate, **g)
    t_bare, ref = best_time(bare_universal_law, **g)
    same = np.array_equal(np.isnan(ref), out.mask)
    err = np.nanmax(np.abs(out.filled(np.nan) - ref) / ref)
    print(f"points: {N_POINTS:.0e}, inside hypotheses: {out.count()}")
    print(f"universal_law.evaluate: {t_law * 1e3:8.1f} ms (validation, hypotheses, mask)")
    print(f"bare NumPy formula:     {t_bare * 1e3:8.1f} ms")
    print(f"ratio evaluate / bare:  {t_law / t_bare:8.2f}  (target <= 2)")
    print(f"same mask: {same}; max relative difference: {err:.1e}")


if __name__ == "__main__":
    main()

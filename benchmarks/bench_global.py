"""Global l2 bounds at width (#10): naive, sdp, exact, auto side by side; deep nets vs eclipse-nn.

Run: ``python benchmarks/bench_global.py [--limit 60] [--widths 16,64,256,1024] [--deep]``

Part 1 regenerates the issue's table: random two-layer ReLU nets, d = 32, N(0, 1/fan_in) weights,
global l2, every method with the same time limit; relative gap ``(upper - lower) / upper`` per
method.  Part 2 (``--deep``) runs the compositional bound on deep MLPs (8-16-16-1 ... 784-256-256-10)
and, when the optional ``eclipse-nn`` package is installed (``pip install eclipse-nn``), its
ECLipsE-Fast / -Acc estimates on the same weights (uncertified) with the ratio ours / theirs and
the time ratio.  Nothing is hard-coded: every figure is measured in this run.
"""

from __future__ import annotations

import argparse
import sys
import time

import numpy as np

from certify import Network, lipschitz


def two_layer(d, k, seed=0):
    rng = np.random.default_rng(seed)
    W = rng.standard_normal((k, d)) / np.sqrt(d)
    A = rng.standard_normal((1, k)) / np.sqrt(k)
    return Network.from_arrays([W, A], [0.1 * rng.standard_normal(k), np.zeros(1)], "relu")


def deep(sizes, seed=0):
    rng = np.random.default_rng(seed)
    ws = [rng.standard_normal((sizes[i + 1], sizes[i])) / np.sqrt(sizes[i]) for i in range(len(sizes) - 1)]
    return Network.from_arrays(ws, [0.1 * rng.standard_normal(s) for s in sizes[1:]], "relu")


def run(net, method, limit, **kw):
    t0 = time.perf_counter()
    try:
        c = lipschitz(net, 2, method=method, time_limit=limit, **kw)
    except Exception as exc:  # a failing method is a table entry, not a crash
        return f"{type(exc).__name__}", time.perf_counter() - t0, None
    return c, time.perf_counter() - t0, None


def fmt(c, t):
    if isinstance(c, str):
        return f"{c} ({t:.1f} s)"
    return f"[{c.lower:.4f}, {c.upper:.4f}] gap {100 * c.gap:.1f}% {t:.1f} s"


def vertex_floor(net, seed=0):
    """A realised slope vertex value ``||A diag(s) W||_2`` (power-type iteration, all ``2^k`` patterns
    allowed): a lower estimate of the vertex maximum, below which no method that treats the
    slopes independently (naive, LipSDP, sector_bab) can certify."""
    from certify.methods.pattern_search import _pieces, _vertex_pattern

    W, A = net.weights
    _, slopes = _pieces(net.activations[0])
    rng = np.random.default_rng(seed)
    return max(float(np.linalg.norm((A * slopes[_vertex_pattern(W, A, slopes, rng)][None, :]) @ W, 2))
               for _ in range(20))


def part1(widths, limit, methods=("naive", "sdp", "exact", "sector_bab", "auto")):
    print(f"# two-layer ReLU, d = 32, global l2, time limit {limit:g} s", flush=True)
    print("| k | " + " | ".join(methods) + " | auto ends from | vertex floor (>=) |")
    print("|---|" + "---|" * (len(methods) + 2))
    for k in widths:
        net = two_layer(32, k)
        row = [str(k)]
        for m in methods:
            c, t, _ = run(net, m, limit)
            row.append(fmt(c, t))
        src = "" if isinstance(c, str) else f"upper {c.details['upper_method']}, lower {c.details['lower_method']}"
        print("| " + " | ".join(row + [src, f"{vertex_floor(net):.4f}"]) + " |", flush=True)


def _eclipse(net):
    try:
        import eclipse_nn  # noqa: F401  optional benchmark dependency
    except ImportError:
        return None
    import torch
    from eclipse_nn.LipConstEstimator import LipConstEstimator  # API of eclipse-nn 0.x
    out = {}
    for alg in ("ECLipsE_Fast", "ECLipsE"):
        est = LipConstEstimator(weights=[torch.tensor(w) for w in net.weights])
        t0 = time.perf_counter()
        val = float(est.estimate(method=alg))
        out[alg] = (val, time.perf_counter() - t0)
    return out


def part2(limit):
    print(f"\n# deep ReLU MLPs, global l2: compositional (checked) vs eclipse-nn (uncertified)", flush=True)
    print("| net | naive | compositional scalar | compositional diagonal | ECLipsE-Fast | ECLipsE-Acc | ratio ours/theirs (time) |")
    print("|---|---|---|---|---|---|---|")
    for sizes in ([8, 16, 16, 1], [32, 64, 64, 1], [784, 256, 256, 10]):
        net = deep(sizes)
        cells = []
        res = {}
        for m, kw in (("naive", {}), ("compositional", {"multipliers": "scalar"}),
                      ("compositional", {"multipliers": "diagonal"})):
            c, t, _ = run(net, m, limit, lower_options={"n_starts": 16, "n_ascents": 0}, **kw)
            res[kw.get("multipliers", m)] = (c, t)
            cells.append(fmt(c, t))
        ecl = _eclipse(net)
        if ecl is None:
            cells += ["not installed", "not installed", "-"]
        else:
            cells += [f"{ecl['ECLipsE_Fast'][0]:.4f} {ecl['ECLipsE_Fast'][1]:.1f} s",
                      f"{ecl['ECLipsE'][0]:.4f} {ecl['ECLipsE'][1]:.1f} s"]
            ours, t_ours = res["diagonal"]
            if isinstance(ours, str):
                cells.append("-")
            else:
                v, te = ecl["ECLipsE"]
                cells.append(f"{ours.upper / v:.3f} ({t_ours / te:.1f}x time)")
        print(f"| {'-'.join(map(str, sizes))} | " + " | ".join(cells) + " |", flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--limit", type=float, default=60.0)
    ap.add_argument("--widths", default="16,64,256,1024")
    ap.add_argument("--methods", default="naive,sdp,exact,sector_bab,auto",
                    help="part 1 columns (comma-separated method names)")
    ap.add_argument("--deep", action="store_true", help="also the deep nets (part 2)")
    ap.add_argument("--deep-only", action="store_true")
    a = ap.parse_args(argv)
    if not a.deep_only:
        part1([int(k) for k in a.widths.split(",")], a.limit, tuple(a.methods.split(",")))
    if a.deep or a.deep_only:
        part2(a.limit * 5)
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the exact Lipschitz method (certify.methods.exact) against LipBaB's figures.

Run as ``python benchmarks/bench_exact.py`` (one run, meant for a 2-core machine; ``--quick``
skips the scaling table).  Prints, for each case, the time, the node and LP counts, the enclosure,
and ratios against

* LipBaB's measured times (anchors.md; LipBaB itself is not installed here), and
* an in-run baseline: the same search with plain interval bounds (``enum_budget=1``,
  ``symbolic=False``), i.e. LipBaB's bounding scheme with this package's LPs and certificates.

The scaling table grows the box, the width and the depth until exact search stops being practical,
and reports the anytime enclosure reached within 60 s.
"""

from __future__ import annotations

import argparse
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from certify.methods.exact import exact_lipschitz  # noqa: E402
from certify.model.network import Network  # noqa: E402
from certify.report import LIPBAB_PUBLISHED  # noqa: E402  (anchors.md, box [0, 0.1]^10)

from certify.model.datasets import external_dir  # noqa: E402

DATA = external_dir("lipbab")  # not distributed: LAWROB_DATA, or ../shared next to a checkout
if DATA is None:
    print("bench_exact: skipped, the LipBaB networks are not available (set LAWROB_DATA)")
    sys.exit(0)

NORMS = {"l2": 2, "l1": 1, "linf": math.inf}


def _run(net, p, box, limit, **kw):
    t = time.perf_counter()
    c = exact_lipschitz(net, p, box, time_limit=limit, **kw)
    return c, time.perf_counter() - t


def _fmt(c, t):
    return (f"{t:7.2f} s  nodes {c.details['nodes']:6d}  LPs {c.details['lps']:6d}  "
            f"[{c.lower:.12g}, {c.upper:.12g}]  {c.status}")


def anchored_cases(limit):
    print("== LipBaB anchor cases (LipBaB time: anchors.md, measured on a 2-core machine) ==")
    cases = [
        ("sdnet_10_30_30_30_3", 0.1, 23.0, "23-32 s"),
        ("sdnet_10_15_10_3", 1.0, 28.0, "28-30 s"),
        ("sdnet_10_15_10_3", 10.0, 141.0, "141 s"),
    ]
    rows = []
    for name, hi, lipbab, lipbab_txt in cases:
        net = Network.from_npz(DATA / f"{name}.npz")
        box = (np.zeros(10), np.full(10, hi))
        for label, p in NORMS.items():
            c, t = _run(net, p, box, limit)
            base, tb = _run(net, p, box, limit, enum_budget=1, symbolic=False)
            extra = ""
            if hi == 0.1:
                ref = LIPBAB_PUBLISHED[name][p]
                extra = f"  published {ref!r}: rel. err {abs(c.lower - ref) / ref:.1e}"
            print(f"{name} [0,{hi:g}]^10 {label:4s}: {_fmt(c, t)}{extra}")
            print(f"    vs LipBaB ({lipbab_txt}): {lipbab / t:6.1f}x faster;  vs in-run interval-bound "
                  f"baseline ({tb:.2f} s, {base.details['nodes']} nodes, {base.status}): {tb / t:5.1f}x")
            rows.append((name, hi, label, t, c.exact))
    return rows


def _random_net(seed, d, widths, m=1):
    rng = np.random.default_rng(seed)
    dims = [d, *widths, m]
    ws = [rng.normal(size=(dims[i + 1], dims[i])) / math.sqrt(dims[i]) for i in range(len(dims) - 1)]
    bs = [0.5 * rng.normal(size=dims[i + 1]) for i in range(len(dims) - 1)]
    return Network.from_arrays(ws, bs, "relu")


def scaling(limit):
    print(f"\n== scaling (l2 and linf; time limit {limit:g} s: a timed-out run shows its anytime gap) ==")
    print(f"{'case':42s} {'norm':5s} {'time':>8s} {'nodes':>7s} {'gap (upper-lower)/upper':>24s}")
    cases = []
    for hi in (0.1, 1.0, 10.0):
        cases.append((f"sdnet_10_20_15_10_3 box [0,{hi:g}]^10",
                      Network.from_npz(DATA / "sdnet_10_20_15_10_3.npz"),
                      (np.zeros(10), np.full(10, hi)), ("l2", "linf")))
    for w in (10, 20, 40, 80):
        cases.append((f"random 10-{w}-{w}-1, box [-1,1]^10", _random_net(w, 10, (w, w)),
                      (np.full(10, -1.0), np.ones(10)), ("l2",)))
    for depth in (2, 3, 4, 6):
        cases.append((f"random 10-(16 x {depth})-1, box [-1,1]^10",
                      _random_net(depth, 10, (16,) * depth), (np.full(10, -1.0), np.ones(10)), ("l2",)))
    for k in (10, 20, 40):
        cases.append((f"random two-layer 10-{k}-1, global", _random_net(100 + k, 10, (k,)), None,
                      ("l2",)))
    for label, net, box, norms in cases:
        for norm in norms:
            c, t = _run(net, NORMS[norm], box, limit)
            print(f"{label:42s} {norm:5s} {t:8.2f} {c.details['nodes']:7d} {c.gap:24.2e}"
                  + ("" if c.exact else f"  ({c.status})"), flush=True)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="anchor cases only")
    ap.add_argument("--scaling-only", action="store_true", help="scaling table only")
    ap.add_argument("--limit", type=float, default=60.0, help="time limit per run (s)")
    args = ap.parse_args(argv)
    if not args.scaling_only:
        anchored_cases(max(args.limit, 120.0))
    if not args.quick:
        scaling(args.limit)


if __name__ == "__main__":
    main()

"""Benchmark of the exact method on the ExLipBaB networks (ReLU and GroupSort; l1 / l2 / linf; global and a box).

Run as ``python benchmarks/bench_exlipbab.py`` (``--quick``: iris networks only, 5 s per case;
``--long``: the two global l2 cases where ExLipBaB published only lower bounds, 600 s each).
The networks are the ones shipped in ``certify.datasets`` (MIT, with their README); without them
the benchmark says so and exits 0.

For every network, norm and domain (all of R^d, and the box ``[-1, 1]^d``: the inputs are
standardised UCI features, so this is one standard deviation around the mean) it prints the time,
the node count, the enclosure ``[lower, upper]``, its relative gap ``(upper - lower) / upper``, the
status, and as the in-run baseline the naive product bound (``naive / upper``: how much the
exact search tightens the bound that needs no search).  For the global l2 cases with a published
ExLipBaB value it says whether that value lies in our enclosure.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from certify.methods.exact import exact_lipschitz  # noqa: E402
from certify.methods.naive import naive_upper  # noqa: E402

NORMS = {"l1": 1, "l2": 2, "linf": math.inf}

#: ExLipBaB's global l2 results (README.md of the data directory: last entry of each bound history)
PUBLISHED = {
    "iris_4x6x6x3_relu": ("converged", 11.634355134114875),
    "wine_11x12x12x1_relu": ("converged", 1.7433699967107172),
    "wine_11x24x24x1_relu": ("lower bound after 12 h", 1.7368677094401315),
    "bike_13x20x16x8x3_relu": ("lower bound after 12 h", 10802.403812748018),
}
LONG_CASES = ("wine_11x24x24x1_relu", "bike_13x20x16x8x3_relu")


def networks() -> dict:
    """The shipped ExLipBaB networks (``certify.datasets``), or ``{}`` when they are unavailable."""
    try:
        from certify.model import datasets
        return {name: (lambda n=name: datasets.load(n)) for name in datasets.names()}
    except (ImportError, OSError, ValueError):
        return {}


class _CpuClock:
    """Stands in for the ``time`` module inside the exact search: its limit counts CPU seconds.

    On a shared machine a wall-clock limit measures the neighbours' load.  After ``wall_cap``
    wall-clock seconds the clock jumps ahead, so the search still stops then.
    """

    def __init__(self, wall_cap):
        self.end = time.monotonic() + wall_cap if wall_cap else math.inf

    def perf_counter(self):
        return time.process_time() + (0.0 if time.monotonic() < self.end else 1e18)


def run_case(net, name, label, p, box, limit, cpu=False, wall_cap=None):
    import certify.methods.exact as exact_module
    saved = exact_module.time
    if cpu:
        exact_module.time = _CpuClock(wall_cap)
    t, c0 = time.perf_counter(), time.process_time()
    try:
        c = exact_lipschitz(net, p, box, time_limit=limit)
    finally:
        exact_module.time = saved
    t, cpu_t = time.perf_counter() - t, time.process_time() - c0
    naive = naive_upper(net, p)[0]
    gap = (c.upper - c.lower) / c.upper if c.upper > 0 else 0.0
    row = dict(network=name, norm=label, domain="global" if box is None else "[-1,1]^d",
               time=t, cpu=cpu_t, nodes=c.details["nodes"], lps=c.details["lps"], lower=c.lower, upper=c.upper,
               gap=gap, status=c.status, naive=naive)
    pub = PUBLISHED.get(name)
    note = ""
    if pub is not None and p == 2 and box is None:
        kind, v = pub
        inside = c.lower <= v <= c.upper
        row["published"] = v
        note = (f"  ExLipBaB {kind} {v:.10g}: "
                + ("inside our enclosure" if inside else
                   ("below our verified lower bound" if v < c.lower else "ABOVE OUR UPPER BOUND")))
    print(f"{name:32s} {label:4s} {row['domain']:9s} {t:7.2f} s (cpu {cpu_t:7.2f} s)  nodes {row['nodes']:6d}  "
          f"[{c.lower:.10g}, {c.upper:.10g}]  gap {gap:.1e}  {c.status:10s}  naive/upper "
          f"{naive / c.upper:6.2f}{note}", flush=True)
    return row


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="iris networks only, 5 s per case")
    ap.add_argument("--long", action="store_true",
                    help="only the global l2 runs of wine_11x24x24x1 and bike_13x20x16x8x3 (600 s each)")
    ap.add_argument("--only", nargs="*", default=None, help="with --long: only these networks")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per case (default 20; 600 with --long)")
    ap.add_argument("--json", default=None, help="also write the rows to this JSON file")
    ap.add_argument("--cpu-time", action="store_true",
                    help="time limits count CPU seconds of this process (for shared machines)")
    ap.add_argument("--wall-cap", type=float, default=None,
                    help="with --cpu-time: stop each case after this many wall-clock seconds anyway")
    args = ap.parse_args(argv)
    nets = networks()
    if not nets:
        print("ExLipBaB networks not available (certify.datasets); skipping bench_exlipbab")
        return 0
    rows = []
    if args.long:
        limit = args.time_limit or 600.0
        for name in (args.only or LONG_CASES):
            rows.append(run_case(nets[name](), name, "l2", 2, None, limit, args.cpu_time, args.wall_cap))
    else:
        limit = args.time_limit or (5.0 if args.quick else 20.0)
        names = sorted(n for n in nets if not args.quick or n.startswith("iris"))
        for name in names:
            net = nets[name]()
            d = net.input_dim
            for label, p in NORMS.items():
                for box in (None, (np.full(d, -1.0), np.full(d, 1.0))):
                    rows.append(run_case(net, name, label, p, box, limit, args.cpu_time, args.wall_cap))
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=1, default=float))
    bad = [r for r in rows if "published" in r and r["published"] > r["upper"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())

"""Benchmark of the non-exact certify methods on the three LipBaB networks.

Run:  python benchmarks/bench_methods.py [--time-limit 60] [--norms 2]

For each network prints
* the naive product of spectral norms (global l2), against the anchor figure;
* LipSDP-Neuron (cvxpy + Clarabel, checked in Arb): value, solve time, check time, against the
  anchors' rebuilt-LipSDP figures (value, solve, check);
* interval branch and bound on [0, 0.1]^10 for the time limit: the enclosure reached, its relative
  width, the node count, and whether it contains LipBaB's published value.
Ratios are ours / anchor (times measured by the anchors on an idle machine; ours in this run).
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

from certify import Network, lipschitz
from certify.methods.naive import naive_upper
from certify.model.datasets import external_dir
from certify.report import LIPBAB_PUBLISHED

DATA = external_dir("lipbab")  # not distributed: LAWROB_DATA, or ../shared next to a checkout
if DATA is None:
    print("bench_methods: skipped, the LipBaB networks are not available (set LAWROB_DATA)")
    sys.exit(0)

NETS = ["sdnet_10_15_10_3", "sdnet_10_20_15_10_3", "sdnet_10_30_30_30_3"]
#: LipBaB's measured time per network (its published values: certify.report.LIPBAB_PUBLISHED)
LIPBAB_TIME = {"sdnet_10_15_10_3": "0.09 s", "sdnet_10_20_15_10_3": "1.2 s",
               "sdnet_10_30_30_30_3": "23-32 s"}
LIPSDP = {"sdnet_10_15_10_3": (41.427015, 0.09, 0.12), "sdnet_10_20_15_10_3": (107.279435, 0.27, 0.70),
          "sdnet_10_30_30_30_3": (90.260937, 5.0, 4.1)}
NAIVE = {"sdnet_10_15_10_3": 86.4, "sdnet_10_20_15_10_3": 382.9, "sdnet_10_30_30_30_3": 282.7}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--time-limit", type=float, default=60.0, help="seconds of interval BaB per network and norm")
    ap.add_argument("--norms", default="2", help="comma-separated norms for the interval runs: 1,2,inf")
    ap.add_argument("--skip-sdp", action="store_true")
    args = ap.parse_args()
    norms = [math.inf if s.strip() == "inf" else int(s) for s in args.norms.split(",")]

    print("== naive product of spectral norms (global l2) ==")
    for name in NETS:
        net = Network.from_npz(os.path.join(DATA, name + ".npz"))
        t0 = time.perf_counter()
        up, _ = naive_upper(net, 2)
        print(f"{name:22s} ours {up:10.4f}  anchor {NAIVE[name]:7.1f}  ({time.perf_counter() - t0:.3f} s)")

    if not args.skip_sdp:
        print("\n== LipSDP-Neuron, global l2, checked in Arb ==")
        print(f"{'network':22s} {'ours':>11s} {'anchor':>11s} {'rel.diff':>9s} | {'solve':>7s} {'anchor':>6s} "
              f"{'ratio':>6s} | {'check':>7s} {'anchor':>6s} {'ratio':>6s}")
        for name in NETS:
            net = Network.from_npz(os.path.join(DATA, name + ".npz"))
            cert = lipschitz(net, norm=2, method="sdp", lower_options={"n_starts": 64, "n_ascents": 2})
            a_val, a_solve, a_check = LIPSDP[name]
            st, ct = cert.details["solve_time"], cert.details["check_time"]
            t0 = time.perf_counter()
            ok = cert.verify().ok
            vt = time.perf_counter() - t0
            print(f"{name:22s} {cert.upper:11.6f} {a_val:11.6f} {(cert.upper - a_val) / a_val:9.1e} | "
                  f"{st:6.2f}s {a_solve:5.2f}s {st / a_solve:6.2f} | {ct:6.3f}s {a_check:5.2f}s {ct / a_check:6.3f}"
                  f"   lower {cert.lower:.4f}, verify() {ok} in {vt:.2f} s")

    print(f"\n== interval branch and bound on [0, 0.1]^10, {args.time_limit:g} s per run ==")
    print(f"{'network':22s} {'norm':>4s} {'lower':>10s} {'upper':>10s} {'rel.width':>9s} {'nodes':>7s} "
          f"{'LipBaB value':>13s} {'contained':>9s} {'LipBaB time':>11s}")
    for name in NETS:
        net = Network.from_npz(os.path.join(DATA, name + ".npz"))
        for p in norms:
            cert = lipschitz(net, norm=p, domain=(0.0, 0.1), method="interval", time_limit=args.time_limit)
            ref = LIPBAB_PUBLISHED[name][p]
            label = {1: "l1", 2: "l2", math.inf: "linf"}[p]
            print(f"{name:22s} {label:>4s} {cert.lower:10.5f} {cert.upper:10.5f} {cert.gap:9.3%} "
                  f"{cert.details['nodes']:7d} {ref:13.6f} {str(cert.lower <= ref <= cert.upper):>9s} "
                  f"{LIPBAB_TIME[name]:>11s}")


if __name__ == "__main__":
    main()

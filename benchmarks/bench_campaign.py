"""Benchmark of the campaign engine: trials/second on 1, 2 and all local workers and a 2-worker Dask cluster.

Run:  python benchmarks/bench_campaign.py [--seeds 12] [--no-dask]

One fixed campaign (``certify.harness.campaign:check_trial``: sample 8-16 points on the sphere in
R^4, exact random-features fit, certify, check ``two_layer_projection`` and ``two_layer_undercomplete``)
is timed

* as a bare loop calling the task (the baseline),
* on the engine serially (``workers=1``), in memory and with the JSON Lines store (fsync per row),
* on a local process pool of 2 and of all cores,
* on a ``dask.distributed.LocalCluster`` with 2 single-threaded worker processes,

and every run's rows are checked to equal the bare loop's.  Speed-ups are ratios to the bare loop
measured in this run.  Then the per-trial scheduling overhead: a task that does nothing, run
``--overhead-trials`` times, on each executor, against a bare loop.  On a 2-core machine shared with
other jobs expect at most 2x; the numbers are what they are.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

from certify.harness.campaign import Spec, check_trial, example_task, run


def campaign(seeds: int) -> Spec:
    return Spec(task="certify.harness.campaign:check_trial", name="bench",
                grid={"theorem": ["two_layer_projection", "two_layer_undercomplete"],
                      "n": [8, 12, 16]},
                fixed={"d": 4, "method": "naive", "delta": 0.1}, seeds=seeds)


def bare(spec: Spec, task):
    t0 = time.perf_counter()
    rows = [task(dict(t.point), t.seed) for t in spec.trials()]
    return time.perf_counter() - t0, rows


def timed(spec: Spec, **kw):
    t0 = time.perf_counter()
    res = run(spec, progress=False, **kw)
    return time.perf_counter() - t0, res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, default=12, help="seeds per point (6 points)")
    ap.add_argument("--overhead-trials", type=int, default=400)
    ap.add_argument("--no-dask", action="store_true")
    args = ap.parse_args()
    spec = campaign(args.seeds)
    n = len(spec)
    cores = os.cpu_count() or 1
    print(f"campaign: {n} trials (check_trial, naive certification); {cores} cores")
    check_trial({"theorem": "two_layer_projection", "n": 8, "d": 4, "method": "naive"}, 0)  # warm-up
    t_bare, ref = bare(spec, check_trial)
    print(f"{'executor':<34} {'seconds':>8} {'trials/s':>9} {'speed-up':>9}  rows")
    print(f"{'bare loop (baseline)':<34} {t_bare:8.2f} {n / t_bare:9.1f} {1.0:9.2f}")
    ref = [{"status": "ok", "result": r} for r in ref]

    def line(label, t, res):
        same = [{"status": r["status"], "result": r["result"]} for r in res.rows] == \
            [{"status": "ok", "result": _json(r["result"])} for r in ref]
        print(f"{label:<34} {t:8.2f} {n / t:9.1f} {t_bare / t:9.2f}  "
              f"{'equal to bare loop' if same else 'DIFFERENT'}", flush=True)

    t, res = timed(spec, workers=1)
    line("engine, serial, in memory", t, res)
    with tempfile.TemporaryDirectory() as tmp:
        t, res = timed(spec, workers=1, store=os.path.join(tmp, "o"))
        line("engine, serial, JSONL store+fsync", t, res)
    for w in sorted({2, cores}):
        t, res = timed(spec, workers=w)
        line(f"local process pool, {w} workers", t, res)
    client = cluster = None
    if not args.no_dask:
        try:
            from dask.distributed import Client, LocalCluster
        except ImportError:
            print("dask.distributed not installed (pip install 'lawrob[dask]'): cluster skipped")
        else:
            cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            client = Client(cluster)
            # warm the workers (imports of the catalogue take seconds in a fresh process; the
            # local pool forks this warm process instead)
            client.run(check_trial, {"theorem": "two_layer_projection", "n": 8, "d": 4,
                                     "method": "naive"}, 0)
            t, res = timed(spec, executor=client.get_executor())
            line("Dask LocalCluster, 2 workers", t, res)

    m = args.overhead_trials
    empty = Spec(task="certify.harness.campaign:example_task", grid={"a": list(range(m))}, seeds=1)
    t0 = time.perf_counter()
    for tr in empty.trials():
        example_task(tr.point, tr.seed)
    base = (time.perf_counter() - t0) / m
    print(f"\nper-trial scheduling overhead ({m} empty trials; bare loop {1e6 * base:.1f} us/trial)")
    cases = [("engine, serial", dict(workers=1)), ("local process pool, 2 workers", dict(workers=2))]
    if client is not None:
        cases.append(("Dask LocalCluster, 2 workers", dict(executor=client.get_executor())))
    for label, kw in cases:
        t, _ = timed(empty, **kw)
        print(f"  {label:<32} {1e3 * (t / m - base):8.3f} ms/trial")
    if client is not None:
        client.close()
        cluster.close()


def _json(result):
    from certify.harness.campaign import _json_value
    return _json_value(result, "result")


if __name__ == "__main__":
    main()

"""Campaign engine: specs, reproducible rows on every executor, resumable storage, bad input."""

import json
import os
import signal
import subprocess
import sys
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest

from certify.__main__ import main
from certify.harness import campaign
from certify.harness.campaign import (CampaignError, Spec, SpecError, StoreError, map_trials,
                                      run)

REPO = Path(__file__).resolve().parent.parent
TASKS = "tests.campaign_tasks"


def spec(task="noisy_sum", **kw):
    kw.setdefault("grid", {"a": [1, 2, 3]})
    kw.setdefault("seeds", [0, 1])
    return Spec(task=f"{TASKS}:{task}", **kw)


# -- spec --------------------------------------------------------------------------------------------

def test_spec_trials_order_hash_and_toml(tmp_path):
    s = Spec(task=f"{TASKS}:noisy_sum", grid={"a": [1, 2], "b": ["x", "y"]}, seeds=2,
             fixed={"c": 0.5}, points=[{"p": 1}])
    pts = [(t.point["a"], t.point["b"], t.seed) for t in s.trials()]
    assert pts[:3] == [(1, "x", 0), (1, "x", 1), (1, "y", 0)] and len(pts) == 8 == len(s)
    assert all(t.point["c"] == 0.5 and t.point["p"] == 1 for t in s.trials())
    assert [t.index for t in s.trials()] == list(range(8))
    toml = tmp_path / "s.toml"
    toml.write_text(f'[campaign]\ntask = "{TASKS}:noisy_sum"\nseeds = 2\n'
                    '[grid]\na = [1, 2]\nb = ["x", "y"]\n[fixed]\nc = 0.5\n[[points]]\np = 1\n')
    assert Spec.from_toml(toml).hash == s.hash
    assert Spec(task=s.task, grid=s.grid, seeds=3, fixed=s.fixed, points=s.points).hash != s.hash


@pytest.mark.parametrize("data, match", [
    ({"task": "m:f", "seeds": 2, "sedes": 3}, r"unknown key\(s\) \['sedes'\]"),
    ({"seeds": 2}, "no 'task'"),
    ({"task": "m:f", "seeds": 0}, "seeds"),
    ({"task": "m:f", "seeds": [1, 1]}, "repeated"),
    ({"task": "m:f", "grid": {"a": []}}, "grid.a"),
    ({"task": "m:f", "grid": {"a": [1]}, "fixed": {"a": 2}}, "fixed repeats"),
    ({"task": "m:f", "time_limit": -1}, "time_limit"),
])
def test_bad_specs(data, match):
    with pytest.raises(SpecError, match=match):
        Spec.from_dict(data)


def test_unresolvable_task_is_a_spec_error():
    with pytest.raises(SpecError, match="cannot import module"):
        run(Spec(task="no_such_module_xyz:f"), workers=1, progress=False)
    with pytest.raises(SpecError, match="has no attribute"):
        run(Spec(task=f"{TASKS}:nope"), workers=1, progress=False)


# -- reproducibility on every executor ------------------------------------------------------------------

def test_same_rows_serial_process_pool_and_dask_cluster():
    distributed = pytest.importorskip("dask.distributed")
    s = Spec(task="certify.harness.campaign:check_trial", seeds=[0, 1],
             grid={"theorem": ["two_layer_projection"], "n": [6, 8]},
             fixed={"d": 3, "method": "naive"})
    serial = run(s, workers=1, progress=False).reproducible_rows()
    assert len(serial) == 4 and all(r["status"] == "ok" for r in serial)
    assert {r["result"]["verdict"] for r in serial} == {"consistent"}
    assert run(s, workers=2, progress=False).reproducible_rows() == serial
    import dask
    # forked workers start with certify already imported (spawned ones import it: seconds)
    with dask.config.set({"distributed.worker.multiprocessing-method": "fork"}), \
            distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                     dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        rows = run(s, executor=client.get_executor(), progress=False).reproducible_rows()
    assert rows == serial


def test_trials_as_threads_of_one_process_are_refused():
    """mpmath's and flint's precision are per process: concurrent threads could disturb it."""
    from concurrent.futures import ThreadPoolExecutor
    distributed = pytest.importorskip("dask.distributed")
    with ThreadPoolExecutor(2) as ex, pytest.raises(CampaignError, match="global to a process"):
        run(spec(), executor=ex, progress=False)
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client, \
            pytest.raises(CampaignError, match="--nthreads 1"):
        run(spec(), executor=client.get_executor(), progress=False)


def test_lambda_tasks_ship_to_process_pools(tmp_path):
    with ProcessPoolExecutor(2) as ex:
        res = map_trials(lambda a, b: a * b, [(2, 3), (4, 5)], executor=ex)
    assert [r.value for r in res] == [6, 20]
    s = Spec(task=lambda p, s: {"v": s}, seeds=2)
    assert [r["result"]["v"] for r in run(s, workers=2, progress=False).rows] == [0, 1]
    with pytest.raises(SpecError, match="importable module-level function"):
        run(s, store=tmp_path / "o", workers=1, progress=False)


# -- failures are rows ------------------------------------------------------------------------------------

def test_task_that_raises_is_a_failed_row_and_others_are_kept(tmp_path):
    res = run(spec("boom"), workers=1, store=tmp_path / "o", progress=False)
    bad = [r for r in res.rows if r["status"] != "ok"]
    assert len(res.rows) == 6 and len(bad) == 2
    assert all(r["point"]["a"] == 2 and "ValueError: bad point a=2" in r["error"] for r in bad)
    assert [r["result"]["value"] for r in res.rows if r["status"] == "ok"] == [10, 11, 30, 31]
    stored = (tmp_path / "o" / f"rows-{res.spec.hash}.jsonl").read_text().splitlines()
    assert len(stored) == 7  # header + every trial, failed ones included


def test_unstorable_result_is_a_failed_row():
    res = run(spec("unstorable", grid={"a": [1]}, seeds=[0]), workers=1, progress=False)
    assert res.rows[0]["status"] == "error" and "cannot be stored" in res.rows[0]["error"]


@pytest.mark.parametrize("workers", [1, 2])
def test_timed_out_trial_is_a_failed_row(workers):
    s = Spec(task=f"{TASKS}:sleepy", points=[{"sleep": 0.0}, {"sleep": 30.0}], seeds=[0, 1],
             time_limit=0.5)
    t0 = time.perf_counter()
    res = run(s, workers=workers, progress=False)
    assert time.perf_counter() - t0 < 10
    st = [(r["point"]["sleep"], r["status"]) for r in res.rows]
    assert st == [(0.0, "ok"), (0.0, "ok"), (30.0, "timeout"), (30.0, "timeout")]
    assert "time limit of 0.5 s" in res.rows[-1]["error"]


def test_trial_deaf_to_the_alarm_is_abandoned_and_the_pool_restarted(monkeypatch):
    monkeypatch.setattr(campaign, "HARD_LIMIT_GRACE", 0.5)
    s = Spec(task=f"{TASKS}:stubborn", points=[{"sleep": 0.0}, {"sleep": 60.0}], seeds=[0, 1, 2],
             time_limit=0.3)
    t0 = time.perf_counter()
    res = run(s, workers=2, progress=False)
    assert time.perf_counter() - t0 < 20
    assert [r["status"] for r in res.rows] == ["ok"] * 3 + ["timeout"] * 3
    assert "restarted" in res.rows[-1]["error"]


def test_missing_dask_is_a_clear_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(CampaignError, match=r"pip install 'lawrob\[dask\]'"):
        campaign.dask_executor("tcp://127.0.0.1:1")


# -- storage ----------------------------------------------------------------------------------------------

def test_resume_skips_finished_trials_and_repairs_a_torn_line(tmp_path):
    s = spec()
    full = run(s, workers=1, store=tmp_path / "a", progress=False)
    assert full.n_run == 6 and full.complete
    again = run(s, workers=1, store=tmp_path / "a", progress=False)
    assert again.n_run == 0 and again.n_resumed == 6
    assert again.reproducible_rows() == full.reproducible_rows()
    # a run killed mid-write: two rows lost, the third torn in the middle of its line
    f = tmp_path / "a" / f"rows-{s.hash}.jsonl"
    lines = f.read_text().splitlines(keepends=True)
    f.write_text("".join(lines[:4]) + lines[4][:25])
    res = run(s, workers=1, store=tmp_path / "a", progress=False)
    assert res.n_run == 3 and res.repaired == 25
    assert res.reproducible_rows() == full.reproducible_rows()


def test_foreign_or_corrupt_folders_are_refused(tmp_path):
    run(spec(), workers=1, store=tmp_path / "a", progress=False)
    with pytest.raises(StoreError, match="another campaign"):
        run(spec(seeds=[5]), workers=1, store=tmp_path / "a", progress=False)
    f = next((tmp_path / "a").glob("rows-*.jsonl"))
    lines = f.read_text().splitlines(keepends=True)
    f.write_text("".join(lines[:2]) + "{not json\n" + "".join(lines[3:]))
    with pytest.raises(StoreError, match="line 3: not valid JSON"):
        run(spec(), workers=1, store=tmp_path / "a", progress=False)
    # a row of another trial smuggled in: refused, not merged
    row = json.loads(lines[1])
    row["seed"] = 99
    f.write_text("".join(lines) + json.dumps(row) + "\n")
    with pytest.raises(StoreError, match="not a trial of this spec"):
        run(spec(), workers=1, store=tmp_path / "a", progress=False)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "notes.txt").write_text("mine")
    with pytest.raises(StoreError, match="did not write"):
        run(spec(), workers=1, store=tmp_path / "b", progress=False)
    (tmp_path / "c").mkdir()
    (tmp_path / "c" / f"rows-{spec().hash}.jsonl").write_text('{"format": "other"}\n')
    with pytest.raises(StoreError, match="not a campaign rows file"):
        run(spec(), workers=1, store=tmp_path / "c", progress=False)


def test_kill_9_mid_way_loses_only_trials_in_flight(tmp_path):
    """A real SIGKILL of the CLI process, then the same command: every trial, the serial rows."""
    toml = tmp_path / "slow.toml"
    toml.write_text(f'[campaign]\ntask = "{TASKS}:sleepy"\nseeds = 12\n[fixed]\nsleep = 0.15\n')
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "certify", "campaign", str(toml), "--out", str(out),
           "--workers", "2", "--no-progress"]
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(cmd, cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    rows = out / f"rows-{Spec.from_toml(toml).hash}.jsonl"
    deadline = time.time() + 30
    while time.time() < deadline and (not rows.exists() or len(rows.read_text().splitlines()) < 4):
        time.sleep(0.02)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    stored = len(rows.read_text().splitlines()) - 1
    assert 3 <= stored < 12
    done = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert f"{12 - stored} run now, {stored} resumed" in done.stdout or "resumed" in done.stdout
    serial = run(Spec.from_toml(toml), workers=1, progress=False).reproducible_rows()
    resumed = run(Spec.from_toml(toml), store=out, workers=1, progress=False)
    assert resumed.n_run == 0 and resumed.reproducible_rows() == serial


# -- CLI ----------------------------------------------------------------------------------------------------

def test_cli_campaign(tmp_path, capsys):
    toml = tmp_path / "s.toml"
    toml.write_text(f'[campaign]\ntask = "{TASKS}:boom"\nseeds = [0]\n[grid]\na = [1, 2]\n')
    assert main(["campaign", str(toml), "--out", str(tmp_path / "o"), "--workers", "1",
                 "--no-progress"]) == 1
    out = capsys.readouterr().out
    assert "2/2 trials" in out and "1 failed" in out and "ValueError: bad point a=2" in out
    toml.write_text(f'[campaign]\ntask = "{TASKS}:boom"\nseeds = [0]\nworkers = 3\n')
    assert main(["campaign", str(toml), "--out", str(tmp_path / "p"), "--no-progress"]) == 2
    assert "unknown key(s) ['workers']" in capsys.readouterr().err


# -- the engine under failure_rate, the experiment and the digits campaign ------------------------------

def test_failure_rate_on_a_pool_equals_serial_and_lists_failed_trials():
    from bounds.data import DataModel, Measure
    from certify.harness.statistics import failure_rate

    def statement(X, y, seed):
        if seed % 5 == 0:
            raise RuntimeError("flaky instance")
        return bool(y.sum() > 2)

    model = DataModel(Measure.cube(1))
    a = failure_rate(statement, model, n_trials=40, seed=3, n=6, delta=0.3)
    b = failure_rate(statement, model, n_trials=40, seed=3, n=6, delta=0.3, workers=2)
    assert (a.n_failures, a.n_applicable, a.ci) == (b.n_failures, b.n_applicable, b.ci)
    assert a.errors == b.errors and len(a.errors) == sum(s % 5 == 0 for s in a.seeds) > 0
    assert "did not finish" in str(a) and "flaky instance" in str(a)
    with pytest.raises(CampaignError, match="every trial failed"):
        failure_rate(lambda X, y, s: 1 / 0, model, n_trials=3, n=4, delta=0.3)


def test_experiment_on_a_pool_equals_serial():
    from certify.harness.experiment import sqrt_nk_experiment
    kw = dict(d=6, ks=(2,), ratios=(1, 2, 4), seeds=(0,), max_iter=100)
    drop = lambda p: {k: v for k, v in p.__dict__.items() if k not in ("seconds", "fit_seconds")}  # noqa: E731,E501
    assert [drop(p) for p in sqrt_nk_experiment(**kw, workers=2).points] == \
        [drop(p) for p in sqrt_nk_experiment(**kw).points]


def test_digits_trial_certified_constant_above_rigorous_floors():
    pytest.importorskip("sklearn")
    import bounds
    from certify.harness.realdata import digits_sample, digits_trial
    X, y = digits_sample(40, 0.2, seed=1)
    assert X.shape == (40, 64) and (abs(X).max() <= 1) and set(y) == {-1.0, 1.0}
    floor = float(bounds.get("minimal_interpolation").from_data(X, y))
    for k in (4, 120):
        r = digits_trial({"k": k, "n": 40, "noise": 0.2, "cert_time_limit": 0.5}, 1)
        assert r["lip_lower"] <= r["lip_upper"] and r["p"] == 64 * k + 2 * k + 1
        assert r["lip_upper"] >= r["projection"] > 0
        if r["interpolates"]:
            assert r["lip_upper"] >= floor and r["mse"] < 1e-12
        assert r["universal_law"] > 0 and "sample_size" in r["universal_law_failed"]
    assert not digits_trial({"k": 4, "n": 40, "noise": 0.2}, 1)["interpolates"]

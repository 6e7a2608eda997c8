"""Module-level tasks for tests/test_campaign.py (process pools ship tasks by reference)."""

import signal
import time

import numpy as np


def noisy_sum(point, seed):
    """Depends on point and seed only: the same row wherever it runs."""
    rng = np.random.default_rng([seed, point["a"]])
    return {"value": float(point["a"] + rng.standard_normal()), "arr": rng.integers(0, 9, 3)}


def boom(point, seed):
    if point["a"] == 2:
        raise ValueError(f"bad point a={point['a']}")
    return {"value": point["a"] * 10 + seed}


def sleepy(point, seed):
    time.sleep(point.get("sleep", 0.0))
    return {"value": seed}


def stubborn(point, seed):
    """Ignores the worker's alarm: only the driver's hard limit can stop it."""
    if point.get("sleep", 0.0) > 0 and hasattr(signal, "SIGALRM"):
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
    time.sleep(point.get("sleep", 0.0))
    return {"value": seed}


def unstorable(point, seed):
    return {"value": object()}

"""Statistical checks of probabilistic statements: failure frequency versus ``delta``.

A statement "with probability at least ``1 - delta``, ..." can fail on a legitimate instance, so a
single violation proves nothing.  :func:`failure_rate` repeats the statement on ``n_trials``
independent random instances, counts the failures, and compares the failure frequency with
``delta`` through a Clopper-Pearson interval: the statement is *consistent* with the data when the
interval's lower end is ``<= delta``; it is *violated* when even the lower end exceeds ``delta``
(then, at the chosen confidence, the true failure probability is above ``delta``).

It also reports how loose the bound is in practice: the ratio of the observed quantity (e.g. the
certified Lipschitz constant of a fitted network) to the bound, over the trials (median and
quantiles).

Examples
--------
A statement with a known failure probability: "the sum of 10 random signs is at most 4" fails
exactly when it is 6, 8 or 10, with probability ``(45 + 10 + 1) / 1024 = 0.0547``.

>>> import numpy as np
>>> from bounds.data import DataModel, Measure
>>> model = DataModel(Measure.cube(1))
>>> res = failure_rate(lambda X, y, seed: bool(y.sum() > 4), model, n_trials=400, seed=0, n=10,
...                    delta=0.2)
>>> res.verdict, res.ci[0] <= 56 / 1024 <= res.ci[1]
('consistent', True)
"""

from __future__ import annotations

import dataclasses
import math
import os
import pickle
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
from scipy.stats import beta

from bounds.errors import ParameterError
from bounds.theorem import Theorem

__all__ = ["TrialOutcome", "FailureRate", "failure_rate", "clopper_pearson"]

#: Quantiles of the looseness ratio reported by :func:`failure_rate`.
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass(frozen=True)
class TrialOutcome:
    """One trial of a statement.

    Attributes
    ----------
    failed : bool
        The statement's conclusion failed on this instance.
    observed : float or None
        The quantity the statement bounds (e.g. a certified Lipschitz constant).
    bound : float or None
        The statement's bound on it.
    applicable : bool
        Whether the statement's hypotheses held (inapplicable trials are not counted).
    detail : object
        Anything else (a :class:`~certify.harness.check.CheckResult` for theorem trials).
    """

    failed: bool
    observed: float | None = None
    bound: float | None = None
    applicable: bool = True
    detail: object = None

    @property
    def ratio(self) -> float | None:
        if self.observed is None or self.bound is None or not self.applicable:
            return None
        return self.observed / self.bound if self.bound > 0 else math.inf


def clopper_pearson(k: int, n: int, confidence: float = 0.95) -> tuple[float, float]:
    """Exact (Clopper-Pearson) two-sided confidence interval for a binomial proportion.

    ``[B(a/2; k, n-k+1), B(1-a/2; k+1, n-k)]`` with ``B`` the Beta quantile and
    ``a = 1 - confidence`` (0 and 1 at the ends ``k = 0``, ``k = n``).

    >>> lo, hi = clopper_pearson(0, 100)
    >>> lo, round(hi, 4)                      # the "rule of three" is 3/n = 0.03
    (0.0, 0.0362)
    """
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or n < 1:
        raise ParameterError("n", n, "integers >= 1")
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 0 <= k <= n:
        raise ParameterError("k", k, f"integers in [0, {n}]")
    if not 0 < confidence < 1:
        raise ParameterError("confidence", confidence, "(0, 1)")
    a = 1 - confidence
    lo = 0.0 if k == 0 else float(beta.ppf(a / 2, k, n - k + 1))
    hi = 1.0 if k == n else float(beta.ppf(1 - a / 2, k + 1, n - k))
    return lo, hi


@dataclass(frozen=True, eq=False)
class FailureRate:
    """Result of :func:`failure_rate`.

    Attributes
    ----------
    verdict : {"consistent", "violated", "not_applicable"}
        ``"violated"`` iff the Clopper-Pearson lower end exceeds ``delta``;
        ``"not_applicable"`` if no trial satisfied the hypotheses.
    n_trials, n_applicable, n_failures : int
    rate : float
        ``n_failures / n_applicable``.
    ci : (float, float)
        Clopper-Pearson interval for the failure probability at ``confidence``.
    delta : float
    confidence : float
    ratios : numpy.ndarray
        ``observed / bound`` per applicable trial (where both are known).
    ratio_quantiles : dict
        Quantiles of ``ratios`` (keys :data:`QUANTILES`); empty without ratios.
    seeds : list of int
        The per-trial seeds (trial ``i`` is reproduced from ``seeds[i]``).
    outcomes : list of TrialOutcome
        One per finished trial (run in another process, a ``detail`` that cannot be pickled,
        such as a :class:`~certify.harness.check.CheckResult`, is replaced by its text).
    errors : list of (int, str)
        ``(seed, error text)`` of the trials that raised or ran over ``time_limit``: they are not
        counted (neither as failures nor as successes), and :meth:`__str__` says how many.
    """

    verdict: str
    n_trials: int
    n_applicable: int
    n_failures: int
    rate: float
    ci: tuple
    delta: float
    confidence: float
    ratios: np.ndarray = field(repr=False)
    ratio_quantiles: dict
    seeds: list = field(repr=False)
    outcomes: list = field(repr=False)
    errors: list = field(repr=False, default_factory=list)

    @property
    def ratio_median(self) -> float | None:
        return self.ratio_quantiles.get(0.5)

    def failures(self) -> list:
        """The failing trials' outcomes (their ``detail`` holds the counterexamples)."""
        return [o for o in self.outcomes if o.applicable and o.failed]

    def not_applicable_reasons(self) -> dict:
        """Why trials were not counted: failed hypothesis name -> number of trials."""
        out = {}
        for o in self.outcomes:
            if o.applicable:
                continue
            names = [h.name for h in getattr(o.detail, "failed", None) or []] or ["hypotheses"]
            for name in names:
                out[name] = out.get(name, 0) + 1
        return out

    def __str__(self):
        s = (f"{self.verdict}: {self.n_failures}/{self.n_applicable} failures "
             f"(rate {self.rate:.4g}, {100 * self.confidence:g}% CI [{self.ci[0]:.4g}, {self.ci[1]:.4g}]) "
             f"vs delta = {self.delta:g}")
        if self.n_applicable < self.n_trials:
            why = ", ".join(f"{name} failed in {k}" for name, k in self.not_applicable_reasons().items())
            s += (f"; {self.n_trials - self.n_applicable} of {self.n_trials} trials not counted: "
                  f"the statement's hypotheses did not hold on that sample ({why})")
        if self.ratio_quantiles:
            s += f"; observed/bound median {self.ratio_median:.4g}"
        if self.errors:
            s += (f"; {len(self.errors)} of {self.n_trials} trials did not finish (error or time "
                  f"limit) and are not counted, first: {self.errors[0][1].splitlines()[0]}")
        return s


def _as_outcome(value) -> TrialOutcome:
    if isinstance(value, TrialOutcome):
        return value
    if isinstance(value, (bool, np.bool_)):
        return TrialOutcome(bool(value))
    if isinstance(value, tuple) and len(value) in (1, 2, 3):
        return TrialOutcome(bool(value[0]), *(None if v is None else float(v) for v in value[1:]))
    raise ParameterError("statement", type(value).__name__,
                         "a callable returning a TrialOutcome, a bool or (failed, observed, bound)")


@dataclass(frozen=True)
class _TheoremTrial:
    """One trial of a catalogue statement (a class, not a closure: it is shipped to workers)."""

    theorem: object
    fitter: Callable
    check_options: dict

    def __call__(self, X, y, seed):
        from certify.harness.check import check
        fit = self.fitter(X, y, seed)
        res = check(self.theorem, X, y, fit, seed=seed, **self.check_options)
        if res.verdict == "not_applicable":
            return TrialOutcome(False, applicable=False, detail=res)
        return TrialOutcome(res.verdict == "violated", res.upper, float(res.bound), True, res)


def _random_features_2n(X, y, seed):
    from certify.harness.fit import random_features
    return random_features(X, y, k=2 * len(y), seed=seed)


def _sampled_trial(trial, model, n, seed, driver_pid):
    X, y = model.sample(n, seed=seed)
    out = trial(X, y, seed)
    if os.getpid() != driver_pid and isinstance(out, TrialOutcome) and out.detail is not None:
        # shipped back to the driver: a detail holding Arb balls (a CheckResult) cannot be
        # pickled, so it travels as its text
        try:
            pickle.dumps(out.detail)
        except Exception:  # noqa: BLE001 - any pickling failure
            out = dataclasses.replace(out, detail=str(out.detail))
    return out


def _statement_failure_probability(statement, delta):
    """``delta``, or ``k delta`` for a statement holding "with probability at least 1 - k delta"."""
    from certify.harness.check import failure_factor
    import bounds
    th = bounds.get(statement) if isinstance(statement, str) else statement
    return None if delta is None else failure_factor(th) * float(delta)


def failure_rate(statement, model, n_trials: int, seed=0, *, n: int, delta: float | None = None,
                 confidence: float = 0.95, fitter: Callable | None = None,
                 executor=None, workers: int | None = 1, time_limit: float | None = None,
                 progress=None, **check_options) -> FailureRate:
    """Estimate how often a probabilistic statement fails, and compare with ``delta``.

    Parameters
    ----------
    statement : Theorem, str or callable
        A catalogue statement (each trial: sample, fit with ``fitter``, :func:`certify.check`;
        a failure is a ``"violated"`` verdict), or ``statement(X, y, seed)`` returning a
        :class:`TrialOutcome`, a bool (True = failed) or ``(failed, observed, bound)``.
    model : bounds.data.DataModel
        The distribution of the instances.
    n_trials : int
    seed : int
        Master seed; trial ``i`` uses ``seeds[i]`` for both sampling and fitting.
    n : int
        Sample size of each instance.
    delta : float
        The statement's failure probability; for a theorem, its ``delta`` parameter (also passed
        to :func:`certify.check`), multiplied by ``k`` when the statement holds "with probability
        at least ``1 - k delta``" (``any_model``: ``k = 2``).
    confidence : float
        Of the Clopper-Pearson interval.
    fitter : callable, optional
        ``fitter(X, y, seed) -> Fit or Network`` for theorem statements; default
        :func:`certify.harness.fit.random_features` with ``k = 2n`` (exact interpolation).
    executor, workers, time_limit, progress
        Where and how the trials run (:func:`certify.harness.campaign.map_trials`): default one
        after the other in this process; ``workers=N`` a local process pool, ``executor`` any
        ``concurrent.futures`` executor (a Dask cluster's).  The result does not depend on them.
        A trial that raises or exceeds ``time_limit`` seconds is listed in ``errors``, not
        counted; if every trial does, :class:`~certify.harness.campaign.CampaignError` is raised.
    **check_options
        Passed to :func:`certify.check` (``eps``, ``delta``, ``certifier`` ...); the ``model`` is
        passed automatically.

    Returns
    -------
    FailureRate
    """
    if isinstance(n_trials, bool) or not isinstance(n_trials, (int, np.integer)) or n_trials < 1:
        raise ParameterError("n_trials", n_trials, "integers >= 1")
    if isinstance(statement, (str, Theorem)):
        if fitter is None:
            fitter = _random_features_2n
        if delta is not None:
            check_options["delta"] = delta
        trial = _TheoremTrial(statement, fitter, {"model": model, **check_options})
        delta = _statement_failure_probability(statement, check_options.get("delta"))
    elif callable(statement):
        if check_options:
            raise ParameterError(next(iter(check_options)), "given", "no extra options for a callable statement")
        trial = statement
    else:
        raise ParameterError("statement", statement, "a Theorem, a catalogue id or a callable")
    if delta is None or not 0 < float(delta) < 1:
        raise ParameterError("delta", delta, "(0, 1)")
    delta = float(delta)
    from certify.harness.campaign import CampaignError, map_trials
    seeds = [int(s) for s in np.random.default_rng(seed).integers(0, 2 ** 63 - 1, size=n_trials)]
    results = map_trials(_sampled_trial, [(trial, model, n, s, os.getpid()) for s in seeds],
                         executor=executor,
                         workers=workers, time_limit=time_limit, progress=progress,
                         desc="failure_rate")
    # converted here, not in the worker: a statement returning the wrong type is the caller's bug
    outcomes = [_as_outcome(r.value) for r in results if r.ok]
    errors = [(s, r.error) for s, r in zip(seeds, results) if not r.ok]
    if not outcomes:
        raise CampaignError(f"failure_rate: every trial failed; first (seed {errors[0][0]}): "
                            f"{errors[0][1]}")
    applicable = [o for o in outcomes if o.applicable]
    k = sum(1 for o in applicable if o.failed)
    ratios = np.array([o.ratio for o in applicable if o.ratio is not None], dtype=float)
    quant = {q: float(np.quantile(ratios, q)) for q in QUANTILES} if ratios.size else {}
    if not applicable:
        return FailureRate("not_applicable", n_trials, 0, 0, math.nan, (0.0, 1.0), delta, confidence,
                           ratios, quant, seeds, outcomes, errors)
    ci = clopper_pearson(k, len(applicable), confidence)
    verdict = "consistent" if ci[0] <= delta else "violated"
    return FailureRate(verdict, n_trials, len(applicable), k, k / len(applicable), ci, delta,
                       confidence, ratios, quant, seeds, outcomes, errors)

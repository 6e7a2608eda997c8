"""The two-layer law's ``Lip ~ sqrt(n/k)`` measured with certified Lipschitz constants.

:func:`sqrt_nk_experiment` draws ``n`` points uniformly on the unit sphere ``S^{d-1}`` with random
sign labels, fits two-layer (leaky) ReLU networks with ``k`` neurons to margin 1 (``y_i f(x_i) >= 1``,
:func:`certify.harness.fit.margin_fit`), certifies the **global** l2 Lipschitz constant of each fitted
network with :func:`certify.lipschitz` (method ``"auto"``), and fits the log-log slope of the
certified constant against ``n/k`` with a t-interval.

Widths
    Any ``k >= 1``.  For ``k <= d`` every activation pattern is realisable and the exact method
    closes the enclosure ``[lower, upper]`` in well under a second.  For ``k > d`` (the
    over-parameterised widths the law is about) the certification is anytime: ``upper`` is the
    portfolio's best checked bound (typically the SDP), ``lower`` a witnessed value (pattern
    search), and the enclosure can stay open at the time limit.  Every point carries its relative
    gap ``(upper - lower) / upper``; nothing is hidden when it is large.  The grid (ratios, seeds,
    fits, iterations, time limit) may differ per width, since fitting and certifying at
    ``k = 256`` costs about a thousand times more than at ``k = 8``.

What the numbers mean
    The conjecture [BLN21] says that *every* interpolating ``k``-neuron network has
    ``Lip(f) >= c sqrt(n/k)`` (``c`` unspecified).  A fitted network's certified constant is an
    upper bound on the *smallest* one, so the measured slope characterises the fitter as much as
    the law; the rigorous floor is the projection bound ``two_layer_projection`` (data-dependent,
    for any ``k``-neuron fit with the verified margins), evaluated from the catalogue on each
    sample.  The slope is fitted to the certified **upper** ends, so it is the slope of an upper
    envelope of the fitted networks' constants; :attr:`ExperimentResult.slope_lower` is the slope
    of the witnessed lower ends and :attr:`ExperimentResult.slope_range` the range of the
    least-squares slope over all constants inside the enclosures (:func:`slope_range`).  The
    spectral entry ``two_layer_spectral`` bounds the proxy ``Lip(psi) ||a||_2 ||W||_op`` (not
    ``Lip``) of zero-bias fits; it is compared with that proxy only for fits without biases
    (``margin_fit`` trains biases, so it is reported as not applicable there).

Examples
--------
>>> from certify.harness.experiment import sqrt_nk_experiment
>>> res = sqrt_nk_experiment(d=16, ks=(2,), ratios=(1, 2, 4), seeds=(0,))   # doctest: +SKIP
>>> res.slope.slope                                                          # doctest: +SKIP
>>> wide = sqrt_nk_experiment(d=8, ks=(2, 32), ratios={2: (1, 2, 4), 32: (1,)},
...                           seeds=(0,), time_limit={2: 10.0, 32: 5.0})      # doctest: +SKIP
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import mpmath
import numpy as np
from scipy import stats

import bounds
from bounds.data import random_signs, sphere
from bounds.errors import ParameterError
from bounds.rounding import nstr_directed

from certify.model import activations as _activations
from certify.harness.check import output_enclosure
from certify.harness.fit import margin_fit
from certify.methods.dispatch import lipschitz

__all__ = ["ExperimentPoint", "SlopeFit", "ExperimentResult", "fit_slope", "slope_range",
           "sqrt_nk_experiment", "certified_margin"]


@dataclass(frozen=True)
class ExperimentPoint:
    """One fitted and certified network.

    Attributes
    ----------
    n, k, d, seed : int
    ratio : float
        ``n / k``.
    fit_success : bool
        The fitter reached margin 1 in float64.
    margin : float
        Rigorous lower bound of ``min_i y_i f(x_i)`` (interval evaluation of the network).
    lower, upper : float
        Certified enclosure of the global l2 Lipschitz constant (``nan`` if not certified):
        ``lower`` is witnessed (the constant of the network is at least that), ``upper`` checked.
    method, exact : str, bool
        Certification method and whether the enclosure closed.
    upper_method, lower_method : str
        For ``method == "auto"``, the portfolio stage that supplied each end (``""`` otherwise).
    projection : float
        ``two_layer_projection`` lower bound on ``Lip`` of *any* ``k``-neuron network with this
        margin on this sample (rounded down; ``nan`` when the margin is not positive).
    proxy : float
        ``Lip(psi) ||a||_2 ||W||_op`` of the fitted network (float64, indicative).
    seconds : float
        Fit plus certification time.
    fit_seconds : float
        Unused (nan); kept for the CSV layout.
    attempts : int
        Fitter runs until the margin was reached (see :func:`_fit`), for the kept fit.
    fits : int
        Fits made on this sample; the one with the smallest certified constant is kept.
    """

    n: int
    k: int
    d: int
    seed: int
    ratio: float
    fit_success: bool
    margin: float
    lower: float
    upper: float
    method: str
    exact: bool
    projection: float
    proxy: float
    seconds: float
    fit_seconds: float = math.nan
    attempts: int = 1
    fits: int = 1
    upper_method: str = ""
    lower_method: str = ""

    @property
    def gap(self) -> float:
        """Relative gap ``(upper - lower) / upper`` of the certified enclosure (nan if none).

        ``upper`` exceeds the network's constant by a factor at most ``1 / (1 - gap)``.
        """
        if not (self.upper > 0) or math.isnan(self.lower):
            return math.nan
        return (self.upper - self.lower) / self.upper

    @property
    def usable(self) -> bool:
        """A certified fit with a positive verified margin."""
        return bool(self.fit_success and self.margin >= 1.0 and math.isfinite(self.upper))


@dataclass(frozen=True)
class SlopeFit:
    """Least-squares fit ``log y = intercept + slope log x`` with a t-interval on the slope.

    ``intercepts`` (group -> intercept) when the fit had one intercept per group.
    """

    slope: float
    intercept: float
    stderr: float
    ci_low: float
    ci_high: float
    confidence: float
    n_points: int
    r_value: float
    intercepts: dict | None = None

    def __str__(self):
        return (f"slope {self.slope:.3f}, {100 * self.confidence:g}% CI "
                f"[{self.ci_low:.3f}, {self.ci_high:.3f}] (n={self.n_points}, r={self.r_value:.3f})")

    def contains(self, value: float) -> bool:
        return bool(self.ci_low <= value <= self.ci_high)


def fit_slope(x, y, confidence: float = 0.95, groups=None) -> SlopeFit:
    """Log-log regression slope of ``y`` on ``x`` with a Student-t confidence interval.

    With ``groups``, the model is ``log y = a_g + slope log x``: one intercept per group (the
    within-group, or fixed-effects, slope).  The experiment groups by width, since the fitted
    networks' constants have a width-dependent level and the large widths cover fewer ratios: a
    single intercept would let that level tilt the slope.  When every group has the same ``x``
    values, both models give the same slope.

    Parameters
    ----------
    x, y : array_like of positive numbers (same length >= 3)
    confidence : float in (0, 1)
    groups : array_like, optional
        A label per point.  Groups with a single distinct ``x`` do not inform the slope.

    Returns
    -------
    SlopeFit
        ``intercept`` is that of the line with the fitted slope through the centroid of all
        points (for plots); ``intercepts`` maps each group to its own; ``r_value`` is the
        (within-group) correlation; the interval has ``n - groups - 1`` degrees of freedom.

    Raises
    ------
    ParameterError
        Fewer than 3 points (or no residual degree of freedom), non-positive values, ``x``
        constant within every group, or a bad confidence level.

    Examples
    --------
    >>> import numpy as np
    >>> x = np.array([1.0, 2.0, 4.0, 8.0]); f = fit_slope(x, 3 * x ** 0.5)
    >>> round(f.slope, 12), round(f.ci_high - f.ci_low, 12)
    (0.5, 0.0)
    >>> g = fit_slope([1, 2, 1, 2, 4], [1, 2, 10, 20, 40], groups=[1, 1, 2, 2, 2])
    >>> round(g.slope, 12), round(fit_slope([1, 2, 1, 2, 4], [1, 2, 10, 20, 40]).slope, 3)
    (1.0, 1.712)
    """
    if not 0 < confidence < 1:
        raise ParameterError("confidence", confidence, "(0, 1)")
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if x.shape != y.shape or x.ndim != 1 or x.size < 3:
        raise ParameterError("x, y", f"shapes {x.shape}, {y.shape}", "1-D arrays of equal length >= 3")
    if not (np.all(x > 0) and np.all(y > 0) and np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        raise ParameterError("x, y", "non-positive or non-finite values", "positive finite numbers")
    lx, ly = np.log(x), np.log(y)
    labels = np.zeros(x.size, dtype=int) if groups is None else _group_index(groups, x.size)
    cx, w = _within(lx, labels)
    if w is None:
        raise ParameterError("x", "constant" if groups is None else "constant within every group",
                             "at least two distinct values (in one group)")
    n_groups = int(labels.max()) + 1
    dof = x.size - n_groups - 1
    if dof < 1:
        raise ParameterError("x, y", f"{x.size} points in {n_groups} group(s)",
                             "more points than groups + 1")
    cy = ly - _group_means(ly, labels)[labels]
    slope = float(w @ ly)
    resid = cy - slope * cx
    stderr = float(math.sqrt(float(resid @ resid) / dof / float(cx @ cx)))
    denom = math.sqrt(float(cx @ cx) * float(cy @ cy))
    r = float(cx @ cy) / denom if denom > 0 else 1.0
    half = float(stats.t.ppf(0.5 + confidence / 2, df=dof)) * stderr
    means = _group_means(ly, labels) - slope * _group_means(lx, labels)
    names = [None] if groups is None else list(dict.fromkeys(np.asarray(groups).tolist()))
    return SlopeFit(slope, float(np.mean(ly) - slope * np.mean(lx)), stderr, slope - half,
                    slope + half, float(confidence), int(x.size), r,
                    None if groups is None else {g: float(m) for g, m in zip(names, means)})


def _group_index(groups, size) -> np.ndarray:
    """Labels to ``0 .. G-1`` in order of first appearance."""
    groups = np.asarray(groups).tolist()
    if len(groups) != size:
        raise ParameterError("groups", f"{len(groups)} labels", f"one label per point ({size})")
    order = {g: i for i, g in enumerate(dict.fromkeys(groups))}
    return np.array([order[g] for g in groups], dtype=int)


def _group_means(v, labels) -> np.ndarray:
    return np.bincount(labels, weights=v) / np.bincount(labels)


def _within(lx, labels):
    """``log x`` centred per group and the weights ``w`` with ``slope = w @ log y`` (None if flat)."""
    cx = lx - _group_means(lx, labels)[labels]
    ss = float(cx @ cx)
    if not ss > 1e-24 * max(1.0, float(lx @ lx)):
        return cx, None
    return cx, cx / ss


def slope_range(x, lower, upper, groups=None) -> tuple[float, float]:
    """Range of the log-log least-squares slope when each ``y_i`` can be anywhere in ``[lower_i, upper_i]``.

    The slope of :func:`fit_slope` (with the same ``groups``) is linear in ``log y`` with weights
    ``w_i`` proportional to ``log x_i`` minus its (group) mean, so
    its extremes over the box are attained at vertices: the largest takes ``upper_i`` where
    ``w_i > 0`` and ``lower_i`` where ``w_i < 0``.  With certified enclosures this is the range of
    slopes compatible with the networks' true constants (float64 arithmetic; a statement about
    the fitted line, not a confidence interval).

    Parameters
    ----------
    x : array_like of positive numbers with at least two distinct values (in one group)
    lower, upper : array_like of positive numbers, ``lower <= upper``
    groups : array_like, optional
        One label per point, as for :func:`fit_slope`.

    Raises
    ------
    ParameterError
        Shapes differ, fewer than 2 points, non-positive values, ``lower > upper``, constant ``x``.

    Examples
    --------
    >>> lo, hi = slope_range([1.0, 4.0], [1.0, 2.0], [1.0, 2.0])     # exact data: one slope
    >>> round(lo, 12), round(hi, 12)
    (0.5, 0.5)
    >>> lo, hi = slope_range([1.0, 4.0], [1.0, 1.0], [2.0, 2.0])     # a factor 2 of play each
    >>> round(lo, 12), round(hi, 12)
    (-0.5, 0.5)
    """
    x, lo, hi = (np.asarray(v, dtype=float) for v in (x, lower, upper))
    if not (x.shape == lo.shape == hi.shape and x.ndim == 1 and x.size >= 2):
        raise ParameterError("x, lower, upper", f"shapes {x.shape}, {lo.shape}, {hi.shape}",
                             "1-D arrays of equal length >= 2")
    if not all(np.all(v > 0) and np.all(np.isfinite(v)) for v in (x, lo, hi)):
        raise ParameterError("x, lower, upper", "non-positive or non-finite values",
                             "positive finite numbers")
    if np.any(lo > hi):
        raise ParameterError("lower, upper", "lower > upper somewhere", "lower <= upper")
    labels = np.zeros(x.size, dtype=int) if groups is None else _group_index(groups, x.size)
    _, w = _within(np.log(x), labels)
    if w is None:
        raise ParameterError("x", "constant" if groups is None else "constant within every group",
                             "at least two distinct values (in one group)")
    llo, lhi = np.log(lo), np.log(hi)
    top = float(np.sum(np.where(w > 0, w * lhi, w * llo)))
    bottom = float(np.sum(np.where(w > 0, w * llo, w * lhi)))
    return bottom, top


def certified_margin(net, X, y) -> float:
    """Rigorous lower bound of ``min_i y_i f(x_i)`` (outward-rounded interval evaluation)."""
    enc = output_enclosure(net, X)
    lo = np.asarray(enc.lo, dtype=float).reshape(len(y), -1)[:, 0]
    hi = np.asarray(enc.hi, dtype=float).reshape(len(y), -1)[:, 0]
    return float(np.min(np.where(np.asarray(y) > 0, lo, -hi)))


@dataclass
class ExperimentResult:
    """All points of :func:`sqrt_nk_experiment`, the slope fits and the configuration.

    Attributes
    ----------
    points : list of ExperimentPoint
    slope : SlopeFit or None
        Log-log fit of the certified **upper** ends against ``n/k`` (an upper-envelope slope).
    slope_projection : SlopeFit or None
        Of the projection floors.
    config : dict
        The arguments; ``config["grid"]`` maps each width to its ratios, seeds, fits,
        iterations, restarts and time limit.
    elapsed : float
    notes : list of str
    slope_lower : SlopeFit or None
        Log-log fit of the witnessed **lower** ends.
    slope_range : (float, float) or None
        :func:`slope_range` of the usable points: the least-squares slope of any constants
        inside the enclosures lies in it.
    """

    points: list
    slope: SlopeFit | None
    slope_projection: SlopeFit | None
    config: dict
    elapsed: float
    notes: list = field(default_factory=list)
    slope_lower: SlopeFit | None = None
    slope_range: tuple | None = None

    @property
    def usable(self) -> list:
        return [p for p in self.points if p.usable]

    @property
    def failures(self) -> list:
        return [p for p in self.points if not p.usable]

    def floor_respected(self) -> bool:
        """Every certified upper bound is at least the rigorous projection floor (soundness)."""
        return all(p.upper >= p.projection for p in self.usable if math.isfinite(p.projection))

    def conjecture_scale(self) -> float:
        """Constant ``C`` of the conjecture's curve ``C sqrt(n/k)`` through the data's geometric mean.

        The conjecture's constant is unspecified; this only places the curve's *shape* on the plot.
        """
        pts = self.usable
        if not pts:
            return math.nan
        return float(np.exp(np.mean([math.log(p.upper) - 0.5 * math.log(p.ratio) for p in pts])))

    def grid_description(self) -> str:
        """The per-width grid in words, widths with the same settings grouped."""
        groups: dict = {}
        for k, g in self.config["grid"].items():
            key = (tuple(g["ratios"]), tuple(g["seeds"]), g["fits_per_sample"], g["time_limit"])
            groups.setdefault(key, []).append(k)
        parts = []
        for (ratios, seeds, fits, limit), ks in groups.items():
            parts.append(f"k in {ks}: n/k in [{', '.join(_num(r) for r in ratios)}], seeds {list(seeds)}, best of "
                         f"{fits} fit(s) per sample, {_num(limit)} s per certification")
        return "; ".join(parts)

    def gap_description(self) -> str:
        """Per width: the certified enclosures that did not close, each with its relative gap."""
        parts = []
        for k in sorted({p.k for p in self.usable}):
            pts = [p for p in self.usable if p.k == k]
            open_ = [p for p in pts if not p.gap <= _CLOSED]
            if not open_:
                parts.append(f"k={k}: all {len(pts)} enclosures closed (largest gap "
                             f"{_shown(max(p.gap for p in pts), 2, 'up')})")
                continue
            gaps = sorted(p.gap for p in open_)
            head = (f"k={k}: {len(pts) - len(open_)} of {len(pts)} enclosures closed, the open "
                    f"ones with gap median {_percent_up(float(np.median(gaps)))}, max "
                    f"{_percent_up(gaps[-1])}")
            if len(open_) <= 8:
                head += " (" + ", ".join(
                    f"n={p.n} seed {p.seed}: [{_shown(p.lower, 4, 'down')}, "
                    f"{_shown(p.upper, 4, 'up')}] gap {_percent_up(p.gap)}"
                    for p in open_) + ")"
            parts.append(head)
        return "; ".join(parts)

    def summary(self) -> str:
        """A few lines: configuration, enclosures and gaps, slopes with CIs, failures, floor check."""
        c = self.config
        lines = [f"d={c['d']}; {self.grid_description()}; "
                 f"{len(self.usable)} certified fits, {len(self.failures)} fits without margin 1 "
                 f"(excluded); {self.elapsed:.1f} s"]
        if self.usable:
            lines.append("certified enclosures [lower, upper] of Lip, relative gap (upper - lower) / "
                         f"upper: {self.gap_description()}")
        if self.slope is not None:
            lines.append(f"certified Lip (upper ends) vs n/k: {self.slope} (descriptive, not a test "
                         "of the conjecture, which is about the best fit: this slope describes "
                         "margin_fit's networks; 0.5 is "
                         f"{'inside' if self.slope.contains(0.5) else 'outside'} its CI)")
        if self.slope_lower is not None:
            lines.append(f"witnessed Lip (lower ends) vs n/k: {self.slope_lower}")
        if self.slope_range is not None:
            lo, hi = self.slope_range
            lines.append(f"least-squares slope of any constants inside the enclosures: in "
                         f"[{lo:.3f}, {hi:.3f}]")
        if self.slope_projection is not None:
            lines.append(f"projection floor vs n/k: {self.slope_projection}")
        lines.append("every certified constant >= its projection floor: "
                     + ("yes" if self.floor_respected() else "NO (soundness problem)"))
        return "\n".join(lines)

    def to_table(self):
        """The points as a :class:`bounds.tables.Table`."""
        from bounds.tables import Column, Table
        cols = [Column("n", kind="number"), Column("k", kind="number"),
                Column("ratio", "n/k", "$n/k$"), Column("seed", kind="number"),
                Column("margin", "verified margin", kind="lower", digits=3),
                Column("lower", "Lip lower", r"$\operatorname{Lip}$ lower", kind="lower"),
                Column("upper", "Lip upper", r"$\operatorname{Lip}$ upper", kind="upper"),
                Column("gap", "relative gap", "relative gap", kind="upper", digits=2),
                Column("projection", "projection floor", kind="lower"),
                Column("proxy", "Lip(psi) ||a|| ||W||_op",
                   r"$\operatorname{Lip}(\psi) \|a\|_2 \|W\|_{op}$"),
                Column("method", kind="text"), Column("ends", "ends from", kind="text")]
        rows = [{**p.__dict__, "upper": p.upper, "gap": p.gap,
                 "ends": f"{p.upper_method} / {p.lower_method}" if p.upper_method else ""}
                for p in self.points]
        return Table("Certified Lipschitz constants of fitted two-layer ReLU networks", cols, rows,
                     caption=self.summary().replace("\n", "; "), notes=list(self.notes),
                     label="tab:sqrt_nk")

    def plot(self, stem) -> list:
        """Write ``stem.png`` and ``stem.pdf`` (log-log, certified constants vs bounds); return paths."""
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        stem = Path(stem)
        stem.parent.mkdir(parents=True, exist_ok=True)
        from matplotlib.ticker import NullFormatter, ScalarFormatter

        fig, ax = plt.subplots(figsize=(7.0, 6.2), constrained_layout=True)
        ks = sorted({p.k for p in self.points})
        markers = dict(zip(ks, "osD^v<>p"))
        colors = dict(zip(ks, plt.get_cmap("tab10").colors))
        for k in ks:
            pts = [p for p in self.usable if p.k == k]
            if not pts:
                continue
            r = np.array([p.ratio for p in pts])
            # a small horizontal jitter per width keeps coincident points visible
            jit = r * (1 + 0.03 * (ks.index(k) - (len(ks) - 1) / 2))
            ax.errorbar(jit, [p.upper for p in pts],
                        yerr=[[p.upper - p.lower for p in pts], [0.0] * len(pts)],
                        fmt=markers[k], color=colors[k], ms=7, mfc="none", mew=1.5, ls="none",
                        label=f"certified Lip of fitted net, k={k}")
            proj = [(j, p.projection) for j, p in zip(jit, pts) if math.isfinite(p.projection)]
            if proj:
                pr = np.array(proj)
                ax.plot(pr[:, 0], pr[:, 1], markers[k], color=colors[k], ms=5, alpha=0.6,
                        label=f"projection floor (rigorous, any k-neuron fit), k={k}")
        allr = np.array([p.ratio for p in self.usable]) if self.usable else np.array([1.0, 2.0])
        grid = np.geomspace(allr.min(), allr.max(), 100)
        C = self.conjecture_scale()
        if math.isfinite(C):
            ax.plot(grid, C * np.sqrt(grid), "k--", lw=1.4,
                    label=rf"conjecture's shape $C\sqrt{{n/k}}$ (C = {C:.2g} fitted through the "
                          "data's geometric mean; the true constant is unspecified)")
        if self.slope is not None:
            s = self.slope
            label = (f"least-squares fit of the upper ends, one level per width: slope "
                     f"{s.slope:.2f}, {100 * s.confidence:g}% CI [{s.ci_low:.2f}, {s.ci_high:.2f}]")
            for k, a in (s.intercepts or {}).items():
                r = [p.ratio for p in self.usable if p.k == k]
                if len(set(r)) < 2:
                    continue
                g = np.geomspace(min(r), max(r), 20)
                ax.plot(g, np.exp(a) * g ** s.slope, "-", color=colors[k], lw=1.0, alpha=0.8,
                        label=label)
                label = None
        ax.set_xscale("log")
        ax.set_yscale("log")
        ticks = sorted({p.ratio for p in self.points})
        ax.set_xticks(ticks)
        for axis in (ax.xaxis, ax.yaxis):
            axis.set_major_formatter(ScalarFormatter())
            axis.set_minor_formatter(NullFormatter())
        ax.set_xlabel("n / k  (samples per neuron)")
        ax.set_ylabel("global l2 Lipschitz constant (certified)")
        c = self.config
        fits = sorted({g["fits_per_sample"] for g in c["grid"].values()})
        fits = f"{fits[0]}" if len(fits) == 1 else f"{fits[0]}-{fits[-1]}"
        ax.set_title(f"Two-layer {c['activation']} fits, n points on the sphere in R^{c['d']}, "
                     f"random signs\nmargin_fit, weight decay {c['weight_decay']:g}, best of "
                     f"{fits} fit(s) per sample; "
                     f"{len(self.usable)} fits certified, {len(self.failures)} excluded",
                     fontsize=10)
        ax.grid(True, which="major", alpha=0.3)
        ax.legend(fontsize=7.5, loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=1,
                  frameon=False)
        paths = [Path(f"{stem}.png"), Path(f"{stem}.pdf")]
        fig.savefig(paths[0], dpi=150)
        fig.savefig(paths[1])
        plt.close(fig)
        return paths


_CLOSED = 1e-6  # a relative gap this small is reported as a closed enclosure


def _num(x) -> str:
    """``2`` for 2.0, ``0.5`` for 0.5: grid values as a user writes them."""
    return f"{float(x):g}"


def _shown(x: float, digits: int, rounding: str) -> str:
    """A float to ``digits`` significant digits, rounded in the direction that keeps it valid."""
    return nstr_directed(mpmath.mpf(x), digits, rounding)  # mpf(float) is exact at 53 bits


def _percent_up(gap: float) -> str:
    """A relative gap as a percentage with one decimal, rounded up (never understated)."""
    return f"{math.ceil(1000 * gap) / 10:.1f}%"


def _proxy(net) -> float:
    W, _, a = net.as_two_layer()
    return float(net.activations[0].lipschitz * np.linalg.norm(a) * np.linalg.norm(W, 2))


def _projection(X, y, k, margin) -> float:
    if not margin > 0:
        return math.nan
    rec = bounds.get("two_layer_projection")
    b = rec.from_data(X, y, k=k, gap=2 * margin)
    return float(b)


def _fit(X, y, k, seed, weight_decay, max_iter, restarts, activation):
    """``margin_fit`` from fresh initialisations until one reaches margin 1 (at most ``restarts + 1``).

    A run can stop at a stationary point where a ReLU is dead on a misfitted point (zero gradient
    there); a new initialisation, not more iterations, is what helps, so each run is short.
    """
    best = None
    for attempt in range(restarts + 1):
        fit = margin_fit(X, y, k, seed=[seed, attempt], weight_decay=weight_decay,
                         max_iter=max_iter, restarts=0, activation=activation)
        if best is None or fit.min_margin > best.min_margin:
            best = fit
        if fit.success:
            break
    return best, attempt + 1


def _experiment_point(k, n, s, d, weight_decay, max_iter, restarts, activation, fits_per_sample,
                      time_limit) -> ExperimentPoint:
    """One ``(k, n, seed)`` point of :func:`sqrt_nk_experiment`: sample, fit, certify.

    Of ``fits_per_sample`` fits, those reaching the verified margin are certified and the one with
    the smallest certified upper end is kept; a fit missing the margin is certified only when no
    fit reached it (it is then shown, excluded, with the largest margin found), since at large
    widths each certification costs its whole time limit.
    """
    t1 = time.perf_counter()
    # one sample per (n, seed), shared by the widths: the k-dependence is then not sample noise
    X = sphere(n, d, seed=10_000 + 97 * s + n)
    y = random_signs(n, seed=20_000 + 97 * s + n)
    if np.all(y == y[0]):
        y = y.copy()
        y[0] = -y[0]  # the projection bound needs both labels; documented in the notes
    best = missed = None
    for j in range(fits_per_sample):
        # the first fit uses the plain seed, so fits_per_sample=1 reproduces earlier runs
        fit, attempts = _fit(X, y, k, s if j == 0 else [s, 100 + j], weight_decay, max_iter,
                             restarts, activation)
        margin = certified_margin(fit.network, X, y)
        if not (fit.success and margin >= 1.0):
            if missed is None or margin > missed[2]:
                missed = (fit, attempts, margin)
            continue
        cert = lipschitz(fit.network, norm=2, domain=None, time_limit=time_limit)
        if best is None or float(cert.upper) < float(best[3].upper):
            best = (fit, attempts, margin, cert)
    if best is None:
        fit, attempts, margin = missed
        best = (fit, attempts, margin,
                lipschitz(fit.network, norm=2, domain=None, time_limit=time_limit))
    fit, attempts, margin, cert = best
    net = fit.network
    return ExperimentPoint(
        n=n, k=k, d=d, seed=s, ratio=n / k, fit_success=bool(fit.success), margin=margin,
        lower=float(cert.lower), upper=float(cert.upper), method=cert.method,
        exact=bool(cert.exact), projection=_projection(X, y, k, margin),
        proxy=_proxy(net), seconds=time.perf_counter() - t1, fit_seconds=math.nan,
        attempts=attempts, fits=fits_per_sample,
        upper_method=str(cert.details.get("upper_method", "")),
        lower_method=str(cert.details.get("lower_method", "")))


def _count(name, v, low=1) -> int:
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < low:
        raise ParameterError(name, v, f"integers >= {low}")
    return int(v)


def _seconds(name, v) -> float:
    if isinstance(v, bool) or not isinstance(v, (int, float, np.integer, np.floating)) \
            or not (0 < float(v) < math.inf):
        raise ParameterError(name, v, "a positive finite number of seconds")
    return float(v)


def _ratios(name, v) -> tuple:
    if isinstance(v, (str, bytes)) or not isinstance(v, (Sequence, np.ndarray)) or len(v) == 0 \
            or any(isinstance(r, bool) or not isinstance(r, (int, float, np.integer, np.floating))
                   or not (0 < float(r) < math.inf) for r in v):
        raise ParameterError(name, v, "a non-empty sequence of positive numbers")
    return tuple(float(r) for r in v)


def _seeds(name, v) -> tuple:
    if isinstance(v, (str, bytes)) or not isinstance(v, (Sequence, np.ndarray)) or len(v) == 0:
        raise ParameterError(name, v, "a non-empty sequence of integers >= 0")
    return tuple(_count(name, s, 0) for s in v)


def _per_width(name, value, ks, check) -> dict:
    """``{k: check(value)}``, or ``{k: check(value[k])}`` when ``value`` is a mapping over the widths."""
    if isinstance(value, Mapping):
        keys = {_count(f"{name} (a width)", k) for k in value}
        if keys != set(ks):
            raise ParameterError(name, value, f"one entry for each width in ks={list(ks)}",
                                 f"keys {sorted(keys)}")
        return {k: check(f"{name}[{k}]", value[k]) for k in ks}
    checked = check(name, value)
    return {k: checked for k in ks}


def sqrt_nk_experiment(d: int = 32, ks: Sequence[int] = (2, 4, 8),
                       ratios: Sequence[float] | Mapping = (1, 2, 4, 8),
                       seeds: Sequence[int] | Mapping = (0, 1, 2), *, weight_decay: float = 1e-4,
                       max_iter: int | Mapping = 300, restarts: int | Mapping = 3,
                       activation: str = "leaky_relu:0.1",
                       fits_per_sample: int | Mapping = 1,
                       time_limit: float | Mapping = 10.0,
                       confidence: float = 0.95,
                       progress: Callable[[int, int, str], None] | None = None,
                       executor=None, workers: int | None = 1) -> ExperimentResult:
    """Fit, certify and regress ``log Lip`` on ``log(n/k)``.

    Each of ``ratios``, ``seeds``, ``max_iter``, ``restarts``, ``fits_per_sample`` and
    ``time_limit`` is either one value for every width or a mapping ``{k: value}`` with one entry
    per width in ``ks``: large widths cost far more to fit and certify, so a design can give them
    fewer ratios and seeds and a longer time limit.

    Parameters
    ----------
    d : int
        Input dimension (points on ``S^{d-1}``).
    ks : sequence of int
        Widths, each ``>= 1``.  For ``k <= d`` the exact method closes the enclosure fast; for
        ``k > d`` the enclosure is what the portfolio reaches in ``time_limit`` and its relative
        gap is reported per point.
    ratios : sequence of numbers, or mapping
        Values of ``n/k``; ``n = round(ratio * k)`` (combinations with ``n < 2`` are skipped).
    seeds : sequence of int, or mapping
        One sample per seed and per ``(k, n)`` (shared by the widths with the same ``n``).
    weight_decay
        Passed to :func:`certify.harness.fit.margin_fit` (margin 1, squared hinge).
    max_iter : int or mapping
        L-BFGS-B iterations per fitter run.  Large widths need more: measured on this design
        (``d = 32``, leaky ReLU 0.1), ``k = 256`` reaches the margin at ``n/k = 2`` in about 200
        iterations but not at ``n/k = 4`` in 300.
    restarts : int or mapping
        Fresh initialisations tried after a run that misses the margin.
    activation : str
        ``psi``.  Default leaky ReLU with slope 0.1: with plain ReLU, ``margin_fit`` often stalls at
        a stationary point where every unit is dead on a misfitted sample point (measured: 4 of 8
        runs reach the margin at ``n = k = 4, d = 16``, none of 8 at ``n = 32``), so the usable fits
        would be a biased subsample.  The projection floor holds for every activation, and the
        conjecture is stated for ``F_k(psi)`` with general ``psi``.
    fits_per_sample : int or mapping
        Independent fits per sample; the smallest certified constant among those reaching the
        margin is kept (a better upper estimate of the least constant the conjecture is about).
    time_limit : float or mapping
        Seconds per certification (``lipschitz`` is anytime: an unfinished run still gives a
        rigorous enclosure, whose gap the point reports).
    confidence : float
        Of the slopes' t-intervals.
    progress : callable, optional
        ``progress(done, total, label)`` after each point.
    executor, workers
        Where the points run (:func:`certify.harness.campaign.map_trials`): default one after the
        other in this process, ``workers=N`` a local process pool, or any executor.  Each point
        is seeded by its ``(n, seed)``, so the result does not depend on them (``seconds`` aside,
        and the enclosures of certifications stopped by their time limit, which depend on the
        machine's speed).

    Returns
    -------
    ExperimentResult

    Raises
    ------
    ParameterError
        A width ``< 1`` or not an integer, an empty or non-positive grid, a mapping without an
        entry for some width, a bad count or time limit.
    """
    d = _count("d", d)
    if isinstance(ks, (str, bytes)) or not isinstance(ks, (Sequence, np.ndarray)) or len(ks) == 0:
        raise ParameterError("ks", ks, "a non-empty sequence of integers >= 1")
    ks = [_count("ks", k) for k in ks]
    _activations.get(activation)  # unknown names fail here, before any fitting
    grid = {k: {} for k in ks}
    for name, value, check in (("ratios", ratios, _ratios), ("seeds", seeds, _seeds),
                               ("max_iter", max_iter, _count), ("restarts", restarts,
                                                                lambda nm, v: _count(nm, v, 0)),
                               ("fits_per_sample", fits_per_sample, _count),
                               ("time_limit", time_limit, _seconds)):
        for k, v in _per_width(name, value, ks, check).items():
            grid[k][name] = v
    if not 0 < confidence < 1:
        raise ParameterError("confidence", confidence, "(0, 1)")
    jobs = [(k, int(round(r * k)), s) for k in ks for r in grid[k]["ratios"]
            for s in grid[k]["seeds"]]
    jobs = [j for j in jobs if j[1] >= 2]
    t0 = time.perf_counter()
    from certify.harness.campaign import map_trials
    done = [0]

    def report(i, res):
        done[0] += 1
        if progress is not None:
            k, n, s = jobs[i]
            progress(done[0], len(jobs), f"k={k} n={n} seed={s}")

    def args(k, n, s):
        g = grid[k]
        return (k, n, s, d, weight_decay, g["max_iter"], g["restarts"], activation,
                g["fits_per_sample"], g["time_limit"])

    results = map_trials(_experiment_point, [args(*j) for j in jobs],
                         executor=executor, workers=workers, on_result=report)
    failed = [(jobs[i], r.error) for i, r in enumerate(results) if not r.ok]
    if failed:
        raise RuntimeError(f"sqrt_nk_experiment: point (k, n, seed) = {failed[0][0]} failed: "
                           f"{failed[0][1]}")
    points = [r.value for r in results]
    usable = [p for p in points if p.usable]
    slope = slope_proj = slope_low = srange = None
    if len({p.ratio for p in usable}) >= 2 and len(usable) >= 3:
        x, widths = [p.ratio for p in usable], [p.k for p in usable]
        try:
            slope = fit_slope(x, [p.upper for p in usable], confidence, groups=widths)
            if all(p.lower > 0 for p in usable):
                slope_low = fit_slope(x, [p.lower for p in usable], confidence, groups=widths)
                srange = slope_range(x, [p.lower for p in usable], [p.upper for p in usable],
                                     groups=widths)
        except ParameterError:
            pass  # no width with two ratios, or no residual degree of freedom: no slope
        proj = [p for p in usable if math.isfinite(p.projection) and p.projection > 0]
        try:
            slope_proj = fit_slope([p.ratio for p in proj], [p.projection for p in proj],
                                   confidence, groups=[p.k for p in proj])
        except ParameterError:
            pass
    config = dict(d=d, ks=tuple(ks), ratios=ratios, seeds=seeds,
                  weight_decay=weight_decay, max_iter=max_iter, restarts=restarts,
                  time_limit=time_limit, activation=activation, fits_per_sample=fits_per_sample,
                  fitter="certify.harness.fit.margin_fit (margin 1, squared hinge)", grid=grid)
    notes = ["Fits that did not reach a verified margin of 1 are excluded from the slope and shown "
             "in the table.",
             "Each certified constant is an enclosure [lower, upper] of the fitted network's global "
             "l2 Lipschitz constant: lower is witnessed (an input pair attains it), upper is "
             "checked. At widths k <= d it closes (relative gap below 1e-6); at k > d it is what the "
             "portfolio reaches in its time limit, with the relative gap (upper - lower) / upper "
             "stated per point.",
             "The slope is fitted with one intercept per width (the fitted networks' constants "
             "have a width-dependent level, and the wide widths cover fewer ratios); a width "
             "with a single ratio does not inform it.",
             "The slope is fitted to the upper ends, so it is the slope of an upper envelope of "
             "the constants: an upper end exceeds the network's constant by a factor at most "
             "1 / (1 - gap), and where gaps are large and differ between ratios the slope of the "
             "upper ends can differ from that of the true constants. The slope of the witnessed "
             "lower ends and the range of least-squares slopes compatible with all enclosures "
             "are stated next to it; only where that range is narrow do the gaps not matter.",
             "The conjecture's constant is unspecified: its curve is drawn through the geometric "
             "mean of the data to show the shape only.",
             "two_layer_spectral bounds Lip(psi) ||a||_2 ||W||_op of zero-bias fits; margin_fit trains "
             "biases, so that bound is not applicable to these networks."]
    return ExperimentResult(points, slope, slope_proj, config, time.perf_counter() - t0, notes,
                            slope_low, srange)

"""Data models: the distributions the theorems' hypotheses are about.

Two layers:

* seeded samplers returning arrays -- :func:`sphere`, :func:`gaussian`, :func:`cube`,
  :func:`mixture` for inputs, :func:`random_signs` for labels;
* frozen descriptions -- :class:`Measure` (an input distribution: its name, dimension, support,
  number of mixture components ``K`` and isoperimetry constant ``c``), :class:`Labels` (how ``y``
  depends on ``x``, with ``sigma2 = E Var(y | x)`` computed *exactly*) and :class:`DataModel`
  (both together), whose :meth:`DataModel.theorem_parameters` gives the ``c, K, sigma2, d, R, D``
  the catalogue's statements need.

Conventions
-----------
* ``seed`` is anything :func:`numpy.random.default_rng` accepts (``None``, an int, a
  ``SeedSequence`` or a ``Generator``): the same integer seed always gives the same sample.
* ``gaussian`` is ``N(0, I_d / d)`` (so ``E ||x||^2 = 1``), ``cube`` is the uniform measure on the
  *solid* cube of diameter 1 centred at 0, i.e. ``[-1/(2 sqrt d), 1/(2 sqrt d)]^d``, and ``sphere``
  the uniform measure on the sphere of radius ``r`` centred at 0 -- the three examples of
  [BS21, Section 1].
* Labels live in ``[-1, 1]`` as in the theorems; a label model that could leave this interval is
  refused when it is built, and a target function that leaves its declared bound on a sample
  raises :class:`~bounds.errors.ParameterError` instead of silently clipping.

Examples
--------
>>> from bounds.data import DataModel, Measure, random_signs_labels
>>> model = DataModel(Measure.sphere(5), random_signs_labels())
>>> X, y = model.sample(4, seed=0)
>>> X.shape, sorted(set(y.tolist())) <= [-1.0, 1.0]
((4, 5), True)
>>> model.sigma2
Fraction(1, 1)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import numpy as np
import sympy

from .errors import ParameterError

__all__ = [
    "sphere", "gaussian", "cube", "mixture", "random_signs",
    "Measure", "Noise", "symmetric_noise", "Labels", "random_signs_labels",
    "target_plus_noise", "DataModel", "MEASURES",
]

#: names of the base measures (mixtures are built from them)
MEASURES = ("sphere", "gaussian", "cube")


# ----------------------------------------------------------------------------------------------
# validation helpers
# ----------------------------------------------------------------------------------------------

def _count(name: str, value, low: int = 1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ParameterError(name, value, f"integers >= {low}", "must be an integer")
    if value < low:
        raise ParameterError(name, value, f"integers >= {low}")
    return int(value)


def _positive(name: str, value) -> float:
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise ParameterError(name, value, "(0, inf)", "not a real number") from None
    if isinstance(value, bool) or not (v > 0) or not math.isfinite(v):
        raise ParameterError(name, value, "(0, inf)")
    return v


def _rng(seed) -> np.random.Generator:
    try:
        return np.random.default_rng(seed)
    except (TypeError, ValueError) as exc:
        raise ParameterError("seed", seed, "None, a non-negative int, a SeedSequence or a Generator",
                             str(exc)) from None


# ----------------------------------------------------------------------------------------------
# samplers (arrays)
# ----------------------------------------------------------------------------------------------

def sphere(n: int, d: int, r: float = 1.0, seed=None) -> np.ndarray:
    """``n`` points uniform on the sphere ``{||x|| = r}`` of ``R^d``, shape ``(n, d)``.

    Normalised Gaussian vectors (rotation invariance makes their direction uniform).

    >>> X = sphere(3, 4, r=2.0, seed=1)
    >>> np.allclose(np.linalg.norm(X, axis=1), 2.0)
    True
    """
    n, d, r = _count("n", n), _count("d", d), _positive("r", r)
    g = _rng(seed).standard_normal((n, d))
    norms = np.linalg.norm(g, axis=1, keepdims=True)
    # a zero Gaussian vector has probability 0 (and never happens in float64 in practice)
    return r * g / norms


def gaussian(n: int, d: int, seed=None) -> np.ndarray:
    """``n`` points from ``N(0, I_d / d)``, shape ``(n, d)``."""
    n, d = _count("n", n), _count("d", d)
    return _rng(seed).standard_normal((n, d)) / math.sqrt(d)


def cube(n: int, d: int, seed=None) -> np.ndarray:
    """``n`` points uniform on the solid cube of diameter 1 centred at 0, shape ``(n, d)``.

    The cube is ``[-h, h]^d`` with ``h = 1 / (2 sqrt d)``, so opposite corners are at distance 1.
    """
    n, d = _count("n", n), _count("d", d)
    h = 0.5 / math.sqrt(d)
    return _rng(seed).uniform(-h, h, size=(n, d))


def mixture(components, weights, n: int, seed=None, return_components: bool = False):
    """``n`` points from the mixture ``sum_l weights[l] * components[l]``.

    Parameters
    ----------
    components : sequence of Measure or callables ``(n, rng) -> (n, d) array``
    weights : sequence of float
        Non-negative, summing to 1 (up to 1e-12).
    n : int
    seed : optional
    return_components : bool
        Also return the index of the component each point was drawn from.

    Returns
    -------
    X : ndarray of shape (n, d), and the component indices if requested.
    """
    n = _count("n", n)
    comps, w = _check_mixture(components, weights)
    rng = _rng(seed)
    which = rng.choice(len(comps), size=n, p=w)
    parts, d = {}, None
    for j, comp in enumerate(comps):
        m = int(np.sum(which == j))
        Xj = comp.sample_inputs(m, rng) if isinstance(comp, Measure) else np.asarray(comp(m, rng), float)
        if Xj.ndim != 2 or Xj.shape[0] != m:
            raise ParameterError("components", comp, "samplers returning (n, d) arrays",
                                 f"component {j} returned shape {Xj.shape} for n={m}")
        if d is not None and Xj.shape[1] != d:
            raise ParameterError("components", comp, "components of one dimension d",
                                 f"component {j} has d={Xj.shape[1]}, an earlier one d={d}")
        d = Xj.shape[1]
        parts[j] = Xj
    X = np.empty((n, d))
    for j, Xj in parts.items():
        X[which == j] = Xj
    return (X, which) if return_components else X


def _check_mixture(components, weights):
    comps = tuple(components)
    if not comps:
        raise ParameterError("components", components, "a non-empty sequence")
    try:
        w = np.asarray(weights, dtype=float)
    except (TypeError, ValueError):
        raise ParameterError("weights", weights, "a sequence of probabilities") from None
    if w.shape != (len(comps),):
        raise ParameterError("weights", weights, f"{len(comps)} probabilities, one per component")
    if not np.all(np.isfinite(w)) or np.any(w < 0) or abs(w.sum() - 1) > 1e-12:
        raise ParameterError("weights", weights, "non-negative numbers summing to 1")
    return comps, w / w.sum()


def random_signs(n: int, seed=None) -> np.ndarray:
    """``n`` i.i.d. labels uniform on ``{-1, +1}`` (float64)."""
    n = _count("n", n)
    return _rng(seed).choice(np.array([-1.0, 1.0]), size=n)


# ----------------------------------------------------------------------------------------------
# input measures
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Measure:
    """An input distribution on ``R^d`` as the theorems see it.

    Build with :meth:`sphere`, :meth:`gaussian`, :meth:`cube`, :meth:`mixture`; translate with
    :meth:`shifted`.

    Attributes
    ----------
    name : {"sphere", "gaussian", "cube", "mixture"}
    d : int
    r : float
        Sphere radius (1 for the other measures).
    shift : tuple of float or None
        Translation of the measure (``None``: centred at 0).
    components : tuple of Measure
        Mixture components (empty for a base measure).
    weights : tuple of float
        Mixture weights.
    """

    name: str
    d: int
    r: float = 1.0
    shift: tuple | None = None
    components: tuple = ()
    weights: tuple = ()

    def __post_init__(self):
        if self.name not in MEASURES + ("mixture",):
            raise ParameterError("name", self.name, ", ".join(MEASURES + ("mixture",)))
        _count("d", self.d)
        _positive("r", self.r)
        if self.shift is not None:
            s = np.asarray(self.shift, dtype=float)
            if s.shape != (self.d,) or not np.all(np.isfinite(s)):
                raise ParameterError("shift", self.shift, f"a finite vector of length d={self.d}")

    # -- constructors ------------------------------------------------------
    @classmethod
    def sphere(cls, d: int, r: float = 1.0) -> "Measure":
        """Uniform measure on the sphere of radius ``r`` in ``R^d``."""
        return cls("sphere", _count("d", d), _positive("r", r))

    @classmethod
    def gaussian(cls, d: int) -> "Measure":
        """``N(0, I_d / d)``."""
        return cls("gaussian", _count("d", d))

    @classmethod
    def cube(cls, d: int) -> "Measure":
        """Uniform measure on the solid cube of diameter 1 centred at 0."""
        return cls("cube", _count("d", d))

    @classmethod
    def mixture(cls, components, weights=None) -> "Measure":
        """Mixture of base measures (``weights`` default: uniform)."""
        comps = tuple(components)
        if not comps or not all(isinstance(c, Measure) and c.name != "mixture" for c in comps):
            raise ParameterError("components", components, "a non-empty sequence of base Measures")
        if weights is None:
            weights = [1.0 / len(comps)] * len(comps)
        comps, w = _check_mixture(comps, weights)
        ds = {c.d for c in comps}
        if len(ds) != 1:
            raise ParameterError("components", components, "measures of one dimension d",
                                 f"got dimensions {sorted(ds)}")
        return cls("mixture", ds.pop(), components=comps, weights=tuple(float(x) for x in w))

    def shifted(self, v) -> "Measure":
        """The measure translated by ``v`` (isoperimetry constants are translation invariant)."""
        if self.name == "mixture":
            raise ParameterError("v", v, "a translation of a base measure",
                                 "shift the components instead")
        s = np.asarray(v, dtype=float)
        return Measure(self.name, self.d, self.r, tuple(float(x) for x in np.ravel(s)))

    # -- what the theorems need ----------------------------------------------
    @property
    def K(self) -> int:
        """Number of mixture components (1 for a base measure)."""
        return len(self.components) if self.name == "mixture" else 1

    @property
    def c(self):
        """Isoperimetry constant, exact (a SymPy number), from :func:`bounds.isoperimetry.constant`.

        For a mixture, the largest constant of its components (a ``c``-isoperimetric measure is
        ``c'``-isoperimetric for every ``c' >= c``, and the theorems need one common ``c``).
        ``float(c)`` gives a number; the catalogue's entries take the exact value.

        Raises
        ------
        ParameterError
            For the sphere in ``d = 1`` (two points: not isoperimetric with a finite ``c``).
        """
        if self.name == "mixture":
            return sympy.Max(*(comp.c for comp in self.components))
        from .isoperimetry import constant
        kw = {"r": self.r} if self.name == "sphere" else {}
        return constant(self.name, d=self.d, **kw)

    def _center_norm(self) -> float:
        return 0.0 if self.shift is None else float(np.linalg.norm(self.shift))

    @property
    def radius(self) -> float:
        """``sup ||x||`` over the support (``inf`` for the Gaussian), rounded up."""
        if self.name == "mixture":
            return max(comp.radius for comp in self.components)
        own = {"sphere": self.r, "cube": 0.5, "gaussian": math.inf}[self.name]
        return _up(own + self._center_norm())

    @property
    def diameter(self) -> float:
        """An upper bound on the diameter of the support (exact for base measures, d >= 2)."""
        if self.name == "mixture":
            best = 0.0
            for a in self.components:
                for b in self.components:
                    ca = np.zeros(self.d) if a.shift is None else np.asarray(a.shift)
                    cb = np.zeros(self.d) if b.shift is None else np.asarray(b.shift)
                    best = max(best, float(np.linalg.norm(ca - cb)) + a.diameter / 2 + b.diameter / 2)
            return _up(best)
        if self.name == "sphere":
            # a sphere in R^1 is the two points {-r, r}: still diameter 2r
            return 2.0 * self.r
        return {"cube": 1.0, "gaussian": math.inf}[self.name]

    def support_box(self) -> tuple[np.ndarray, np.ndarray]:
        """A box ``(lo, hi)`` containing the support (outward rounded).

        Raises
        ------
        ParameterError
            For the Gaussian, whose support is all of ``R^d``.
        """
        if self.name == "mixture":
            boxes = [comp.support_box() for comp in self.components]
            return (np.min([b[0] for b in boxes], axis=0), np.max([b[1] for b in boxes], axis=0))
        if self.name == "gaussian":
            raise ParameterError("measure", self.name, "a measure with bounded support",
                                 "the Gaussian's support is all of R^d")
        h = self.r if self.name == "sphere" else 0.5 / math.sqrt(self.d)
        c = np.zeros(self.d) if self.shift is None else np.asarray(self.shift, dtype=float)
        return np.nextafter(c - h, -np.inf), np.nextafter(c + h, np.inf)

    def sample_inputs(self, n: int, seed=None) -> np.ndarray:
        """``n`` points from the measure, shape ``(n, d)``."""
        rng = _rng(seed)
        if self.name == "mixture":
            return mixture(self.components, self.weights, n, rng)
        X = {"sphere": lambda: sphere(n, self.d, self.r, rng),
             "gaussian": lambda: gaussian(n, self.d, rng),
             "cube": lambda: cube(n, self.d, rng)}[self.name]()
        return X if self.shift is None else X + np.asarray(self.shift)


def _up(x: float) -> float:
    return x if math.isinf(x) or x == 0 else math.nextafter(x, math.inf)


# ----------------------------------------------------------------------------------------------
# labels
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Noise:
    """A discrete noise distribution independent of ``x``: values with probabilities.

    Its mean must be 0, so that ``Var(y | x)`` equals the noise variance whatever the target.
    ``variance`` is exact: float values and probabilities are converted to :class:`Fraction`
    without rounding.
    """

    values: tuple
    probs: tuple

    def __post_init__(self):
        if len(self.values) != len(self.probs) or not self.values:
            raise ParameterError("probs", self.probs, "one probability per value")
        fv = [Fraction(v) for v in self.values]
        fp = [Fraction(p) for p in self.probs]
        if any(p < 0 for p in fp) or sum(fp) != 1:
            raise ParameterError("probs", self.probs, "non-negative numbers summing exactly to 1")
        if sum(v * p for v, p in zip(fv, fp)) != 0:
            raise ParameterError("values", self.values, "a mean-zero distribution")

    @property
    def variance(self) -> Fraction:
        """``E xi^2`` (the mean is 0), exactly."""
        return sum(Fraction(v) ** 2 * Fraction(p) for v, p in zip(self.values, self.probs))

    @property
    def bound(self) -> float:
        """``max |xi|``."""
        return max(abs(float(v)) for v, p in zip(self.values, self.probs) if Fraction(p) > 0)

    def sample(self, n: int, rng) -> np.ndarray:
        return _rng(rng).choice(np.asarray(self.values, float), size=n,
                                p=np.asarray([float(p) for p in self.probs]))


def symmetric_noise(s, q) -> Noise:
    """``xi = +s`` or ``-s`` with probability ``q/2`` each, else 0: variance ``s^2 q``.

    ``s`` and ``q`` may be ints, floats or Fractions (``Fraction(1, 3)`` for an exact third).

    >>> symmetric_noise(0.5, 0.5).variance
    Fraction(1, 8)
    """
    fs, fq = Fraction(s), Fraction(q)
    if not 0 < fq <= 1:
        raise ParameterError("q", q, "(0, 1]")
    if not 0 < fs <= 1:
        raise ParameterError("s", s, "(0, 1]")
    if fq == 1:
        return Noise((s, -s), (Fraction(1, 2), Fraction(1, 2)))
    return Noise((s, -s, 0), (fq / 2, fq / 2, 1 - fq))


@dataclass(frozen=True)
class Labels:
    """``y = target(x) + xi`` with ``xi`` drawn from ``noise`` independently of ``x``.

    Attributes
    ----------
    noise : Noise
    target : callable or None
        ``target(X) -> (n,)`` array; ``None`` for the zero function.
    target_bound : float
        Declared ``sup |target|``; ``target_bound + noise.bound <= 1`` keeps ``y`` in ``[-1, 1]``.
    name : str
    """

    noise: Noise
    target: Callable | None = field(default=None, compare=False)
    target_bound: float = 0.0
    name: str = "target_plus_noise"

    def __post_init__(self):
        tb = float(self.target_bound)
        if not (tb >= 0) or not math.isfinite(tb):
            raise ParameterError("target_bound", self.target_bound, "[0, inf)")
        if self.target is None and tb != 0:
            raise ParameterError("target_bound", self.target_bound, "0 when target is None")
        if tb + self.noise.bound > 1:
            raise ParameterError("target_bound", self.target_bound,
                                 f"[0, {1 - self.noise.bound!r}] (so that |y| <= 1)",
                                 f"noise reaches {self.noise.bound!r}")

    @property
    def sigma2(self) -> Fraction:
        """``E_mu[Var(y | x)]``: the noise variance, exact (the noise is independent of ``x``)."""
        return self.noise.variance

    def sample(self, X: np.ndarray, seed=None) -> np.ndarray:
        rng = _rng(seed)
        n = X.shape[0]
        f = np.zeros(n) if self.target is None else np.asarray(self.target(X), dtype=float).reshape(n)
        if self.target is not None and not np.all(np.abs(f) <= self.target_bound):
            i = int(np.argmax(np.abs(f)))
            raise ParameterError("target", self.target, f"functions with |target| <= {self.target_bound!r}",
                                 f"|target(X[{i}])| = {abs(f[i])!r}")
        return f + self.noise.sample(n, rng)


def random_signs_labels() -> Labels:
    """Labels uniform on ``{-1, +1}`` independent of ``x`` (``sigma2 = 1``)."""
    return Labels(symmetric_noise(1, 1), name="random_signs")


def target_plus_noise(target, noise: Noise, target_bound: float) -> Labels:
    """Labels ``y = target(x) + xi``; see :class:`Labels`."""
    return Labels(noise, target, target_bound)


# ----------------------------------------------------------------------------------------------
# the model
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class DataModel:
    """A distribution of ``(x, y)``: an input :class:`Measure` and a :class:`Labels` model.

    >>> m = DataModel(Measure.cube(3), target_plus_noise(lambda X: X[:, 0], symmetric_noise(0.5, 0.5), 0.5))
    >>> m.sigma2, m.K, m.diameter
    (Fraction(1, 8), 1, 1.0)
    """

    measure: Measure
    labels: Labels = field(default_factory=random_signs_labels)

    @property
    def name(self) -> str:
        return self.measure.name

    @property
    def d(self) -> int:
        return self.measure.d

    @property
    def K(self) -> int:
        return self.measure.K

    @property
    def c(self) -> float:
        return self.measure.c

    @property
    def sigma2(self) -> Fraction:
        return self.labels.sigma2

    @property
    def radius(self) -> float:
        return self.measure.radius

    @property
    def diameter(self) -> float:
        return self.measure.diameter

    def support_box(self):
        return self.measure.support_box()

    def sample(self, n: int, seed=None) -> tuple[np.ndarray, np.ndarray]:
        """``n`` i.i.d. pairs: ``X`` of shape ``(n, d)`` and ``y`` of shape ``(n,)``."""
        rng = _rng(seed)
        X = self.measure.sample_inputs(n, rng)
        return X, self.labels.sample(X, rng)

    def theorem_parameters(self, theorem=None) -> dict:
        """The distribution's parameters in the catalogue's notation.

        ``d, c, K, sigma2`` always; ``R`` (support radius) and ``D`` (support diameter) when
        finite.  ``c`` is exact (SymPy), ``sigma2`` a float (the exact value is :attr:`sigma2`).
        With ``theorem`` (a :class:`~bounds.theorem.Theorem`), only the names that theorem takes
        with the same meaning are returned (``D`` is a depth in ``deep_networks``).

        >>> import bounds
        >>> m = DataModel(Measure.sphere(10))
        >>> m.theorem_parameters(bounds.get("universal_law"))
        {'d': 10, 'K': 1, 'c': 10/9}
        """
        out = {"d": self.d, "K": self.K, "sigma2": float(self.sigma2), "c": self.c}
        if math.isfinite(self.radius):
            out["R"] = self.radius
        if math.isfinite(self.diameter):
            out["D"] = self.diameter
        if theorem is not None:
            out = {k: v for k, v in out.items() if _takes(theorem, k)}
        return out


def _takes(theorem, name: str) -> bool:
    """Whether ``theorem`` has a parameter ``name`` *with this meaning*.

    ``D`` is a support diameter here but a depth in ``deep_networks``; ``R`` is a radius.
    """
    if name not in theorem.parameter_names:
        return False
    meaning = theorem.parameter(name).meaning.lower()
    if name == "D":
        return "diameter" in meaning
    if name == "R":
        return "radius" in meaning
    return True

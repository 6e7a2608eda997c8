"""Fitters: networks that (nearly) interpolate a sample, to feed the theorem checker.

Each fitter returns a :class:`Fit`: the :class:`~certify.model.network.Network`, how well it fits
(train MSE, largest residual, smallest margin ``y_i f(x_i)``), an honest parameter count (every
weight and bias of the network, including the output bias slot), the method and the seed.

* :func:`random_features` -- fixed random first layer, output layer by minimum-norm least squares
  (exact interpolation when ``k >= n`` and the feature matrix has full row rank).
* :func:`margin_fit` -- a two-layer network trained with SciPy's L-BFGS-B on a squared-hinge or
  logistic loss until every margin ``y_i f(x_i)`` reaches ``margin``.
* :func:`cap_construction` -- the explicit construction with one pair of ReLU neurons per point
  of a sphere, with its Lipschitz constant derived in closed form.

None of these results is rigorous in itself (they are float64 computations); the checker
re-evaluates the fit and certifies the Lipschitz constant with :mod:`certify.lipschitz`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg
from scipy.optimize import minimize

from bounds.errors import ParameterError

from certify.model import activations as _activations
from certify.errors import ShapeError, shown
from certify.model.network import Network, two_layer

__all__ = ["Fit", "fit_quality", "random_features", "margin_fit", "cap_construction"]


@dataclass(frozen=True, eq=False)
class Fit:
    """A fitted network and how well it fits.

    Attributes
    ----------
    network : Network
    n_params : int
        All weights and biases of ``network`` (``network.n_params``): the ``p`` of the universal law.
    n_trained : int
        How many of them the fitter chose from the data (the rest are random or fixed).
    train_mse : float
        ``(1/n) sum_i (f(x_i) - y_i)^2``, in float64.
    max_residual : float
        ``max_i |f(x_i) - y_i|``.
    min_margin : float
        ``min_i y_i f(x_i)``.
    method : str
    seed : object
        The seed the fitter was called with (``None`` for deterministic constructions).
    success : bool
        Whether the fitter's own goal was met (exact fit to ``tol``, or all margins ``>= margin``).
    message : str
    details : dict
        Method-specific information (iterations, the cap threshold, derived Lipschitz bounds...).
    """

    network: Network
    n_params: int
    n_trained: int
    train_mse: float
    max_residual: float
    min_margin: float
    method: str
    seed: object
    success: bool
    message: str = ""
    details: dict = field(default_factory=dict)

    def __str__(self):
        return (f"Fit({self.method}, {self.network!r}, mse={self.train_mse:.3g}, "
                f"max_residual={self.max_residual:.3g}, min_margin={self.min_margin:.3g}, "
                f"success={self.success})")


def fit_quality(net: Network, X, y) -> dict:
    """``train_mse``, ``max_residual`` and ``min_margin`` of a scalar network on ``(X, y)``."""
    X, y = _check_sample(X, y)
    f = np.asarray(net(X), dtype=float)
    if f.ndim != 2 or f.shape[1] != 1:
        raise ShapeError(f"net: the fit of a sample needs a scalar output, got output shape {f.shape[1:]}")
    f = f[:, 0]
    r = f - y
    return {"train_mse": float(np.mean(r ** 2)), "max_residual": float(np.max(np.abs(r))),
            "min_margin": float(np.min(y * f))}


def _check_sample(X, y) -> tuple[np.ndarray, np.ndarray]:
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or X.shape[0] == 0 or X.shape[1] == 0:
        raise ShapeError(f"X: expected a non-empty (n, d) array, got shape {X.shape}")
    if y.shape != (X.shape[0],):
        raise ShapeError(f"y: expected shape ({X.shape[0]},) to match X of shape {X.shape}, got {y.shape}")
    if not (np.all(np.isfinite(X)) and np.all(np.isfinite(y))):
        raise ParameterError("X, y", "non-finite entries", "finite real numbers")
    return X, y


def _count(name, value, low=1) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
        raise ParameterError(name, value, f"integers >= {low}")
    return int(value)


def _make_fit(net, X, y, method, seed, success, n_trained, message="", **details) -> Fit:
    q = fit_quality(net, X, y)
    return Fit(net, net.n_params, int(n_trained), q["train_mse"], q["max_residual"], q["min_margin"],
               method, seed, bool(success), message, details)


# ----------------------------------------------------------------------------------------------
# random features
# ----------------------------------------------------------------------------------------------

def random_features(X, y, k: int, activation="relu", seed=None, tol: float = 1e-8) -> Fit:
    """Two-layer network with a random first layer and a least-squares output layer.

    The first layer is ``w_l ~ N(0, I_d / s^2)``, ``b_l ~ N(0, 1)`` with ``s`` the root mean square
    norm of the inputs, so that pre-activations are of order one.  The output weights are the
    minimum-norm least-squares solution of ``Phi a = y`` with ``Phi_il = psi(w_l . x_i + b_l)``
    (``scipy.linalg.lstsq``, driver ``gelsy``).  With ``k >= n`` and ``Phi`` of full row rank
    this interpolates; with ``k < n`` it is the best fit of its class in squared error.
    ``k >= n`` is necessary but not sufficient (ReLU features can be dead on every point, and
    features of points on a circle are ill-conditioned): ``k = 2n`` is a safe default, and
    ``success`` says whether the fit is exact.

    Parameters
    ----------
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
    k : int
        Number of hidden neurons.
    activation : str
        Any activation of :mod:`certify.model.activations`.
    seed : optional
        Seed of the first layer.
    tol : float
        ``success`` means ``max_residual <= tol * max(1, max|y|)``.

    Returns
    -------
    Fit
        ``n_trained = k`` (the output layer); ``network`` has no output bias.

    Examples
    --------
    >>> import numpy as np
    >>> from bounds.data import sphere, random_signs
    >>> X, y = sphere(20, 5, seed=0), random_signs(20, seed=1)
    >>> fit = random_features(X, y, k=40, seed=2)
    >>> fit.success, fit.max_residual < 1e-8, fit.n_params == 40 * 5 + 40 + 40 + 1
    (True, True, True)
    """
    X, y = _check_sample(X, y)
    k = _count("k", k)
    act = _activations.get(activation)
    rng = np.random.default_rng(seed)
    n, d = X.shape
    s = math.sqrt(float(np.mean(np.sum(X ** 2, axis=1)))) or 1.0
    W = rng.standard_normal((k, d)) / s
    b = rng.standard_normal(k)
    Phi = act(X @ W.T + b)
    # complete orthogonal factorization (LAPACK gelsy): the minimum-norm solution, several times
    # faster than the SVD-based driver on wide feature matrices
    a, _, rank, _ = scipy.linalg.lstsq(Phi, y, lapack_driver="gelsy")
    net = two_layer(W, a, b, activation=act)
    q = fit_quality(net, X, y)
    ok = q["max_residual"] <= tol * max(1.0, float(np.max(np.abs(y))))
    msg = "exact interpolation" if ok else (
        f"no exact fit: k={k} < n={n}" if k < n else f"feature matrix of rank {rank} < n={n} or ill-conditioned")
    return _make_fit(net, X, y, "random_features", seed, ok, k, msg, rank=int(rank),
                     output_norm=float(np.linalg.norm(a)))


# ----------------------------------------------------------------------------------------------
# margin training
# ----------------------------------------------------------------------------------------------

def _two_layer_loss(theta, X, y, k, act, target, loss, weight_decay):
    n, d = X.shape
    W = theta[:k * d].reshape(k, d)
    b = theta[k * d:k * d + k]
    a = theta[k * d + k:]
    Z = X @ W.T + b
    H = act(Z)
    f = H @ a
    m = y * f
    if loss == "squared_hinge":
        slack = np.maximum(target - m, 0.0)
        val = np.mean(slack ** 2)
        g = -2.0 * slack * y / n
    else:  # logistic on the scaled margin; never exactly 0, so training stops on the margin test
        z = -(m - target)
        val = np.mean(np.logaddexp(0.0, z))
        g = -y * (0.5 * (1 + np.tanh(z / 2))) / n
    val += 0.5 * weight_decay * float(theta @ theta)
    ga = H.T @ g
    dZ = np.outer(g, a) * act.derivative(Z)
    gW = dZ.T @ X
    gb = dZ.sum(axis=0)
    grad = np.concatenate([gW.ravel(), gb, ga]) + weight_decay * theta
    return val, grad


class _MarginReached(Exception):
    pass


def margin_fit(X, y, k: int, margin: float = 1.0, seed=None, loss: str = "squared_hinge",
               activation="relu", max_iter: int = 2000, restarts: int = 3,
               weight_decay: float = 0.0) -> Fit:
    """Train a two-layer network ``f(x) = sum_l a_l psi(w_l . x + b_l)`` until ``y_i f(x_i) >= margin``.

    Minimises the squared hinge ``mean(max(0, 1.1 margin - y_i f(x_i))^2)`` (the 10% overshoot
    lets the optimiser reach the margin with an open neighbourhood) or the logistic loss
    ``mean(log(1 + exp(1.1 margin - y_i f(x_i))))`` with L-BFGS-B and an analytic gradient, and
    stops as soon as every margin is ``>= margin``.  If a run ends without reaching it, up to
    ``restarts`` fresh initialisations are tried (seeds derived from ``seed``).

    Parameters
    ----------
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
        Labels; margins are ``y_i f(x_i)``, so signs in ``{-1, 1}`` are the intended use.
    k : int
        Hidden width.
    margin : float
    seed : optional
    loss : {"squared_hinge", "logistic"}
    activation : str
    max_iter : int
        L-BFGS-B iterations per run.
    restarts : int
    weight_decay : float
        Optional ``(lambda/2) ||theta||^2`` penalty (smaller weights, smaller Lipschitz constant).

    Returns
    -------
    Fit
        ``success`` iff ``min_margin >= margin``; the network has no output bias (class F_k(psi)).

    Examples
    --------
    >>> from bounds.data import sphere, random_signs
    >>> X, y = sphere(30, 10, seed=0), random_signs(30, seed=1)
    >>> fit = margin_fit(X, y, k=20, seed=0)
    >>> fit.success and fit.min_margin >= 1.0
    True
    """
    X, y = _check_sample(X, y)
    k = _count("k", k)
    margin = float(margin)
    if not (margin > 0) or not math.isfinite(margin):
        raise ParameterError("margin", margin, "(0, inf)")
    if loss not in ("squared_hinge", "logistic"):
        raise ParameterError("loss", loss, "'squared_hinge' or 'logistic'")
    if weight_decay < 0 or not math.isfinite(weight_decay):
        raise ParameterError("weight_decay", weight_decay, "[0, inf)")
    act = _activations.get(activation)
    n, d = X.shape
    s = math.sqrt(float(np.mean(np.sum(X ** 2, axis=1)))) or 1.0
    seeds = np.random.SeedSequence(seed).spawn(restarts + 1)
    target = 1.1 * margin
    best, total_iter = None, 0
    for attempt, ss in enumerate(seeds):
        rng = np.random.default_rng(ss)
        theta0 = np.concatenate([rng.standard_normal(k * d) / s, 0.1 * rng.standard_normal(k),
                                 rng.standard_normal(k) / math.sqrt(k)])
        def callback(xk):
            theta = xk
            Wc = theta[:k * d].reshape(k, d)
            fc = act(X @ Wc.T + theta[k * d:k * d + k]) @ theta[k * d + k:]
            # a hair above the margin, so that re-evaluating through the Network keeps it
            if np.min(y * fc) >= margin * (1 + 1e-6):
                raise StopIteration

        res = minimize(_two_layer_loss, theta0, args=(X, y, k, act, target, loss, weight_decay),
                       jac=True, method="L-BFGS-B", callback=callback,
                       options={"maxiter": max_iter, "gtol": 1e-12, "ftol": 0.0})
        theta = res.x
        total_iter += int(res.nit)
        net = two_layer(theta[:k * d].reshape(k, d), theta[k * d + k:], theta[k * d:k * d + k], act)
        fit = _make_fit(net, X, y, "margin_fit", seed, False, net.n_params - 1,
                        "", loss=loss, iterations=total_iter, attempts=attempt + 1,
                        optimizer_message=str(res.message))
        if best is None or fit.min_margin > best.min_margin:
            best = fit
        if fit.min_margin >= margin:
            break
    ok = best.min_margin >= margin
    msg = (f"all margins >= {shown(margin)}" if ok else
           f"margin {best.min_margin:.4g} < {shown(margin)} after {best.details['attempts']} run(s)")
    return Fit(best.network, best.n_params, best.n_trained, best.train_mse, best.max_residual,
               best.min_margin, "margin_fit", seed, ok, msg, best.details)


# ----------------------------------------------------------------------------------------------
# spherical caps
# ----------------------------------------------------------------------------------------------

def cap_construction(X, y, t: float | None = None, rtol: float = 1e-9) -> Fit:
    r"""Exact interpolation of points on a sphere with one pair of ReLU neurons per point.

    For points ``x_1..x_n`` on the sphere ``||x|| = r`` and ``u_i(x) = <x_i, x> / r^2``,

    .. math:: f(x) = \sum_i \frac{y_i}{1 - t}\,\bigl(\mathrm{relu}(u_i(x) - t) - \mathrm{relu}(u_i(x) - 1)\bigr).

    The pair ``relu(u - t) - relu(u - 1)`` is a ramp from 0 (for ``u <= t``) to ``1 - t`` (for
    ``u >= 1``): neuron pair ``i`` fires only on the cap ``{u_i > t}`` around ``x_i`` and is
    bounded everywhere.

    **Fit.**  With ``t`` at least the largest cosine ``<x_i, x_j> / r^2`` (``i != j``), pair ``i``
    vanishes at every ``x_j``, ``j != i``, and equals ``(1 - t) y_i / (1 - t) = y_i`` at ``x_i``
    (``u_i(x_i) = 1``), so ``f(x_j) = y_j`` exactly (up to float rounding).

    **Lipschitz constant.**  Let ``alpha`` be the smallest angle between two points.  The default
    ``t = cos(alpha / 2)`` makes the caps ``{x in S : u_i(x) > t}`` pairwise disjoint (two caps of
    angular radius ``alpha / 2`` around points ``alpha`` apart).  Each ``u_i`` is ``1/r``-Lipschitz
    (gradient ``x_i / r^2``) and the ramp is 1-Lipschitz, so ``h_i`` (the ``i``-th term) is
    ``|y_i| / ((1 - t) r)``-Lipschitz.  On the sphere, for ``x`` in cap ``i`` and ``x'`` in cap
    ``j != i`` (or in no cap): ``x'`` is outside cap ``i``, so
    ``0 <= u_i(x) - t <= u_i(x) - u_i(x') <= ||x - x'|| / r`` and likewise for ``j``; hence
    ``|f(x) - f(x')| <= |h_i(x)| + |h_j(x')| <= (|y_i| + |y_j|) ||x - x'|| / ((1 - t) r)``, and
    in one cap ``|f(x) - f(x')| <= |y_i| ||x - x'|| / ((1 - t) r)``.  Therefore

    .. math:: \mathrm{Lip}(f|_S) \le \frac{2 \max_i |y_i|}{(1 - t)\, r}.

    On all of ``R^d`` the half-spaces overlap; the gradient is
    ``sum_{i in A(x)} y_i x_i / ((1 - t) r^2)`` over the active set ``A(x)``, so
    ``Lip(f) <= ||X||_op ||y||_2 / ((1 - t) r^2)`` (``||sum_{i in A} y_i x_i|| <= ||X^T||_op ||y_A||``).
    Both values are reported in ``details`` (float64, indicative: the checker certifies the
    constant rigorously).  Since ``1 - cos(alpha/2) ~ alpha^2 / 8``, the construction is far from
    robust when points are close: that is the point of the law of robustness.

    Parameters
    ----------
    X : array_like, shape (n, d)
        Points on a sphere centred at 0 (norms equal up to ``rtol``).
    y : array_like, shape (n,)
    t : float, optional
        Cap threshold in ``[max cosine, 1)``; default ``cos(alpha / 2)``.
    rtol : float
        Tolerance on the equality of the norms.

    Returns
    -------
    Fit
        ``2n`` hidden neurons; ``n_params = 2n(d + 2) + 1``; ``n_trained = n_params - 1`` (all set
        from the data).

    Examples
    --------
    >>> from bounds.data import sphere, random_signs
    >>> X, y = sphere(10, 3, seed=0), random_signs(10, seed=1)
    >>> fit = cap_construction(X, y)
    >>> fit.max_residual < 1e-12, fit.n_params == 2 * 10 * (3 + 2) + 1
    (True, True)
    """
    X, y = _check_sample(X, y)
    n, d = X.shape
    norms = np.linalg.norm(X, axis=1)
    r = float(np.median(norms))
    if r == 0 or np.max(np.abs(norms - r)) > rtol * r:
        raise ParameterError("X", f"norms in [{norms.min():.6g}, {norms.max():.6g}]",
                             "points on one sphere centred at 0 (equal norms)")
    G = (X @ X.T) / r ** 2
    np.fill_diagonal(G, -np.inf)
    max_cos = float(np.max(G)) if n > 1 else -1.0
    if max_cos >= 1 - 1e-12:
        raise ParameterError("X", "repeated points", "distinct points",
                             f"two points at cosine {max_cos!r}")
    alpha = math.acos(max(-1.0, min(1.0, max_cos)))
    if t is None:
        t = math.cos(alpha / 2)
    t = float(t)
    if not (max_cos < t < 1):
        raise ParameterError("t", t, f"({max_cos!r}, 1) (above the largest cosine between points)")
    U = X / r ** 2
    W = np.repeat(U, 2, axis=0)
    b = np.tile([-t, -1.0], n)
    a = np.repeat(y / (1 - t), 2) * np.tile([1.0, -1.0], n)
    net = two_layer(W, a, b, activation="relu")
    lip_sphere = 2 * float(np.max(np.abs(y))) / ((1 - t) * r) if t >= math.cos(alpha / 2) else math.inf
    lip_global = float(np.linalg.norm(X, 2) * np.linalg.norm(y)) / ((1 - t) * r ** 2)
    q = fit_quality(net, X, y)
    ok = q["max_residual"] <= 1e-9 * max(1.0, float(np.max(np.abs(y))))
    return _make_fit(net, X, y, "cap_construction", None, ok, net.n_params - 1,
                     "exact interpolation" if ok else "rounding spoilt the fit",
                     t=t, radius=r, min_angle=alpha, lipschitz_sphere_upper=lip_sphere,
                     lipschitz_global_upper=min(lip_global, float(np.sum(np.abs(y))) / ((1 - t) * r)))

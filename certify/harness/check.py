"""The theorem checker: does a fitted network respect a catalogue statement on this instance?

:func:`check` takes a statement (a :class:`~bounds.theorem.Theorem` or its id), a sample
``(X, y)`` and a network, and

1. works out the statement's parameters *for this instance*: ``n, d`` from the sample, the class
   quantities from the network (``p = net.n_params``; for the universal law the class
   ``{f_w : ||w||_inf <= W_max}`` of the network's architecture, of diameter
   ``2 W_max sqrt(p)`` and parameter-Lipschitz constant ``J = sqrt(D (1 + R^2)) (W_max sqrt(2p))^(D-1)`` from
   :func:`bounds.universal.deep_network_parameters`), the distribution's ``c, K, sigma^2, R``
   from a :class:`bounds.data.DataModel`, and the user's ``eps, delta``;
2. checks the hypotheses: the theorem's own (``theorem.hypotheses``) and the instance's (the fit
   level ``MSE <= sigma^2 - eps``, computed with an outward-rounded enclosure of the network's
   outputs; a bounded support; weights inside the class);
3. evaluates the lower bound, certifies an *upper* bound on the network's Lipschitz constant on
   the domain the statement means (``certifier``, default :func:`certify.lipschitz`), and
   compares: a certified upper bound below the theorem's lower bound is a **violation**.

Probabilistic statements may fail with probability ``delta`` on a legitimate instance, so a
single violation of such a statement is reported with ``delta`` attached (use
:func:`certify.harness.statistics.failure_rate` to test a failure frequency); a deterministic statement
must never be violated.

Examples
--------
>>> import numpy as np, certify
>>> from bounds.data import DataModel, Measure
>>> from certify.harness.fit import random_features
>>> model = DataModel(Measure.sphere(4))                    # random signs on S^3
>>> X, y = model.sample(12, seed=0)
>>> fit = random_features(X, y, k=16, seed=1)
>>> res = check("universal_law", X, y, fit.network, model=model, eps=0.5, delta=0.1)
>>> res.verdict                                              # n = 12 is far too small
'not_applicable'
>>> [h.name for h in res.failed]
['sample_size']
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Callable

import mpmath
import numpy as np
import sympy

import bounds
from bounds.errors import ParameterError
from bounds.theorem import HypothesisResult, Theorem

from certify.errors import ShapeError, UnsupportedError
from certify.arith.interval import Interval, inflate_upper
from certify.model.network import Network

__all__ = ["check", "CheckResult", "load_counterexample", "ADAPTERS", "output_enclosure",
           "VERDICTS", "DEFAULT_CERTIFIER_OPTIONS", "mse_upper",
           "failure_factor"]

VERDICTS = ("consistent", "violated", "not_applicable")

#: A violation is declared only when the certified upper bound is below the lower bound by more
#: than this relative margin, so that the ~1e-25 relative error of evaluating the bound in mpmath
#: never decides it.
_REL_MARGIN = 1e-12
#: The quantity of ordinary entries (``Theorem.quantity``).
_LIP = r"\operatorname{Lip}(f)"


# ----------------------------------------------------------------------------------------------
# result
# ----------------------------------------------------------------------------------------------

@dataclass(frozen=True, eq=False)
class CheckResult:
    """Outcome of :func:`check`.

    Attributes
    ----------
    verdict : {"consistent", "violated", "not_applicable"}
    theorem_id : str
    probabilistic : bool
        The statement holds with probability ``>= 1 - delta`` (not surely).
    delta : float or None
        The statement's failure probability (``None`` for deterministic statements): the
        ``delta`` parameter, times 2 for statements holding "with probability 1 - 2 delta".
    bound : object or None
        The theorem's lower bound (:class:`~bounds.theorem.BoundValue` or
        :class:`~bounds.theorem.DataBound`); ``None`` when not applicable.
    quantity : str
        What the bound bounds (``"lipschitz"``: the l2 Lipschitz constant on ``domain``).
    upper, lower : float or None
        Certified enclosure of that quantity for the network.
    ratio : float or None
        ``upper / bound``: how far above the bound the network is (``< 1`` is a violation).
    certificate : Certificate or None
    domain : None or (lo, hi)
        Box the Lipschitz constant was certified on (``None``: all of R^d).
    hypotheses : list of HypothesisResult
        Every checked hypothesis (instance's first, then the theorem's).
    failed : list of HypothesisResult
    params : dict
        The parameters the bound was evaluated at (and where each came from in ``sources``).
    sources : dict
        ``name -> "user" | "instance" | "model" | "default"``.
    notes : list of str
    X, y, network, seed :
        The instance, for reproduction (see :meth:`save`).
    """

    verdict: str
    theorem_id: str
    probabilistic: bool
    delta: float | None
    bound: object
    quantity: str
    upper: float | None
    lower: float | None
    ratio: float | None
    certificate: object
    domain: object
    hypotheses: list
    failed: list
    params: dict
    sources: dict
    notes: list
    X: np.ndarray = field(repr=False, default=None)
    y: np.ndarray = field(repr=False, default=None)
    network: Network = field(repr=False, default=None)
    seed: object = None

    @property
    def consistent(self) -> bool:
        return self.verdict == "consistent"

    @property
    def violated(self) -> bool:
        return self.verdict == "violated"

    def __str__(self):
        head = f"{self.theorem_id}: {self.verdict}"
        if self.verdict == "not_applicable":
            return head + ": hypotheses fail: " + "; ".join(
                f"{h.name} ({h.description})" for h in self.failed)
        s = f"{head}: certified {self.quantity} <= {self.upper:.6g}, bound {float(self.bound):.6g}, ratio {self.ratio:.4g}"
        if self.verdict == "violated" and self.probabilistic:
            s += f" (probabilistic statement: may fail with probability <= delta = {self.delta:g})"
        return s

    def as_row(self) -> dict:
        """A flat dict for tables (:class:`bounds.tables.Table` rows, CSV, pandas).

        Keys: ``theorem``, ``verdict``, ``n``, ``d``, ``p`` (network parameters), ``bound``
        (float, rounded down; ``None`` when not applicable), ``upper`` (certified), ``ratio``,
        ``delta``, ``failed`` (names of failed hypotheses, comma separated).
        """
        b = None
        if self.bound is not None:
            v = _bound_value(self.bound)
            b = float(v)
            if b > v:  # a displayed lower bound must stay a lower bound
                b = math.nextafter(b, -math.inf)
        return {"theorem": self.theorem_id, "verdict": self.verdict,
                "n": int(self.X.shape[0]), "d": int(self.X.shape[1]),
                "p": int(self.network.n_params), "bound": b, "upper": self.upper,
                "ratio": self.ratio, "delta": self.delta,
                "failed": ", ".join(h.name for h in self.failed)}

    def save(self, path) -> None:
        """Write everything needed to reproduce the check to an ``.npz`` file.

        Arrays ``X``, ``y``, ``W1, b1, ..., WL, bL`` (the network, as :meth:`Network.to_npz`)
        and ``meta``, a JSON string with the verdict, theorem id, parameters (as decimal
        strings), the bound, the certified enclosure, the certifier's method and the seed.
        :func:`load_counterexample` reads it back.
        """
        arrays = {"X": np.asarray(self.X), "y": np.asarray(self.y)}
        for i, (w, b) in enumerate(zip(self.network.weights, self.network.biases), start=1):
            arrays[f"W{i}"], arrays[f"b{i}"] = np.asarray(w), np.asarray(b)
        meta = {
            "verdict": self.verdict, "theorem_id": self.theorem_id,
            "probabilistic": self.probabilistic, "delta": self.delta,
            "params": {k: _num_str(v) for k, v in self.params.items()},
            "sources": self.sources,
            "bound": None if self.bound is None else _num_str(_bound_value(self.bound)),
            "upper": self.upper, "lower": self.lower, "ratio": self.ratio,
            "method": getattr(self.certificate, "method", None),
            "domain": None if self.domain is None else [np.asarray(self.domain[0]).tolist(),
                                                        np.asarray(self.domain[1]).tolist()],
            "activations": [a.spec for a in self.network.activations],
            "failed": [str(h) for h in self.failed], "notes": self.notes,
            "seed": self.seed if isinstance(self.seed, (int, type(None))) else repr(self.seed),
        }
        np.savez(path, meta=np.array(json.dumps(meta)), **arrays)


def load_counterexample(path) -> dict:
    """Read a file written by :meth:`CheckResult.save`.

    Returns
    -------
    dict
        ``X``, ``y``, ``network`` (a :class:`Network`), ``params`` (mpmath numbers), ``meta``
        (the JSON metadata).  ``check(meta["theorem_id"], X, y, network, **params)`` re-runs it
        (pass the same certifier).
    """
    with np.load(path, allow_pickle=False) as z:
        meta = json.loads(str(z["meta"]))
        L = sum(1 for k in z.files if k.startswith("W"))
        ws = [z[f"W{i}"] for i in range(1, L + 1)]
        bs = [z[f"b{i}"] for i in range(1, L + 1)]
        X, y = z["X"], z["y"]
    net = Network.from_arrays(ws, bs, meta["activations"] if meta["activations"] else "relu")
    params = {k: mpmath.mpf(v) for k, v in meta["params"].items()}
    return {"X": X, "y": y, "network": net, "params": params, "meta": meta}


def _num_str(v) -> str:
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    return mpmath.nstr(mpmath.mpf(v), 30)


def _bound_value(bound) -> mpmath.mpf:
    return mpmath.mpf(bound.value) if hasattr(bound, "value") and not isinstance(bound, mpmath.mpf) \
        else mpmath.mpf(bound)


# ----------------------------------------------------------------------------------------------
# instance quantities
# ----------------------------------------------------------------------------------------------

def output_enclosure(net: Network, X, chunk_entries: int = 2_000_000) -> Interval:
    """Rigorous enclosure of ``f(x_i)`` for every row of ``X``: an :class:`Interval` of shape ``(n, m)``.

    Outward-rounded interval arithmetic on point inputs (no Arb): widths are a few ulps times the
    size of the intermediate values.  Rows are processed in chunks of about ``chunk_entries``
    hidden values to bound memory.
    """
    from certify.arith.interval import concatenate
    X = np.asarray(X, dtype=float)
    rows = max(1, chunk_entries // max(net.widths))
    parts = []
    for start in range(0, X.shape[0], rows):
        a = Interval(X[start:start + rows])
        z = a
        for i, (w, b) in enumerate(zip(net.weights, net.biases)):
            z = a @ w.T + b
            if i < net.hidden_layers:
                a = net.activations[i].interval(z)
        parts.append(z)
    return parts[0] if len(parts) == 1 else concatenate(parts, axis=0)


def mse_upper(net: Network, X, y) -> float:
    """A rigorous upper bound on ``(1/n) sum_i (f(x_i) - y_i)^2`` (scalar networks)."""
    f = output_enclosure(net, X)
    if f.shape[1] != 1:
        raise ShapeError(f"net: the MSE of a sample needs a scalar output, got {f.shape[1]} outputs")
    res = f[:, 0] - np.asarray(y, dtype=float)
    n = len(y)
    return float((res.square().sum() / n).hi)


def _hyp(name, holds, lhs, rhs, description, relation="<=") -> HypothesisResult:
    return HypothesisResult(name, bool(holds), mpmath.mpf(lhs) if _finite(lhs) else lhs,
                            mpmath.mpf(rhs) if _finite(rhs) else rhs, relation, description)


def _finite(v) -> bool:
    try:
        return math.isfinite(float(v))
    except (TypeError, ValueError, OverflowError):
        return False


def _dyadic_ceil(x: float) -> float:
    """The smallest power of two ``>= x``."""
    if not x > 0:
        return 1.0
    # exact (log2 rounds: for x = 4 (1 + 2^-52) it gives exactly 2, and 2^2 < x)
    m, e = math.frexp(x)  # x = m 2^e with 0.5 <= m < 1
    return math.ldexp(1.0, e - 1 if m == 0.5 else e)


def _activation_lipschitz_ok(net) -> bool:
    return all(a.lipschitz is not None and a.lipschitz <= 1 for a in net.activations)


# ----------------------------------------------------------------------------------------------
# planning: what each statement needs from the instance
# ----------------------------------------------------------------------------------------------

@dataclass
class _Context:
    theorem: Theorem
    X: np.ndarray
    y: np.ndarray
    net: Network
    model: object
    user: dict
    weight_bound: float | None
    sigma2: object
    domain: object
    params: dict = field(default_factory=dict)
    sources: dict = field(default_factory=dict)
    hypotheses: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    quantity: str = "lipschitz"
    #: keyword arguments of ``theorem.from_data`` for data-dependent entries
    data_kwargs: dict | None = None
    #: certified upper bound of a proxy quantity (``None``: the Lipschitz constant)
    proxy_upper: Callable | None = None
    #: factor in (0, 1] applied to the bound (rounded down), see _plan_undercomplete
    bound_scale: float = 1.0

    def set(self, name, value, source):
        """Set a parameter unless the user gave it (user values always win)."""
        if name in self.user:
            return
        if name in self.theorem.parameter_names:
            self.params[name] = value
            self.sources[name] = source


def _base_parameters(ctx: _Context) -> None:
    """``n, d`` from the sample; ``c, K, R`` and a support diameter from the model."""
    th = ctx.theorem
    n, d = ctx.X.shape
    ctx.set("n", int(n), "instance")
    ctx.set("d", int(d), "instance")
    if ctx.model is not None:
        if ctx.model.d != d:
            raise ShapeError(f"model: has d={ctx.model.d} but X has {d} columns")
        try:
            mp = ctx.model.theorem_parameters(th)
        except ParameterError as exc:
            ctx.hypotheses.append(_hyp("isoperimetric_model", False, math.inf, math.inf,
                                       f"the model has an isoperimetry constant ({exc})", "<"))
            mp = {}
        for name, value in mp.items():
            if name != "d":
                ctx.set(name, value, "model")
    for name in ("c", "K"):
        if name in th.parameter_names and name not in ctx.params and name not in ctx.user:
            ctx.notes.append(f"{name} not given and no model: the theorem's default "
                             f"{name}={th.parameter(name).default} is used")


def _fit_level(ctx: _Context) -> None:
    """Instance hypothesis of the MSE statements: ``MSE <= sigma^2 - eps`` (rigorous MSE)."""
    if "eps" not in ctx.theorem.parameter_names:
        return
    eps = ctx.user.get("eps")
    if eps is None:
        raise ParameterError("eps", None, "(0, 1), fixed before looking at the data",
                             "the statement is about fits with MSE <= sigma^2 - eps for a fixed eps")
    sigma2 = ctx.sigma2
    if sigma2 is None and ctx.model is not None:
        sigma2 = ctx.model.sigma2
    if sigma2 is None:
        raise ParameterError("sigma2", None, "(0, 1], or a model=DataModel",
                             "E Var(y|x) is needed to check the fit level MSE <= sigma^2 - eps")
    mse = mse_upper(ctx.net, ctx.X, ctx.y)
    # rounded down (mpmath works at 53 bits by default): an MSE just above the true level must
    # not pass the hypothesis because sigma^2 - eps rounded up
    s2 = Fraction(sigma2)
    level = mpmath.fsub(mpmath.fdiv(s2.numerator, s2.denominator, rounding="d"), mpmath.mpf(eps),
                        rounding="d")
    ctx.hypotheses.append(_hyp("fit_level", mse <= level, mse, level,
                               "training MSE (rigorous upper bound) <= sigma^2 - eps"))
    ctx.params.setdefault("_mse_upper", mse)


def _network_class(ctx: _Context, *, diameter_name=None, j_name=None, weight_name=None,
                   depth_name=None, radius_name=None) -> None:
    """Class ``{f_w : ||w||_inf <= W_max}`` of the network's architecture [BS21, Section 3]."""
    from bounds.universal import deep_network_parameters
    net, th = ctx.net, ctx.theorem
    wmax_net = max(float(np.max(np.abs(a))) for a in net.weights + net.biases)
    if ctx.weight_bound is not None:
        wmax = float(ctx.weight_bound)
    else:
        # a power of two >= max|w| (and >= 1, Lemma 3.1): the class is one of countably many
        # fixed in advance, not fitted to this network's exact largest weight
        wmax = max(1.0, _dyadic_ceil(wmax_net))
        ctx.notes.append(f"class: weights in [-{wmax:g}, {wmax:g}] (the power of two above the largest "
                         f"|weight| {wmax_net:.6g}); pass weight_bound= to fix the class in advance")
    ctx.hypotheses.append(_hyp("weights_in_class", wmax_net <= wmax and wmax >= 1, wmax_net, wmax,
                               "max |weight or bias| <= W_max (and W_max >= 1, Lemma 3.1)"))
    ctx.hypotheses.append(_hyp("activations_1_lipschitz", _activation_lipschitz_ok(net),
                               max((a.lipschitz or math.inf) for a in net.activations) if net.activations else 0,
                               1, "every activation is 1-Lipschitz (Lemma 3.1)"))
    sigma0 = max((abs(float(a(np.zeros(1))[0])) for a in net.activations), default=0.0)
    ctx.hypotheses.append(_hyp("activations_zero_at_zero", sigma0 == 0, sigma0, 0,
                               "every activation has sigma(0) = 0 (the deep-network J needs it)"))
    R = ctx.user.get("R")
    if R is None and ctx.model is not None:
        R = ctx.model.radius
    if R is None:
        raise ParameterError("R", None, "(0, inf), or a model=DataModel",
                             "the support radius enters J = sqrt(D (1 + R^2)) (W sqrt(2p))^(D-1)")
    bounded = math.isfinite(float(R))
    ctx.hypotheses.append(_hyp("bounded_support", bounded, R, math.inf,
                               "support radius R finite (else no finite J: ||f_w1 - f_w2||_inf = inf)",
                               "<"))
    if not bounded:
        return
    if sigma0 != 0:
        return
    q = deep_network_parameters(list(net.widths), W=wmax, R=R)
    if q.p != net.n_params:  # both count every weight and bias; a mismatch is a bug
        raise AssertionError(f"parameter count {q.p} != net.n_params {net.n_params}")
    ctx.set("p", q.p, "instance")
    if diameter_name:
        ctx.set(diameter_name, q.diameter, "instance")
    if j_name:
        ctx.set(j_name, q.J, "instance")
    if depth_name:
        ctx.set(depth_name, q.D, "instance")
    if weight_name:
        ctx.set(weight_name, wmax, "instance")
    if radius_name:
        ctx.set(radius_name, R, "model" if "R" not in ctx.user else "user")


def _plan_universal(ctx):
    _base_parameters(ctx)
    _fit_level(ctx)
    _network_class(ctx, diameter_name="W", j_name="J")


def _plan_deep(ctx):
    _base_parameters(ctx)
    _fit_level(ctx)
    _network_class(ctx, weight_name="W", depth_name="D", radius_name="R")


def _plan_finite(ctx):
    _base_parameters(ctx)
    _fit_level(ctx)
    if "logF" not in ctx.user:
        ctx.hypotheses.append(_hyp("class_is_finite", False, math.inf, math.inf,
                                   "F finite: pass logF = log|F| for a finite class (e.g. quantized "
                                   "weights); a network class with real weights is infinite", "<"))


def _plan_generic(ctx):
    """Parameters by name: ``n, d`` (sample), ``p`` (network), ``k`` (hidden width), model's."""
    _base_parameters(ctx)
    _fit_level(ctx)
    ctx.set("p", ctx.net.n_params, "instance")
    if ctx.net.depth == 2:
        ctx.set("k", int(ctx.net.widths[1]), "instance")


def _enclosed_outputs(ctx):
    F = output_enclosure(ctx.net, ctx.X)
    if F.shape[1] != 1:
        raise ShapeError(f"net: a scalar output is needed, got {F.shape[1]} outputs")
    return F[:, 0]


def _signs(ctx) -> bool:
    ok = bool(np.all(np.abs(ctx.y) == 1) and np.any(ctx.y > 0) and np.any(ctx.y < 0))
    ctx.hypotheses.append(_hyp("sign_labels", ok, 0, 0, "labels in {-1, +1}, both present"))
    return ok


def _class_gap_lower(ctx) -> float:
    """Rigorous lower bound on ``mean_{y=+1} f(x_i) - mean_{y=-1} f(x_i)``."""
    F = _enclosed_outputs(ctx)
    pos, neg = ctx.y > 0, ctx.y < 0
    return float((F[pos].sum() / int(pos.sum()) - F[neg].sum() / int(neg.sum())).lo)


def _average_margin_lower(ctx) -> float:
    """Rigorous lower bound on ``(1/n) sum_i y_i f(x_i)``."""
    F = _enclosed_outputs(ctx)
    return float(((F * ctx.y).sum() / len(ctx.y)).lo)


def _two_layer(ctx, *, zero_biases: bool, zero_output_bias: bool) -> bool:
    net = ctx.net
    ok = net.depth == 2 and net.output_dim == 1
    why = "a two-layer network x -> sum_l a_l psi(w_l . x + b_l)"
    if ok and zero_output_bias:
        ok = bool(net.biases[1][0] == 0)
        why += ", no output bias"
    if ok and zero_biases:
        ok = bool(np.all(net.biases[0] == 0))
        why += ", zero hidden biases"
    ctx.hypotheses.append(_hyp("two_layer_class", ok, 0, 0, why))
    return ok


def _plan_minimal(ctx):
    """Deterministic: the least Lipschitz constant of any f with training MSE <= tau."""
    tau = mse_upper(ctx.net, ctx.X, ctx.y)
    ctx.data_kwargs = {} if tau == 0 else {"tau": tau}
    ctx.params["tau"] = tau
    ctx.sources["tau"] = "instance"


def _plan_projection(ctx):
    if not (_signs(ctx) and _two_layer(ctx, zero_biases=False, zero_output_bias=False)):
        return
    gap = _class_gap_lower(ctx)
    ctx.hypotheses.append(_hyp("class_gap", gap > 0, 0, gap,
                               "mean_{+} f - mean_{-} f > 0 (rigorous lower bound)", "<"))
    ctx.data_kwargs = {"k": int(ctx.net.widths[1]), "gap": gap}
    ctx.params.update(k=int(ctx.net.widths[1]), gap=gap)
    ctx.sources.update(k="instance", gap="instance")


def _plan_polynomial(ctx):
    net = ctx.net
    if not _signs(ctx):
        return
    acts = net.activations
    q = acts[0].param if len(acts) == 1 and acts[0].name == "poly" else None
    biases = bool(net.depth == 2 and np.any(net.biases[0] != 0))
    ctx.hypotheses.append(_hyp("polynomial_activation", q is not None and (q == 2 or not biases), 0, 0,
                               "activation z^q (hidden biases only for q = 2)"))
    if q is None or not _two_layer(ctx, zero_biases=False, zero_output_bias=True):
        return
    gamma = _class_gap_lower(ctx) / 2 if biases else _average_margin_lower(ctx)
    ctx.hypotheses.append(_hyp("margin", gamma > 0, 0, gamma,
                               "class-mean half gap (biases) or average margin (1/n) sum y_i f(x_i) "
                               "> 0 (rigorous lower bound)", "<"))
    ctx.data_kwargs = {"k": int(net.widths[1]), "q": int(q), "margin": gamma, "biases": biases}
    ctx.params.update(k=int(net.widths[1]), q=int(q), gamma=gamma)
    ctx.sources.update(k="instance", q="instance", gamma="instance")


def _spectral_proxy_upper(net) -> float:
    """Rigorous upper bound on ``Lip(psi) ||a||_2 ||W||_op``."""
    from certify.arith.interval import spectral_norm_enclosure
    from certify.methods.naive import mul_up
    W, _, a = net.as_two_layer()
    a_norm = float(spectral_norm_enclosure(np.asarray(a)[None, :])[1])
    w_norm = float(spectral_norm_enclosure(W)[1])
    return mul_up(mul_up(float(net.activations[0].lipschitz), a_norm), w_norm)


def _plan_spectral(ctx):
    net = ctx.net
    if not (_signs(ctx) and _two_layer(ctx, zero_biases=True, zero_output_bias=True)):
        return
    act = net.activations[0]
    ok = act.positively_homogeneous and act.lipschitz is not None
    ctx.hypotheses.append(_hyp("homogeneous_activation", ok, 0, 0,
                               "psi positively homogeneous and Lipschitz (relu, leaky_relu, abs, linear)"))
    if not ok:
        return
    gamma = _average_margin_lower(ctx)
    ctx.hypotheses.append(_hyp("margin", gamma > 0, 0, gamma,
                               "average margin (1/n) sum y_i f(x_i) > 0 (rigorous lower bound)", "<"))
    ctx.data_kwargs = {"k": int(net.widths[1]), "margin": gamma, "activation": act.spec}
    if "delta" in ctx.user:
        ctx.data_kwargs["delta"] = ctx.user["delta"]
    ctx.params.update(k=int(net.widths[1]), gamma=gamma)
    ctx.sources.update(k="instance", gamma="instance")
    ctx.quantity = "spectral_proxy"
    ctx.proxy_upper = _spectral_proxy_upper


def _plan_undercomplete(ctx):
    """Exact fits of random signs on the unit sphere by k-neuron two-layer networks.

    The statement asks for ``f(x_i) = y_i`` exactly, which a float network can meet only up to
    rounding.  Its proof goes through the projection bound, which is linear in the class-mean gap
    ``m = mean_+ f - mean_- f`` (``m = 2`` for an exact fit): the checker therefore uses the bound
    times ``min(1, m / 2)`` with ``m`` a rigorous lower bound, a factor ``1 - O(1e-13)`` for a
    float-exact fit.
    """
    _base_parameters(ctx)
    if not (_signs(ctx) and _two_layer(ctx, zero_biases=False, zero_output_bias=False)):
        return
    ctx.set("k", int(ctx.net.widths[1]), "instance")
    m = ctx.model
    if m is not None:
        ok = (m.measure.name == "sphere" and m.measure.r == 1 and m.measure.shift is None
              and m.labels.name == "random_signs")
        ctx.hypotheses.append(_hyp("sphere_random_signs", ok, 0, 0,
                                   "model: uniform on the unit sphere, uniform random signs"))
    else:
        ctx.notes.append("assumed, not checked (no model): x_i uniform on S^{d-1}, y_i uniform signs")
    gap = _class_gap_lower(ctx)
    ctx.hypotheses.append(_hyp("class_gap", gap > 0, 0, gap,
                               "mean_{+} f - mean_{-} f > 0 (rigorous lower bound)", "<"))
    ctx.bound_scale = min(1.0, gap / 2)
    if ctx.bound_scale < 1:
        ctx.notes.append(f"bound scaled by the certified class gap / 2 = {ctx.bound_scale!r} (the fit "
                         "is exact only up to rounding; the proof is linear in the gap)")


#: theorem id -> planner filling parameters and instance hypotheses.  Entries not listed use a
#: generic planner (parameters by name) -- extend it for a new statement whose class quantities
#: need computing.
ADAPTERS: dict[str, Callable[[_Context], None]] = {
    "universal_law": _plan_universal,
    "universal_law_sharp": _plan_universal,
    "deep_networks": _plan_deep,
    "finite_class": _plan_finite,
    "bounded_support": _plan_universal,
    "minimal_interpolation": _plan_minimal,
    "two_layer_projection": _plan_projection,
    "polynomial_activation": _plan_polynomial,
    "two_layer_spectral": _plan_spectral,
    "two_layer_undercomplete": _plan_undercomplete,
}


# ----------------------------------------------------------------------------------------------
# domains
# ----------------------------------------------------------------------------------------------

def _certification_domain(ctx: _Context):
    """The box on which an upper bound on Lip(f) bounds the Lipschitz constant the theorem means.

    Any box containing the theorem's domain is sound for a *violation*: the Lipschitz constant on
    a superset is at least the one on the set.
    """
    kind = ctx.theorem.lipschitz_domain
    d = ctx.X.shape[1]
    if ctx.domain is not None:
        ctx.notes.append(f"certification box given by the caller; a violation is sound only if it "
                         f"contains the theorem's domain ({kind})")
        return ctx.domain
    if kind == "global":
        return None
    if kind == "unit_ball":
        return (-np.ones(d), np.ones(d))
    if kind in ("support", "sphere"):
        if ctx.model is not None:
            try:
                return ctx.model.support_box()
            except ParameterError:
                pass
        if kind == "sphere":
            # rounded up: the box must contain the whole sphere through the data
            sq = float(inflate_upper(np.max((ctx.X * ctx.X).sum(axis=1)), d))
            r = math.nextafter(math.sqrt(sq), math.inf)
            ctx.notes.append(f"sphere domain: box [-{r:.6g}, {r:.6g}]^d around the data's sphere")
            return (-r * np.ones(d), r * np.ones(d))
        raise ParameterError("domain", None, "a box (lo, hi) containing the support, or a model with "
                             "bounded support", "the theorem's Lipschitz constant is on the support")
    raise ParameterError("lipschitz_domain", kind, "'global', 'support', 'sphere' or 'unit_ball'")


# ----------------------------------------------------------------------------------------------
# the checker
# ----------------------------------------------------------------------------------------------

#: Options of the default certifier: an anytime budget, so that a large network still returns a
#: (looser, still rigorous) upper bound.
DEFAULT_CERTIFIER_OPTIONS = {"time_limit": 60.0}


@dataclass(frozen=True)
class _ProxyCertificate:
    """Certified upper bound of a proxy quantity (no lower bound is claimed)."""

    upper: float
    method: str
    lower: float = 0.0


def failure_factor(theorem) -> int:
    """``k`` for a statement that may fail with probability ``k delta`` (1 when deterministic).

    Read from the record's ``failure_level`` (``delta``, ``2*delta`` ...), not from its prose.
    """
    level = theorem.failure_level
    if level is None:
        return 1
    k = sympy.simplify(level / sympy.Symbol("delta", positive=True))
    if not k.is_Integer:
        raise ValueError(f"{theorem.id}: failure level {level} is not an integer multiple of delta")
    return int(k)


def _default_certifier(net, norm=2, domain=None, **kw):
    from certify.methods.dispatch import lipschitz
    return lipschitz(net, norm=norm, domain=domain, **{**DEFAULT_CERTIFIER_OPTIONS, **kw})


def check(theorem, X, y, net, *, model=None, certifier: Callable | None = None, seed=None,
          weight_bound: float | None = None, sigma2=None, domain=None,
          certifier_options: dict | None = None, **params) -> CheckResult:
    """Check one catalogue statement on one instance ``(X, y, net)``.

    Parameters
    ----------
    theorem : Theorem or str
        A catalogue record or its id (``"universal_law"``, ``"deep_networks"`` ...).
    X : array_like, shape (n, d)
    y : array_like, shape (n,)
    net : Network or Fit
        The fitted network (a :class:`certify.harness.fit.Fit` is unwrapped).
    model : bounds.data.DataModel, optional
        The distribution the sample came from: supplies ``c, K, sigma^2`` and the support.
    certifier : callable, optional
        ``certifier(net, norm=2, domain=box_or_None, **certifier_options) -> Certificate``;
        default :func:`certify.lipschitz`.  Only ``.upper`` (and ``.lower``) are used.
    seed : optional
        Recorded in the result (the seed that produced the instance).
    weight_bound : float, optional
        ``W_max`` of the class ``{||w||_inf <= W_max}`` (universal law, deep networks); default:
        the power of two above the largest weight (at least 1).
    sigma2 : number, optional
        ``E Var(y | x)`` when no model is given (exact values as ``Fraction`` are kept exact).
    domain : (lo, hi), optional
        Override the certification box (it must contain the theorem's domain).
    certifier_options : dict, optional
        Passed to the certifier (default certifier: :data:`DEFAULT_CERTIFIER_OPTIONS` updated
        with these, e.g. ``{"method": "naive"}`` for a fast global bound).
    **params
        The theorem's parameters (``eps``, ``delta`` ...); they override the ones derived from the
        instance and the model.

    Returns
    -------
    CheckResult

    Raises
    ------
    ParameterError
        Missing ``eps``/``delta``/``sigma2`` or an invalid parameter.
    """
    th = bounds.get(theorem) if isinstance(theorem, str) else theorem
    if not isinstance(th, Theorem):
        raise ParameterError("theorem", theorem, "a bounds.Theorem or a catalogue id")
    if hasattr(net, "network") and isinstance(getattr(net, "network"), Network):
        net = net.network
    if not isinstance(net, Network):
        raise ParameterError("net", type(net).__name__, "a certify.Network (or a certify.harness.fit.Fit)")
    X = np.asarray(X, dtype=float)
    y = np.asarray(y, dtype=float)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ShapeError(f"X, y: expected shapes (n, d) and (n,), got {X.shape} and {y.shape}")
    if X.shape[1] != net.input_dim:
        raise ShapeError(f"X has d={X.shape[1]} columns but the network takes {net.input_dim} inputs")
    th._refuse_if_not_evaluable()

    ctx = _Context(th, X, y, net, model, dict(params), weight_bound, sigma2, domain)
    ADAPTERS.get(th.id, _plan_generic)(ctx)
    full = {k: v for k, v in ctx.params.items() if not k.startswith("_")}
    for k, v in params.items():
        full[k] = v
        ctx.sources[k] = "user"
    probabilistic = th.failure_level is not None
    delta = None
    if probabilistic and "delta" in full:
        # "with probability at least 1 - 2 delta" (any_model): the failure probability is 2 delta
        delta = float(full["delta"]) * failure_factor(th)

    def result(verdict, bound=None, cert=None, dom=None, hyps=(), failed=()):
        upper = None if cert is None else float(cert.upper)
        lower = None if cert is None else float(cert.lower)
        ratio = None
        if cert is not None and bound is not None:
            bv = float(_bound_value(bound))
            ratio = upper / bv if bv > 0 else math.inf
        return CheckResult(verdict, th.id, probabilistic, delta, bound, ctx.quantity, upper, lower,
                           ratio, cert, dom, list(hyps), list(failed), full, ctx.sources,
                           ctx.notes, X, y, net, seed)

    inst_failed = [h for h in ctx.hypotheses if not h.holds]
    if inst_failed:
        return result("not_applicable", hyps=ctx.hypotheses, failed=inst_failed)
    if th.data_fn is not None and ctx.data_kwargs is not None:
        bound = th.from_data(X, y, **ctx.data_kwargs)
        # the data-dependent entries are probabilistic only through the optional delta
        probabilistic = "probabilistic" in bound.method
        delta = float(params["delta"]) if probabilistic else None
        hyps = ctx.hypotheses + list(bound.failed)
        if not bound.within_hypotheses:
            return result("not_applicable", hyps=hyps, failed=list(bound.failed))
    elif th.data_fn is not None and th.id in ADAPTERS:
        return result("not_applicable", hyps=ctx.hypotheses, failed=inst_failed)
    else:
        theorem_hyps = th.hypotheses(**full)
        hyps = ctx.hypotheses + theorem_hyps
        failed = [h for h in hyps if not h.holds]
        if failed:
            return result("not_applicable", hyps=hyps, failed=failed)
        bound = th.lower_bound(**full)
        if ctx.bound_scale < 1:
            # rounding the product down keeps it a lower bound
            with mpmath.workprec(mpmath.mp.prec):
                bound = mpmath.mpf(bound) * mpmath.mpf(ctx.bound_scale)
                bound = bound - abs(bound) * mpmath.mpf(2) ** (-mpmath.mp.prec + 4)

    if getattr(th, "quantity", _LIP) != _LIP and ctx.proxy_upper is None:
        # a lower bound on a proxy (>= Lip f) says nothing about Lip f: never compare them
        raise UnsupportedError(f"{th.id} bounds {th.quantity}, not Lip(f), and check has no "
                               "certified upper bound of that quantity (add an adapter)")
    dom = _certification_domain(ctx)
    if ctx.proxy_upper is not None:
        cert = _ProxyCertificate(ctx.proxy_upper(net), ctx.quantity)
    else:
        cert = (certifier or _default_certifier)(net, norm=2, domain=dom, **(certifier_options or {}))
    b = _bound_value(bound)
    if mpmath.mpf(cert.upper) < b * (1 - _REL_MARGIN):
        if probabilistic:
            ctx.notes.append(f"violation of a probabilistic statement: it is allowed to fail with "
                             f"probability <= delta = {delta:g}; estimate the failure rate with "
                             "certify.harness.statistics.failure_rate before calling it a counterexample")
        else:
            ctx.notes.append("violation of a DETERMINISTIC statement: either the statement, its "
                             "constants, the hypotheses' check or the certifier is wrong")
        return result("violated", bound, cert, dom, hyps)
    if cert.lower >= b:
        ctx.notes.append("the certified LOWER bound already exceeds the theorem's bound")
    return result("consistent", bound, cert, dom, hyps)

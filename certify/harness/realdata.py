"""The law of robustness on real data: noisy-label digits, two-layer ReLU widths 8 .. 1024.

:func:`digits_sample` takes ``n`` images of ``sklearn.datasets.load_digits`` (bundled with
scikit-learn: 1,797 images of 8x8 pixels, ``d = 64``), scales them into the unit ball (pixels / 16,
then divided by the largest norm, so ``R = 1``), labels them by parity (even ``+1``, odd ``-1``) and
flips each label independently with probability ``noise`` (so ``sigma^2 = E Var(y|x) =
4 noise (1 - noise)``, the label noise the law is about).

:func:`digits_trial` is one trial of the campaign (a width ``k``): it fits a two-layer ReLU
network with a random first layer and a least-squares output layer
(:func:`certify.harness.fit.random_features`: exact interpolation once ``k`` is somewhat above
``n``), and records

* the **certified** enclosure of its global l2 Lipschitz constant (:func:`certify.lipschitz`,
  method ``auto`` within the trial's ``cert_time_limit``): rigorous lower and upper ends;
* its training MSE (rigorous upper bound, interval arithmetic) and parameter count ``p``;
* the **projection floor** ``two_layer_projection`` at that MSE: a rigorous lower bound on the
  Lipschitz constant of *every* ``k``-neuron network fitting the sample that well;
* the universal law's bound ``universal_law`` (and ``universal_law_sharp`` when the catalogue has
  it) at ``n, d = 64, p``, the class constants ``W, J`` of the network's architecture, ``eps``,
  ``delta`` and ``c = 1``: **stated, not guaranteed here**: its hypotheses (isoperimetric inputs,
  ``n`` large enough) are not verified, or fail, on this sample, and the row lists which.

The McShane floor of the sample (:func:`bounds.interpolation` ``minimal_interpolation``,
rigorous) depends on the sample only; the report computes it once.

Examples
--------
>>> X, y = digits_sample(50, noise=0.2, seed=0)      # doctest: +SKIP
>>> X.shape, float(abs(X).max()) <= 1                # doctest: +SKIP
((50, 64), True)
"""

from __future__ import annotations

import math
import time
from pathlib import Path

import numpy as np

import bounds
from bounds.errors import ParameterError

__all__ = ["digits_sample", "digits_trial", "digits_spec", "law_bounds", "digits_table",
           "digits_plot", "DIGITS_EPS", "DIGITS_DELTA"]

#: ``eps`` of the universal law (fits with MSE <= sigma^2 - eps) and its ``delta``; fixed in advance.
DIGITS_EPS = 0.3
DIGITS_DELTA = 0.1


def digits_sample(n: int, noise: float = 0.2, seed: int = 0):
    """``n`` digits images in the unit ball with parity labels flipped with probability ``noise``."""
    from sklearn.datasets import load_digits
    X, label = load_digits(return_X_y=True)
    if isinstance(n, bool) or int(n) != n or not 2 <= n <= len(X):
        raise ParameterError("n", n, f"integers in [2, {len(X)}]")
    if not 0 <= float(noise) < 0.5:
        raise ParameterError("noise", noise, "[0, 0.5)")
    X = X / 16.0
    X = X / float(np.max(np.linalg.norm(X, axis=1)))
    rng = np.random.default_rng([int(seed), 13])
    idx = rng.choice(len(X), int(n), replace=False)
    y = np.where(label[idx] % 2 == 0, 1.0, -1.0)
    flip = rng.random(int(n)) < float(noise)
    y[flip] = -y[flip]
    return np.ascontiguousarray(X[idx]), y


def law_bounds(net, n: int, d: int, sigma2: float, mse: float, eps: float = DIGITS_EPS,
               delta: float = DIGITS_DELTA) -> dict:
    """Stated universal-law bounds at the network's class parameters (evaluated with check=False).

    Returns ``{entry: (value, failed hypotheses)}`` plus the parameters used; ``fit_level``
    (``MSE <= sigma^2 - eps``) is added to the failures when the fit is not good enough.
    """
    from bounds.universal import deep_network_parameters
    wmax_net = max(float(np.max(np.abs(a))) for a in net.weights + net.biases)
    wmax = 2.0 ** max(0, math.ceil(math.log2(wmax_net))) if wmax_net > 0 else 1.0
    q = deep_network_parameters(list(net.widths), W=wmax, R=1.0)
    params = dict(n=int(n), d=int(d), p=int(q.p), eps=eps, delta=delta, c=1, W=float(q.diameter),
                  J=float(q.J), K=1)
    out = {"params": params}
    for tid in ("universal_law", "universal_law_sharp"):
        if tid not in bounds.ids():
            continue
        rec = bounds.get(tid)
        use = {k: v for k, v in params.items() if k in rec.parameter_names}
        missing = [p.name for p in rec.parameters if p.name not in use and p.default is None]
        if missing:
            out[tid] = (math.nan, [f"needs {', '.join(missing)}"])
            continue
        try:
            bv = rec.lower_bound(check=False, **use)
        except Exception as exc:  # noqa: BLE001 - reported in the row, not hidden
            out[tid] = (math.nan, [f"{type(exc).__name__}: {exc}"])
            continue
        failed = [h.name for h in getattr(bv, "failed", []) or []]
        if mse > sigma2 - eps:
            failed.append("fit_level")
        out[tid] = (float(bv), failed + ["isoperimetry (assumed c = 1, not verified)"])
    return out


def digits_trial(point: dict, seed: int) -> dict:
    """One width of the digits campaign (point keys ``k``, ``n``, ``noise``, ``cert_time_limit``)."""
    from certify.harness.check import mse_upper
    from certify.harness.fit import random_features
    from certify.methods.dispatch import lipschitz
    k, n, noise = int(point["k"]), int(point["n"]), float(point["noise"])
    t0 = time.perf_counter()
    X, y = digits_sample(n, noise, seed)
    fit = random_features(X, y, k=k, seed=[seed, k])
    net = fit.network
    fit_s = time.perf_counter() - t0
    mse = float(mse_upper(net, X, y))
    cert = lipschitz(net, norm=2, time_limit=float(point.get("cert_time_limit", 10.0)))
    proj = float(bounds.get("two_layer_projection").from_data(X, y, k=k, mse=mse)) \
        if mse < 1 else math.nan
    sigma2 = 4 * noise * (1 - noise)
    law = law_bounds(net, n, X.shape[1], sigma2, mse)
    row = dict(k=k, p=int(net.n_params), mse=mse, interpolates=bool(fit.success),
               lip_lower=float(cert.lower), lip_upper=float(cert.upper), method=cert.method,
               cert_status=cert.status, projection=proj, W=law["params"]["W"], J=law["params"]["J"],
               eps=DIGITS_EPS, delta=DIGITS_DELTA, sigma2=sigma2, fit_seconds=fit_s)
    for tid in ("universal_law", "universal_law_sharp"):
        if tid in law:
            row[tid] = law[tid][0]
            row[f"{tid}_failed"] = ", ".join(law[tid][1])
    return row


def digits_spec(quick: bool = False):
    """The report's digits campaign (:class:`certify.harness.campaign.Spec`)."""
    from certify.harness.campaign import Spec
    if quick:
        return Spec(task="certify.harness.realdata:digits_trial", name="digits (quick)",
                    grid={"k": [8, 128]}, seeds=[0],
                    fixed={"n": 60, "noise": 0.2, "cert_time_limit": 0.5}, time_limit=60)
    return Spec(task="certify.harness.realdata:digits_trial", name="digits",
                grid={"k": [8, 16, 32, 64, 128, 256, 512, 1024]}, seeds=[0],
                fixed={"n": 400, "noise": 0.2, "cert_time_limit": 4.0}, time_limit=120)


def digits_table(records: list, floor: float, n: int, noise: float):
    """The campaign's rows as a :class:`bounds.tables.Table`."""
    from bounds.tables import Column, Table
    cols = [Column("k", "width k", kind="number"), Column("p", "parameters p", kind="number"),
            Column("mse", "train MSE (upper)", kind="upper", digits=3),
            Column("lip_lower", "Lip lower (certified)", kind="lower"),
            Column("lip_upper", "Lip upper (certified)", kind="upper"),
            Column("method", kind="text"), Column("cert_status", "certification", kind="text"),
            Column("projection", "projection floor (rigorous)", kind="lower"),
            Column("mcshane", "McShane floor if interpolating (rigorous)", kind="lower"),
            Column("W", "class diameter W", kind="number", digits=4),
            Column("J", "class constant J", kind="number", digits=4),
            Column("universal_law", "universal law (stated, hyp. fail)", kind="lower")]
    if any("universal_law_sharp" in r for r in records):
        cols.append(Column("universal_law_sharp", "universal law sharp (hyp. fail)", kind="lower"))
    rows = [{**r, "mcshane": floor if r.get("interpolates") else math.nan} for r in records]
    r0 = records[0] if records else {}
    cap = (f"load_digits, n = {n} images in the unit ball (d = 64), parity labels flipped with "
           f"probability {noise} (sigma^2 = {4 * noise * (1 - noise):.2f}); random-features ReLU "
           "fits (least-squares output layer). Certified: the Lipschitz enclosure (rigorous "
           "ends), the projection floor (any k-neuron net with that MSE) and the McShane floor "
           "(any exact interpolant). Stated only: the universal law at eps = "
           f"{r0.get('eps')}, delta = {r0.get('delta')}, c = 1, K = 1, R = 1 and the W, J of the "
           "class {|weights| <= the power of two above the largest} of each architecture; its "
           "hypotheses fail here (at the first width: " + (r0.get("universal_law_failed") or "")
           + "; per width in the CSV).")
    return Table("The law of robustness on noisy digits", cols, rows, caption=cap,
                 label="tab:digits")


def digits_plot(records: list, floor: float, stem, n: int, noise: float) -> list:
    """Certified Lip vs parameters (log-log) with the floors and bounds; ``stem.{png,pdf}``."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    rs = sorted((r for r in records if math.isfinite(r.get("lip_upper") or math.nan)),
                key=lambda r: r["p"])
    p = np.array([r["p"] for r in rs], dtype=float)
    fig, ax = plt.subplots(figsize=(7.0, 5.6), constrained_layout=True)
    up = np.array([r["lip_upper"] for r in rs])
    lo = np.array([r["lip_lower"] for r in rs])
    lo = np.where(lo > 0, lo, up)  # no bar to zero on a log axis
    ax.errorbar(p, up, yerr=[up - lo, np.zeros_like(up)], fmt="o", ms=7, mfc="none", mew=1.5,
                capsize=3, label="certified Lip enclosure of the fit (rigorous; bar down to the "
                                 "witnessed lower end)")
    pr = [(r["p"], r["projection"]) for r in rs if (r.get("projection") or 0) > 0]
    if pr:
        ax.plot(*np.array(pr).T, "s-", ms=5, label="projection floor at the fit's MSE "
                                                   "(certified lower bound, any k-neuron net)")
    if math.isfinite(floor):
        ax.axhline(floor, color="k", ls=":", lw=1.2,
                   label=f"McShane floor of the sample = {floor:.3g} (certified, any exact interpolant)")
    for tid, style in (("universal_law", "v--"), ("universal_law_sharp", "^--")):
        pts = [(r["p"], r[tid]) for r in rs if (r.get(tid) or 0) > 0]
        if pts:
            ax.plot(*np.array(pts).T, style, ms=5, alpha=0.8,
                    label=f"{tid} (stated formula; hypotheses fail on this sample: not a guarantee)")
    for r in rs:
        ax.annotate(f"k={r['k']}", (r["p"], r["lip_upper"]), textcoords="offset points",
                    xytext=(4, 4), fontsize=7)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("parameters p of the two-layer network")
    ax.set_ylabel("global l2 Lipschitz constant")
    ax.set_title(f"Noisy digits: n = {n}, d = 64, label-flip probability {noise}; random-features "
                 "ReLU fits", fontsize=10)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.13), frameon=False)
    paths = [Path(f"{stem}.png"), Path(f"{stem}.pdf")]
    fig.savefig(paths[0], dpi=150)
    fig.savefig(paths[1])
    plt.close(fig)
    return paths

"""Command line: ``python -m certify {report, lipschitz, check, campaign}``.

``report [--out DIR] [--quick] [--workers N]``
    Run the whole harness (:func:`certify.report.build_report`); exit status 1 if any verdict is
    "violated" or a section failed to run.  ``--workers`` runs the trials on a local process pool.
``campaign SPEC.toml --out DIR [--workers N] [--scheduler ADDRESS]``
    Run or resume an experiment campaign (:func:`certify.harness.campaign.run`, ``docs/campaigns.md``);
    exit status 1 if some trials failed (their rows hold the error), 2 on a bad spec or folder.
``lipschitz MODEL [--norm 2] [--box LO HI] [--method auto] [--time-limit S] [--activation A] [--json]``
    Certify the Lipschitz constant of a network stored as ``W1, b1, ..., WL, bL`` (see
    :meth:`certify.Network.from_npz`), or ONNX (:meth:`certify.Network.from_onnx`), or of a shipped network named by
    ``certify.datasets.names()``, and print the certificate and its independent verification.
    Ctrl-C prints the best rigorous enclosure found so far and exits with status 130.
``check THEOREM DATA.npz MODEL [name=value ...] [--json]``
    Run :func:`certify.check` on a sample ``X, y`` (arrays ``X`` and ``y`` in ``DATA.npz``) and a
    network; prints the verdict (exit status 1 if violated).  Theorem parameters are
    ``name=value`` pairs, as in ``python -m bounds``.

``--json`` prints one JSON object (schema in ``docs/cli.md``).  Exit status: 0 success,
1 a violated verdict (check, report), a report section that failed or a failed campaign trial,
2 bad input, 130 interrupted by Ctrl-C (lipschitz prints its best enclosure; campaign keeps the
finished trials).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path

from certify.methods.budget import DEFAULT_TIME_LIMIT


#: exit status of ``lipschitz`` after Ctrl-C (128 + SIGINT, as shells report it); the best
#: rigorous enclosure found so far is still printed
EXIT_INTERRUPTED = 130


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        return float(text)


def _json_float(x):
    """A float for JSON (``inf``/``nan``, which JSON lacks, as strings)."""
    if x is None:
        return None
    x = float(x)
    return x if math.isfinite(x) else str(x)


def _load_model(model: str, activation=None):
    """A network from an ``.npz`` or ``.onnx`` path, or a shipped one by name (``certify.datasets.names()``)."""
    from certify.model import datasets
    from certify.model.network import Network
    if not Path(model).exists() and model in datasets.names():
        return datasets.load(model) if activation is None else \
            Network.from_npz(datasets.path(model), activation=activation)
    if str(model).lower().endswith(".onnx"):
        if activation is not None:
            raise SystemExit("--activation applies to .npz files; an ONNX model states its activations")
        return Network.from_onnx(model)
    return Network.from_npz(model, activation=activation)


def _theorem_params(tokens) -> dict:
    """``name=value`` pairs -> ``{name: number}`` (one convention with ``python -m bounds``)."""
    from bounds.errors import ParameterError
    params = {}
    for kv in tokens or []:
        if "=" not in kv or kv.startswith("="):
            raise ParameterError("arguments", kv, "theorem parameters as name=value pairs, e.g. "
                                 "eps=0.5 delta=0.1 ('python -m bounds show ID' lists them)")
        k, v = kv.split("=", 1)
        if k.strip() in params:
            raise ParameterError(k.strip(), v, "given once", "repeated")
        params[k.strip()] = _number(v.strip())
    return params


def _cmd_report(args) -> int:
    from .report import build_report
    rep = build_report(args.out, quick=args.quick, progress=not args.no_progress,
                       workers=args.workers)
    c = rep.counts()
    print(f"report written to {rep.out / 'report.md'} in {rep.elapsed:.1f} s: "
          + ", ".join(f"{v} {n}" for v, n in c.items() if n))
    for title, it in rep.violated:
        print(f"!!! VIOLATED [{title}] {it.name}: {it.detail}", file=sys.stderr)
    for s in rep.errors:
        print(f"!!! ERROR in section {s.title}", file=sys.stderr)
    return 0 if rep.ok else 1


def _cmd_campaign(args) -> int:
    from certify.harness.campaign import Spec, dask_executor, run
    spec = Spec.from_toml(args.spec)
    client = executor = None
    if args.scheduler:
        if args.workers is not None:
            raise SystemExit("error: --workers and --scheduler exclude each other "
                             "(the cluster's workers run the trials)")
        client, executor = dask_executor(args.scheduler)
    try:
        res = run(spec, executor=executor, store=args.out, workers=args.workers,
                  progress=not args.no_progress)
    except KeyboardInterrupt:
        print(f"interrupted: the finished trials are stored in {args.out}; run the same command "
              "to resume", file=sys.stderr)
        return 130
    finally:
        if client is not None:
            client.close()
    if res.repaired:
        print(f"note: cut off an incomplete last line ({res.repaired} bytes) left by an "
              "interrupted run; that trial was run again", file=sys.stderr)
    print(res.summary())
    for r in res.failed[:5]:
        print(f"  trial {r['trial']} {r['point']} seed {r['seed']}: {r['status']}: "
              f"{(r['error'] or '').splitlines()[0]}")
    if len(res.failed) > 5:
        print(f"  ... {len(res.failed) - 5} more failed trials")
    return 1 if res.failed else 0


def _cmd_lipschitz(args) -> int:
    from certify.methods.dispatch import lipschitz
    net = _load_model(args.model, args.activation)
    domain = None if args.box is None else (args.box[0], args.box[1])
    total = None if args.time_limit <= 0 else args.time_limit
    verify_share = 0.0 if args.no_verify or total is None else total / 3
    cert = lipschitz(net, norm=args.norm, domain=domain, method=args.method,
                     time_limit=None if total is None else total - verify_share, tol=args.tol,
                     progress=args.progress)
    if args.json:
        left = None if total is None else max(total - cert.elapsed, verify_share)
        ver = None if args.no_verify else cert.verify(time_limit=left)
        print(json.dumps({
            "command": "lipschitz", "model": args.model, "network": repr(net),
            "norm": str(cert.norm), "domain": None if domain is None else list(domain),
            "lower": _json_float(cert.lower), "upper": _json_float(cert.upper),
            "method": cert.method, "rigorous": bool(cert.rigorous), "exact": bool(cert.exact),
            "status": cert.status, "elapsed": cert.elapsed,
            "witness": None if cert.witness is None else [float(v) for v in cert.witness.x],
            "verification": None if ver is None else {"ok": bool(ver.ok), "messages": list(ver.messages)},
        }, indent=2))
        return EXIT_INTERRUPTED if cert.status == "interrupted" else 0
    print(f"network: {net!r}")
    print(f"Lipschitz constant enclosure: {cert}")
    print(f"  lower = {cert.lower!r}")
    print(f"  upper = {cert.upper!r}")
    print(f"  elapsed = {cert.elapsed:.3f} s")
    if not args.no_verify:
        left = None if total is None else max(total - cert.elapsed, verify_share)
        print("independent verification: " + str(cert.verify(time_limit=left)))
    if cert.status == "interrupted":
        print("interrupted (Ctrl-C): the enclosure above is the best rigorous one found so far",
              file=sys.stderr)
        return EXIT_INTERRUPTED
    return 0


def _cmd_check(args) -> int:
    import numpy as np

    from certify.harness.check import check
    data = np.load(args.data)
    if "X" not in data or "y" not in data:
        raise SystemExit(f"{args.data}: expected arrays 'X' and 'y'")
    net = _load_model(args.model)
    params = _theorem_params(list(args.params or []) + list(args.param or []))
    res = check(args.theorem, data["X"], data["y"], net, **params)
    if args.json:
        row = res.as_row()
        print(json.dumps({
            "command": "check", "theorem": res.theorem_id, "verdict": res.verdict,
            "bound": _json_float(row["bound"]), "upper": _json_float(res.upper),
            "lower": _json_float(res.lower), "ratio": _json_float(res.ratio),
            "probabilistic": bool(res.probabilistic), "delta": _json_float(res.delta),
            "n": row["n"], "d": row["d"], "p": row["p"],
            "failed": [h.name for h in res.failed], "notes": list(res.notes),
            "parameters": {k: (v if isinstance(v, (int, float, str, bool)) or v is None else str(v))
                           for k, v in res.params.items()},
        }, indent=2))
        return 1 if res.verdict == "violated" else 0
    print(res)
    for note in res.notes:
        print("  note:", note)
    return 1 if res.verdict == "violated" else 0


def main(argv=None) -> int:
    """Entry point of ``python -m certify``."""
    p = argparse.ArgumentParser(prog="python -m certify",
                                description="Law-of-robustness proof-checking harness and "
                                            "rigorous Lipschitz certification.",
                                epilog="Exit status: 0 success, 1 a violated verdict or a failed "
                                       "report section, 2 bad input, 130 interrupted by Ctrl-C "
                                       "(lipschitz prints its best enclosure). --json: see "
                                       "docs/cli.md.")
    sub = p.add_subparsers(dest="command", required=True)

    r = sub.add_parser("report", help="run everything, write tables, figures and report.md")
    r.add_argument("--out", default="report", help="output directory (default ./report)")
    r.add_argument("--quick", action="store_true", help="small sizes: under a minute")
    r.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    r.add_argument("--workers", type=int, default=None,
                   help="processes for the trials (default 1: serial in this process)")
    r.set_defaults(fn=_cmd_report)

    cp = sub.add_parser("campaign", help="run or resume an experiment campaign (SPEC.toml)")
    cp.add_argument("spec", help="campaign spec in TOML (docs/campaigns.md)")
    cp.add_argument("--out", required=True, help="output folder (rows are appended there; resumes)")
    cp.add_argument("--workers", type=int, default=None,
                    help="local worker processes (default: all cores; 1 = serial)")
    cp.add_argument("--scheduler", default=None, metavar="ADDRESS",
                    help="Dask scheduler address, e.g. tcp://10.0.0.1:8786 (needs lawrob[dask])")
    cp.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    cp.set_defaults(fn=_cmd_campaign)

    l = sub.add_parser("lipschitz", help="certify the Lipschitz constant of a network (.npz or .onnx)")
    l.add_argument("model", help=".npz with W1, b1, ..., WL, bL (and optionally activations), .onnx, "
                                 "or the name of a shipped network (certify.datasets.names())")
    l.add_argument("--norm", default="2", help="1, 2 or inf (default 2)")
    l.add_argument("--box", nargs=2, type=float, metavar=("LO", "HI"),
                   help="input box [LO, HI]^d (default: all of R^d)")
    from certify.methods.dispatch import METHODS
    l.add_argument("--method", default="auto",
                   help="auto (default: the portfolio), " + ", ".join(sorted(METHODS)))
    l.add_argument("--time-limit", type=float, default=DEFAULT_TIME_LIMIT,
                   help="seconds in total, whichever method (default "
                        f"{DEFAULT_TIME_LIMIT:g}; 0 for no limit): two thirds for the "
                        "certification, the rest for the independent verification; when it runs "
                        "out the best rigorous enclosure so far is printed")
    l.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="progress line on stderr (default: only when stderr is a terminal)")
    l.add_argument("--tol", type=float, default=1e-9, help="relative gap to stop at")
    l.add_argument("--activation", default=None, help="activation if the .npz does not say (relu)")
    l.add_argument("--no-verify", action="store_true", help="skip the independent re-check")
    l.add_argument("--json", action="store_true", help="print one JSON object (docs/cli.md)")
    l.set_defaults(fn=_cmd_lipschitz)

    c = sub.add_parser("check", help="check a catalogue theorem on a sample and a network",
                       epilog="Theorem parameters: name=value pairs, e.g. eps=0.5 delta=0.1; "
                              "'python -m bounds show THEOREM' lists them. Exit status: 0 "
                              "consistent or not applicable, 1 violated, 2 bad input.")
    c.add_argument("theorem", help="catalogue id, e.g. two_layer_projection")
    c.add_argument("data", help=".npz with arrays X (n, d) and y (n,)")
    c.add_argument("model", help=".npz network or a shipped network's name")
    c.add_argument("params", nargs="*", metavar="name=value",
                   help="theorem parameters, e.g. eps=0.5 delta=0.1")
    c.add_argument("--param", action="append", metavar="NAME=VALUE", help=argparse.SUPPRESS)
    c.add_argument("--json", action="store_true", help="print one JSON object (docs/cli.md)")
    c.set_defaults(fn=_cmd_check)

    args, extra = p.parse_known_args(argv)
    # name=value pairs may also follow options (check THEOREM DATA MODEL --json eps=0.5)
    if extra and args.command == "check" and all("=" in t and not t.startswith("-") for t in extra):
        args.params = list(args.params or []) + extra
    elif extra:
        p.error("unrecognized arguments: " + " ".join(extra))
    try:
        return args.fn(args)
    except BrokenPipeError:
        raise  # the reader closed stdout: bounds._cli.run ends quietly
    except (ValueError, OSError) as exc:  # bad input or unreadable file: one clear line
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    from bounds._cli import run

    run(main)

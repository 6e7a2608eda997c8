"""Command line: ``python -m certify {report, lipschitz, check, campaign}``.

``report [--out DIR] [--quick] [--workers N]``
    Run the whole harness (:func:`certify.report.build_report`); exit status 1 if any verdict is
    "violated" or a section failed to run.  ``--workers`` runs the trials on a local process pool.
``campaign SPEC.toml --out DIR [--workers N] [--scheduler ADDRESS]``
    Run or resume an experiment campaign (:func:`certify.harness.campaign.run`, ``docs/campaigns.md``);
    exit status 1 if some trials failed (their rows hold the error), 2 on a bad spec or folder.
``lipschitz MODEL.npz [--norm 2] [--box LO HI] [--method auto] [--time-limit S] [--activation A]``
    Certify the Lipschitz constant of a network stored as ``W1, b1, ..., WL, bL`` (see
    :meth:`certify.Network.from_npz`) and print the certificate and its independent verification.
``check THEOREM DATA.npz MODEL.npz [--param NAME=VALUE ...]``
    Run :func:`certify.check` on a sample ``X, y`` (arrays ``X`` and ``y`` in ``DATA.npz``) and a
    network; prints the verdict (exit status 1 if violated).
"""

from __future__ import annotations

import argparse
import sys


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        return float(text)


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
    from certify.model.network import Network
    net = Network.from_npz(args.model, activation=args.activation)
    domain = None if args.box is None else (args.box[0], args.box[1])
    cert = lipschitz(net, norm=args.norm, domain=domain, method=args.method,
                     time_limit=args.time_limit, tol=args.tol)
    print(f"network: {net!r}")
    print(f"Lipschitz constant enclosure: {cert}")
    print(f"  lower = {cert.lower!r}")
    print(f"  upper = {cert.upper!r}")
    print(f"  elapsed = {cert.elapsed:.3f} s")
    if not args.no_verify:
        print("independent verification: " + str(cert.verify()))
    return 0


def _cmd_check(args) -> int:
    import numpy as np

    from certify.harness.check import check
    from certify.model.network import Network
    data = np.load(args.data)
    if "X" not in data or "y" not in data:
        raise SystemExit(f"{args.data}: expected arrays 'X' and 'y'")
    net = Network.from_npz(args.model)
    params = {}
    for kv in args.param or []:
        if "=" not in kv:
            raise SystemExit(f"--param expects NAME=VALUE, got {kv!r}")
        k, v = kv.split("=", 1)
        params[k.strip()] = _number(v.strip())
    res = check(args.theorem, data["X"], data["y"], net, **params)
    print(res)
    for note in res.notes:
        print("  note:", note)
    return 1 if res.verdict == "violated" else 0


def main(argv=None) -> int:
    """Entry point of ``python -m certify``."""
    p = argparse.ArgumentParser(prog="python -m certify",
                                description="Law-of-robustness proof-checking harness and "
                                            "rigorous Lipschitz certification.")
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

    l = sub.add_parser("lipschitz", help="certify the Lipschitz constant of a network (.npz)")
    l.add_argument("model", help=".npz with W1, b1, ..., WL, bL (and optionally activations)")
    l.add_argument("--norm", default="2", help="1, 2 or inf (default 2)")
    l.add_argument("--box", nargs=2, type=float, metavar=("LO", "HI"),
                   help="input box [LO, HI]^d (default: all of R^d)")
    l.add_argument("--method", default="auto", help="auto, exact, interval, sdp or naive")
    l.add_argument("--time-limit", type=float, default=None, help="seconds (anytime methods)")
    l.add_argument("--tol", type=float, default=1e-9, help="relative gap to stop at")
    l.add_argument("--activation", default=None, help="activation if the .npz does not say (relu)")
    l.add_argument("--no-verify", action="store_true", help="skip the independent re-check")
    l.set_defaults(fn=_cmd_lipschitz)

    c = sub.add_parser("check", help="check a catalogue theorem on a sample and a network")
    c.add_argument("theorem", help="catalogue id, e.g. two_layer_projection")
    c.add_argument("data", help=".npz with arrays X (n, d) and y (n,)")
    c.add_argument("model", help=".npz network")
    c.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="theorem parameter, e.g. --param eps=0.5 --param delta=0.1")
    c.set_defaults(fn=_cmd_check)

    args = p.parse_args(argv)
    try:
        return args.fn(args)
    except (ValueError, OSError) as exc:  # bad input or unreadable file: one clear line
        print(f"error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())

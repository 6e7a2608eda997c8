"""Command line: ``python -m certify {report, lipschitz, check}``.

``report [--out DIR] [--quick]``
    Run the whole harness (:func:`certify.report.build_report`); exit status 1 if any verdict is
    "violated" or a section failed to run.
``lipschitz MODEL.npz [--norm 2] [--box LO HI] [--method auto] [--time-limit S] [--activation A]``
    Certify the Lipschitz constant of a network stored as ``W1, b1, ..., WL, bL`` (see
    :meth:`certify.Network.from_npz`) and print the certificate and its independent verification.
    Ctrl-C prints the best rigorous enclosure found so far and exits with status 130.
``check THEOREM DATA.npz MODEL.npz [--param NAME=VALUE ...]``
    Run :func:`certify.check` on a sample ``X, y`` (arrays ``X`` and ``y`` in ``DATA.npz``) and a
    network; prints the verdict (exit status 1 if violated).
"""

from __future__ import annotations

import argparse
import sys

from certify.methods.budget import DEFAULT_TIME_LIMIT


#: exit status of ``lipschitz`` after Ctrl-C (128 + SIGINT, as shells report it); the best
#: rigorous enclosure found so far is still printed
EXIT_INTERRUPTED = 130


def _number(text: str):
    try:
        return int(text)
    except ValueError:
        return float(text)


def _cmd_report(args) -> int:
    from .report import build_report
    rep = build_report(args.out, quick=args.quick, progress=not args.no_progress)
    c = rep.counts()
    print(f"report written to {rep.out / 'report.md'} in {rep.elapsed:.1f} s: "
          + ", ".join(f"{v} {n}" for v, n in c.items() if n))
    for title, it in rep.violated:
        print(f"!!! VIOLATED [{title}] {it.name}: {it.detail}", file=sys.stderr)
    for s in rep.errors:
        print(f"!!! ERROR in section {s.title}", file=sys.stderr)
    return 0 if rep.ok else 1


def _cmd_lipschitz(args) -> int:
    from certify.methods.dispatch import lipschitz
    from certify.model.network import Network
    net = Network.from_npz(args.model, activation=args.activation)
    domain = None if args.box is None else (args.box[0], args.box[1])
    total = None if args.time_limit <= 0 else args.time_limit
    verify_share = 0.0 if args.no_verify or total is None else total / 3
    cert = lipschitz(net, norm=args.norm, domain=domain, method=args.method,
                     time_limit=None if total is None else total - verify_share, tol=args.tol,
                     progress=args.progress)
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
    r.set_defaults(fn=_cmd_report)

    l = sub.add_parser("lipschitz", help="certify the Lipschitz constant of a network (.npz)")
    l.add_argument("model", help=".npz with W1, b1, ..., WL, bL (and optionally activations)")
    l.add_argument("--norm", default="2", help="1, 2 or inf (default 2)")
    l.add_argument("--box", nargs=2, type=float, metavar=("LO", "HI"),
                   help="input box [LO, HI]^d (default: all of R^d)")
    l.add_argument("--method", default="auto", help="auto, exact, interval, sdp or naive")
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

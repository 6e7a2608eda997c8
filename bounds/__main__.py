"""Command line: ``python -m bounds list|show|eval|table|solve``.

Examples (shell)::

    python -m bounds list
    python -m bounds show universal_law
    python -m bounds eval universal_law --n 1e6 --d 100 --p 1e5 --eps 0.5 --delta 0.01 \\
        --W 10 --J 10 --precision 30
    python -m bounds table universal_law --grid n=1e6,1e8 --grid p=1e4,1e6 --d 100 \\
        --eps 0.5 --delta 0.01 --W 10 --J 10 --format md
    python -m bounds solve universal_law --unknown p --lip 1 --n 1e9 --d 1000 --eps 0.5 \\
        --delta 0.01 --W 10 --J 10

Theorem parameters are given as ``--name value`` (``--name=value`` also works)
and parsed exactly (decimal strings, not floats). Bad input prints the typed
error and exits with status 2; a failed hypothesis exits with status 3.
"""

from __future__ import annotations

import argparse
import csv
import io
import itertools
import sys
from decimal import Decimal, localcontext
from fractions import Fraction

import mpmath

from . import catalog, get
from .errors import HypothesisError, NotEvaluableError, ParameterError, UnknownTheoremError

__all__ = ["main"]


def _pairs(extra: list[str]) -> dict[str, str]:
    """``['--n', '1e6', '--d=3']`` -> ``{'n': '1e6', 'd': '3'}``."""
    out, i = {}, 0
    while i < len(extra):
        tok = extra[i]
        if not tok.startswith("--") or len(tok) < 3:
            raise ParameterError("arguments", tok, "--name value pairs")
        if "=" in tok:
            k, v = tok[2:].split("=", 1)
            i += 1
        else:
            if i + 1 >= len(extra):
                raise ParameterError(tok[2:], None, "a value after " + tok)
            k, v = tok[2:], extra[i + 1]
            i += 2
        if k in out:
            raise ParameterError(k, v, "given once", "repeated")
        out[k] = v
    return out


def _fmt(x, digits: int, rounding: str = "nearest") -> str:
    """``x`` to ``digits`` significant digits; ``rounding='down'``/``'up'`` never crosses ``x``.

    A printed lower bound must not exceed the number it prints (``nstr`` rounds to nearest).

    >>> import mpmath
    >>> _fmt(mpmath.mpf(2) / 3, 3), _fmt(mpmath.mpf(2) / 3, 3, "down"), _fmt(-mpmath.mpf(2) / 3, 3, "up")
    ('0.667', '0.666', '-0.666')
    """
    if x is None:
        return "-"
    text = mpmath.nstr(x, digits)
    if rounding == "nearest" or not mpmath.isfinite(x):
        return text
    # x.man_exp, not mpmath.mpf(x): the latter may round a wide mantissa
    man, exp = x.man_exp if isinstance(x, mpmath.mpf) else mpmath.mpf(x).man_exp
    exact = Fraction(man) * Fraction(2) ** exp
    shown = Decimal(text)
    with localcontext() as ctx:
        ctx.prec = digits
        if rounding == "down" and Fraction(shown) > exact:
            return str(shown.next_minus())
        if rounding == "up" and Fraction(shown) < exact:
            return str(shown.next_plus())
    return text


def _cmd_list(args, extra) -> str:
    rows = [(t.id, str(t.status), t.title) for t in catalog()]
    w = max(len(r[0]) for r in rows)
    return "\n".join(f"{i:<{w}}  {s:<10}  {title}" for i, s, title in rows)


def _cmd_show(args, extra) -> str:
    t = get(args.id)
    lines = [f"{t.id} ({t.status}): {t.title}", f"source: {t.citation}"]
    if t.citation.note:
        lines.append(f"note: {t.citation.note}")
    lines.append("parameters:")
    for p in t.parameters:
        default = "" if p.default is None else f", default {p.default}"
        lines.append(f"  {p.name:<7} {p.domain_str()}{default}: {p.meaning}")
    if t.hypothesis_list:
        lines.append("hypotheses (checked):")
        lines += [f"  {h.name}: {h.description}" for h in t.hypothesis_list]
    if t.assumptions:
        lines.append("assumptions (not checkable from the parameters):")
        lines += [f"  - {a}" for a in t.assumptions]
    if t.expr is not None:
        lines.append(f"bound: {t.latex()}")
    lines.append(f"conclusion: {t.conclusion}")
    if t.notes:
        lines.append(f"notes: {t.notes}")
    if t.trivial_floor is not None:
        lines.append(f"trivial floor: {t.trivial_floor.expr} ({t.trivial_floor.setting})")
    if t.erratum:
        lines.append(f"erratum (what the source says, docs/errata.md): {t.erratum}")
    if t.refusal and not t.evaluable:
        lines.append(f"not evaluated: {t.refusal}")
    return "\n".join(lines)


def _cmd_eval(args, extra) -> str:
    t = get(args.id)
    params = _pairs(extra)
    v = t.lower_bound(precision=args.precision, check=not args.no_check, **params)
    out = [f"Lip(f) >= {_fmt(v, args.precision, 'down')}"]
    if not v.within_hypotheses:
        out.append("OUTSIDE THE HYPOTHESES: " + "; ".join(str(h) for h in v.failed))
    out += _vacuity_lines(t, v, args.precision)
    return "\n".join(out)


def _vacuity_lines(t, v, digits: int) -> list[str]:
    """A note when the bound does not beat the record's trivial floor (nothing if it has none)."""
    if not v.vacuous:
        return []
    return [f"VACUOUS: the bound does not exceed the trivial floor {_fmt(v.floor, digits)} "
            f"({t.trivial_floor.setting})"]


def _grid(specs: list[str]) -> dict[str, list[str]]:
    grids = {}
    for s in specs or []:
        if "=" not in s:
            raise ParameterError("grid", s, "name=v1,v2,...")
        k, vals = s.split("=", 1)
        values = [v.strip() for v in vals.split(",") if v.strip()]
        if not values:
            raise ParameterError("grid", s, "name=v1,v2,... with at least one value")
        grids[k.strip()] = values
    return grids


def _cmd_table(args, extra) -> str:
    t = get(args.id)
    fixed = _pairs(extra)
    grids = _grid(args.grid)
    clash = set(grids) & set(fixed)
    if clash:
        raise ParameterError(sorted(clash)[0], None, "either a grid or a fixed value, not both")
    names = list(grids)
    rows = []
    for combo in itertools.product(*(grids[k] for k in names)):
        v = t.lower_bound(precision=args.precision, check=False, **fixed, **dict(zip(names, combo)))
        note = "hold" if v.within_hypotheses else "outside: " + ", ".join(h.name for h in v.failed)
        if v.vacuous:
            note += "; vacuous (<= trivial floor " + _fmt(v.floor, 6) + ")"
        rows.append(list(combo) + [_fmt(v, args.precision, "down"), note])
    head = names + ["bound", "hypotheses"]
    if args.format == "csv":
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(head)
        w.writerows(rows)
        return buf.getvalue().rstrip("\n")
    if args.format == "latex":
        lines = [r"\begin{tabular}{" + "r" * len(names) + "rl}", " & ".join(head) + r" \\",
                 r"\hline"]
        lines += [" & ".join(r) + r" \\" for r in rows]
        lines.append(r"\end{tabular}")
        return "\n".join(lines)
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines)


def _cmd_solve(args, extra) -> str:
    t = get(args.id)
    params = _pairs(extra)
    r = t.solve(args.unknown, lip=args.lip, precision=args.precision, **params)
    word = "least" if r.direction == "min" else "largest"
    # printed on the admissible side, so the printed value is admissible too
    shown = _fmt(r.value, args.precision, "up" if r.direction == "min" else "down")
    lines = [f"{word} {r.unknown} with bound <= {args.lip}: {shown}",
             "method: " + ("closed form " + str(r.solution) if r.exact
                           else f"bisection, bracket [{_fmt(r.bracket[0], 12)}, "
                                f"{_fmt(r.bracket[1], 12)}]")]
    if not r.within_hypotheses:
        lines.append("OUTSIDE THE HYPOTHESES at this value: "
                     + "; ".join(str(h) for h in r.hypotheses if not h))
    if r.informative is False:
        lines.append("NOT INFORMATIVE: " + r.note)
    return "\n".join(lines)


def _parser() -> argparse.ArgumentParser:
    # no abbreviations: --p must never be read as --precision, nor --n as --no-check
    ap = argparse.ArgumentParser(prog="python -m bounds", allow_abbrev=False,
                                 description="Law-of-robustness bound calculator")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the catalogue", allow_abbrev=False)
    s = sub.add_parser("show", help="show one entry", allow_abbrev=False)
    s.add_argument("id")
    for name, helptext in (("eval", "evaluate the bound"), ("table", "tabulate over grids"),
                           ("solve", "solve the bound for one parameter")):
        s = sub.add_parser(name, help=helptext, allow_abbrev=False)
        s.add_argument("id")
        s.add_argument("--precision", type=int, default=15, help="decimal digits")
        if name == "eval":
            s.add_argument("--no-check", action="store_true",
                           help="evaluate even if a hypothesis fails (marked in the output)")
        if name == "table":
            s.add_argument("--grid", action="append", help="name=v1,v2,... (repeatable)")
            s.add_argument("--format", choices=("md", "latex", "csv"), default="md")
        if name == "solve":
            s.add_argument("--unknown", required=True)
            s.add_argument("--lip", required=True, help="target Lipschitz level")
    return ap


_COMMANDS = {"list": _cmd_list, "show": _cmd_show, "eval": _cmd_eval, "table": _cmd_table,
             "solve": _cmd_solve}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input, 3 hypothesis fails)."""
    ap = _parser()
    args, extra = ap.parse_known_args(argv)
    if args.command in ("list", "show") and extra:
        ap.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        print(_COMMANDS[args.command](args, extra))
    except HypothesisError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    except (ParameterError, UnknownTheoremError, NotEvaluableError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())

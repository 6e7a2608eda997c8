"""Command line: ``python -m bounds list|show|eval|table|solve``.

Examples (shell)::

    python -m bounds list
    python -m bounds show universal_law
    python -m bounds eval universal_law n=1e6 d=100 p=1e5 eps=0.5 delta=0.01 W=10 J=10 \\
        --precision 30
    python -m bounds table universal_law --grid n=1e6,1e8 --grid p=1e4,1e6 d=100 eps=0.5 \\
        delta=0.01 W=10 J=10 --format latex
    python -m bounds solve universal_law --unknown p --lip 1 n=1e9 d=1000 eps=0.5 delta=0.01 \\
        W=10 J=10

Theorem parameters are ``name=value`` pairs (the convention of ``python -m certify`` too),
parsed exactly (decimal strings, not floats); ``python -m bounds show ID`` lists an entry's
parameters, and so does ``python -m bounds eval ID --help``.  ``--json`` prints one JSON object
(schema in ``docs/cli.md``).  Exit status: 0 success, 2 bad input (unknown entry or parameter,
value out of range, not evaluable), 3 a theorem hypothesis fails (``--no-check`` evaluates anyway).
"""

from __future__ import annotations

import argparse
import json
import sys
from . import catalog, get, ids
from .rounding import nstr_directed
from .errors import HypothesisError, NotEvaluableError, ParameterError, UnknownTheoremError
from .tables import table

__all__ = ["main"]


#: How theorem parameters are given, for --help and error messages.
PARAM_HELP = ("theorem parameters as name=value pairs, e.g. n=1e6 d=100 (exact decimals); "
              "'python -m bounds show ID' lists them")


def _params(args, extra: list[str]) -> dict[str, str]:
    """``name=value`` tokens (declared positionals and any left over) -> ``{name: value}``.

    The old form ``--name value`` is still read, with a note on stderr.
    """
    tokens = list(getattr(args, "params", None) or []) + list(extra)
    out, legacy, i = {}, [], 0
    while i < len(tokens):
        tok = tokens[i]
        if tok.startswith("--") and len(tok) > 2:  # deprecated --name value / --name=value
            if "=" in tok:
                k, v = tok[2:].split("=", 1)
                i += 1
            else:
                if i + 1 >= len(tokens):
                    raise ParameterError(tok[2:], None, "name=value pairs (" + PARAM_HELP + ")")
                k, v = tok[2:], tokens[i + 1]
                i += 2
            legacy.append(k)
        elif "=" in tok and not tok.startswith("="):
            k, v = tok.split("=", 1)
            i += 1
        else:
            raise ParameterError("arguments", tok, PARAM_HELP)
        k = k.strip()
        if k in out:
            raise ParameterError(k, v, "given once", "repeated")
        out[k] = v.strip()
    if legacy:
        print("note: '--NAME VALUE' is deprecated; give theorem parameters as NAME=VALUE, e.g. "
              + " ".join(f"{k}={out[k]}" for k in legacy), file=sys.stderr)
    return out


def _json_number(x, digits: int, rounding: str = "nearest"):
    """A number for JSON: a decimal string at ``digits`` significant digits, rounded safely."""
    return None if x is None else _fmt(x, digits, rounding)


def _json_hypotheses(results) -> list:
    return [{"name": h.name, "holds": bool(h.holds), "lhs": _json_number(h.lhs, 15),
             "relation": h.relation, "rhs": _json_number(h.rhs, 15),
             "description": h.description} for h in results]


def _emit_json(obj) -> str:
    return json.dumps(obj, indent=2)


def _fmt(x, digits: int, rounding: str = "nearest") -> str:
    """``x`` to ``digits`` significant digits, never crossing ``x`` when rounding is directed."""
    return nstr_directed(x, digits, rounding)


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
    params = _params(args, extra)
    v = t.lower_bound(precision=args.precision, check=not args.no_check, **params)
    if args.json:
        return _emit_json({"command": "eval", "id": t.id, "parameters": params,
                           "precision": args.precision,
                           "lower_bound": _json_number(v, args.precision, "down"),
                           "within_hypotheses": bool(v.within_hypotheses),
                           "vacuous": None if v.vacuous is None else bool(v.vacuous),
                           "trivial_floor": _json_number(v.floor, args.precision),
                           "hypotheses": _json_hypotheses(t.hypotheses(**params))})
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
    """The library's table (:func:`bounds.tables.table`): one renderer for both."""
    t = get(args.id)
    grids = _grid(args.grid)
    if not grids:
        raise ParameterError("grid", None, "at least one --grid name=v1,v2,...")
    tab = table(t.id, grid=grids, fixed=_params(args, extra), precision=args.precision)
    if len(grids) == 2 and not args.long:
        tab = tab.pivot(*grids)  # rows: the first grid, columns: the second
    if args.json or args.format == "json":
        return _emit_json({"command": "table", "id": t.id, **tab.to_json()})
    if args.format == "csv":
        return tab.to_csv().rstrip("\n")
    if args.format == "latex":
        return tab.to_latex().rstrip("\n")  # its first line names the preamble (a comment)
    return tab.to_markdown().rstrip("\n")


def _cmd_solve(args, extra) -> str:
    t = get(args.id)
    params = _params(args, extra)
    r = t.solve(args.unknown, lip=args.lip, precision=args.precision, check=not args.no_check,
                **params)
    if args.json:
        side = "up" if r.direction == "min" else "down"
        return _emit_json({"command": "solve", "id": t.id, "unknown": r.unknown,
                           "lip": args.lip, "parameters": params, "precision": args.precision,
                           "direction": r.direction, "status": r.status, "message": r.message,
                           "value": r.value if isinstance(r.value, int)
                           else _json_number(r.value, args.precision, side),
                           "exact": bool(r.exact), "certified": bool(r.certified),
                           "within_hypotheses": bool(r.within_hypotheses),
                           "hypotheses": _json_hypotheses(r.hypotheses)})
    lines = [str(r)]     # the summary (its 'note' row says NOT INFORMATIVE when so)
    if not r.within_hypotheses:
        lines.append("OUTSIDE THE HYPOTHESES at this value: "
                     + "; ".join(str(h) for h in r.hypotheses if not h))
    return "\n".join(lines)


def _epilog(theorem_id: str | None) -> str:
    """The parameters of ``theorem_id`` (when the command line names one) for --help."""
    text = "Theorem parameters: name=value pairs, e.g. n=1e6 d=100 (exact decimals)."
    if theorem_id in ids():
        t = get(theorem_id)
        text += f"\n\nparameters of {t.id}:\n" + "\n".join(
            f"  {p.name:<7} {p.meaning}; {p.domain_str()}"
            + ("" if p.default is None else f", default {p.default}") for p in t.parameters)
    else:
        text += "\n'python -m bounds show ID' or 'python -m bounds eval ID --help' lists them."
    return text + "\n\nExit status: 0 success, 2 bad input, 3 a hypothesis fails (see --no-check)."


def _parser(argv=()) -> argparse.ArgumentParser:
    # no abbreviations: --p must never be read as --precision, nor --n as --no-check
    ap = argparse.ArgumentParser(prog="python -m bounds", allow_abbrev=False,
                                 description="Law-of-robustness bound calculator",
                                 epilog="Exit status: 0 success, 2 bad input, 3 a hypothesis fails.")
    sub = ap.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list the catalogue", allow_abbrev=False)
    s = sub.add_parser("show", help="show one entry (its parameters, hypotheses, bound)",
                       allow_abbrev=False)
    s.add_argument("id")
    named = next((a for a in argv if a in ids()), None)
    for name, helptext in (("eval", "evaluate the bound"), ("table", "tabulate over grids"),
                           ("solve", "solve the bound for one parameter")):
        s = sub.add_parser(name, help=helptext, allow_abbrev=False, epilog=_epilog(named),
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        s.add_argument("id", help="catalogue id ('python -m bounds list')")
        s.add_argument("params", nargs="*", metavar="name=value", help=PARAM_HELP)
        s.add_argument("--precision", type=int, default=15, help="decimal digits")
        s.add_argument("--json", action="store_true", help="print one JSON object (docs/cli.md)")
        if name in ("eval", "solve"):
            s.add_argument("--no-check", action="store_true",
                           help="evaluate even if a hypothesis fails (marked in the output)")
        if name == "table":
            s.add_argument("--grid", action="append", metavar="name=v1,v2,...",
                           help="a parameter's values (repeatable; two grids make a matrix)")
            s.add_argument("--format", choices=("md", "latex", "csv", "json"), default="md",
                           help="latex: booktabs + siunitx, preamble named in its first line")
            s.add_argument("--long", action="store_true",
                           help="one row per grid point, even for a two-parameter grid")
        if name == "solve":
            s.add_argument("--unknown", required=True)
            s.add_argument("--lip", required=True, help="target Lipschitz level")
    return ap


def _cli_message(exc: Exception) -> str:
    """The error in the CLI's words (flags, not keyword arguments)."""
    if isinstance(exc, HypothesisError):
        exc = HypothesisError(exc.theorem_id, exc.failed,
                              "Use --no-check to evaluate anyway (the result is then marked as "
                              "outside the theorem's hypotheses).")
    return str(exc).replace("check=False", "--no-check")


_COMMANDS = {"list": _cmd_list, "show": _cmd_show, "eval": _cmd_eval, "table": _cmd_table,
             "solve": _cmd_solve}


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; returns the exit status (0 ok, 2 bad input, 3 hypothesis fails)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    ap = _parser(argv)
    args, extra = ap.parse_known_args(argv)
    if args.command in ("list", "show") and extra:
        ap.error(f"unrecognized arguments: {' '.join(extra)}")
    try:
        print(_COMMANDS[args.command](args, extra))
    except HypothesisError as exc:
        print(f"error: {_cli_message(exc)}", file=sys.stderr)
        return 3
    except (ParameterError, UnknownTheoremError, NotEvaluableError) as exc:
        print(f"error: {_cli_message(exc)}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    from ._cli import run

    run(main)

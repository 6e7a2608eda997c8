"""Tables of catalogue bounds and predictions, rendered as Markdown, LaTeX (booktabs/siunitx) and CSV.

:func:`table` evaluates one catalogue entry over a parameter grid; :func:`predictions_table` turns
the real-data predictions of [BS21, Sec. 1.1] into a table; :func:`catalogue_table` lists the
entries.  All return a :class:`Table`, which knows how to render and save itself.

Lower bounds are printed **rounded down** (to the displayed digits in Markdown/LaTeX, to the next
float below in CSV), so that a printed number is still a valid lower bound; certified upper bounds
(columns of kind ``"upper"``) are rounded *up* in the same way.  Where a theorem's
hypotheses fail the bound column is left empty and the status column names the failed hypotheses;
the CSV keeps the formula's value in a separate ``formula_value`` column, marked as not a bound.

Examples
--------
>>> from bounds.tables import table
>>> t = table("universal_law", grid={"n": [10**4, 10**9]},
...           fixed=dict(d=100, p=10**6, eps=0.5, delta=0.01, W=10, J=10))
>>> [row["hypotheses"] for row in t.rows]
['fails: sample_size', 'holds']
>>> print(t.to_markdown().splitlines()[2])
| n | Lip lower bound | hypotheses |
>>> t.constants["c"], t.constants["K"]    # fixed values and the entry's defaults: in the caption
(1, 1)

A two-parameter grid reads best as a matrix (rows ``n``, columns ``p``); empty cells are points
where a hypothesis fails:

>>> m = table("universal_law", grid={"n": [10**4, 10**9], "p": [10**3, 10**6]},
...           fixed=dict(d=100, eps=0.5, delta=0.01, W=10, J=10)).pivot("n", "p")
>>> for line in m.to_markdown().splitlines()[2:6]: print(line)
| n | p = 1000 | p = 1000000 |
|---:|---:|---:|
| 10000 |  |  |
| 1e9 | 3.185 | 0.1007 |
"""

from __future__ import annotations

import csv
import dataclasses
import io
import itertools
import math
import re
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal, localcontext
from pathlib import Path
from typing import Any, Mapping, Sequence

import mpmath
import numpy as np

import bounds
from bounds.errors import NotEvaluableError, ParameterError

__all__ = ["Column", "Table", "table", "predictions_table", "catalogue_table", "latex_escape",
           "latex_name", "LATEX_PREAMBLE"]

#: LaTeX spelling of the papers' parameter names.
_LATEX_NAMES = {
    "eps": r"$\varepsilon$", "delta": r"$\delta$", "sigma": r"$\sigma$", "mu": r"$\mu$",
    "Bbar": r"$\bar B$", "logF": r"$\log|\mathcal{F}|$", "lip": r"$L$",
}
_LATEX_SPECIAL = {"\\": r"\textbackslash{}", "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#",
                  "_": r"\_", "{": r"\{", "}": r"\}", "~": r"\textasciitilde{}",
                  "^": r"\textasciicircum{}", "<": r"\textless{}", ">": r"\textgreater{}",
                  "|": r"\textbar{}"}


#: What :meth:`Table.to_latex` needs in the document preamble.
LATEX_PREAMBLE = r"\usepackage{booktabs, siunitx, amsmath}"


def latex_escape(text: str) -> str:
    """Escape the LaTeX special characters of plain text."""
    return "".join(_LATEX_SPECIAL.get(ch, ch) for ch in str(text))


def latex_name(name: str) -> str:
    r"""A parameter name in LaTeX maths: ``eps`` -> ``$\varepsilon$``, ``n`` -> ``$n$``.

    Names without a mathematical spelling (``hypotheses``) are escaped text.
    """
    if name in _LATEX_NAMES:
        return _LATEX_NAMES[name]
    if re.fullmatch(r"[A-Za-z]", name):
        return f"${name}$"
    if re.fullmatch(r"[A-Za-z]+_?[0-9]+", name):  # k1 -> $k_{1}$
        head, tail = re.fullmatch(r"([A-Za-z]+)_?([0-9]+)", name).groups()
        return f"${head}_{{{tail}}}$"
    return latex_escape(name)


def _latex_value(v) -> str:
    """A constant for a caption or header: ``\num{...}`` for numbers, escaped text otherwise."""
    if _is_number(v):
        return rf"\num{{{_sig(v, 6, floor=False)}}}"
    if isinstance(v, str) and _NUMERIC.fullmatch(v.strip()):
        return rf"\num{{{v.strip()}}}"
    return latex_escape(v)


def _md_value(v) -> str:
    return _sig(v, 6, floor=False) if _is_number(v) else str(v)


_NUMERIC = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")


@dataclass(frozen=True)
class Column:
    """One column of a :class:`Table`.

    Attributes
    ----------
    key : str
        Key of the column in each row dict (also the CSV header).
    label : str
        Header in Markdown.
    latex : str
        Header in LaTeX (already LaTeX; defaults to the escaped label).
    kind : {"number", "lower", "upper", "text"}
        ``"lower"`` marks lower bounds: rounded *down* when displayed; ``"upper"`` marks upper
        bounds: rounded *up*.
    digits : int
        Significant digits displayed in Markdown/LaTeX.
    """

    key: str
    label: str = ""
    latex: str = ""
    kind: str = "number"
    digits: int = 4

    def __post_init__(self):
        if self.kind not in ("number", "lower", "upper", "text"):
            raise ParameterError("kind", self.kind, "'number', 'lower', 'upper' or 'text'")
        if not self.label:
            object.__setattr__(self, "label", self.key)
        if not self.latex:
            object.__setattr__(self, "latex", latex_name(self.label))


def _is_number(v) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating, mpmath.mpf)) and not isinstance(v, bool)


def _exact_decimal(v) -> Decimal | None:
    """The exact value of a float or mpf as a Decimal (None for inf/nan)."""
    if isinstance(v, (int, np.integer)):
        return Decimal(int(v))  # mpmath.mpf(v) would round a large integer to 53 bits
    m = mpmath.mpf(v)
    if not mpmath.isfinite(m):
        return None
    sign, man, exp, _ = m._mpf_
    with localcontext() as ctx:
        ctx.prec = 2000  # exact for any binary exponent an mpf table value will have
        return (-1) ** sign * Decimal(int(man)) * Decimal(2) ** int(exp)


def _sig(v, digits: int, floor: bool, ceil: bool = False) -> str:
    """``v`` to ``digits`` significant digits, as ``1.234e5``/``123.4``.

    Rounded down if ``floor``, up if ``ceil``, else to nearest.
    """
    if isinstance(v, (int, np.integer)) and abs(int(v)) < 10**7:
        return str(int(v))
    d = _exact_decimal(v)
    if d is None:
        return str(float(v))
    if d == 0:
        return "0"
    exp = d.adjusted()
    q = Decimal(1).scaleb(exp - digits + 1)
    mode = ROUND_FLOOR if floor else ROUND_CEILING if ceil else None
    r = d.quantize(q, rounding=mode)
    if r.adjusted() != exp:  # rounding carried into a new digit (9.9995 -> 10.00)
        exp = r.adjusted()
        r = r.quantize(Decimal(1).scaleb(exp - digits + 1), rounding=mode)
    if -3 <= exp < 6:
        s = format(r, "f")
        return s.rstrip("0").rstrip(".") if "." in s else s
    mant = (r.scaleb(-exp)).normalize()
    return f"{mant}e{exp}"


def _csv_value(v, kind: str) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, np.integer)):
        return str(int(v))
    if _is_number(v):
        # an mpf is compared with all its bits: mpmath.mpf(v) would round it to 53 bits first
        m = v if isinstance(v, mpmath.mpf) else mpmath.mpf(v)
        f = float(m)
        if kind == "lower" and f > m:
            f = float(np.nextafter(f, -np.inf))
        elif kind == "upper" and f < m:
            f = float(np.nextafter(f, np.inf))
        return repr(f)
    return str(v)


@dataclass
class Table:
    """A rendered-on-demand table: columns, rows (dicts keyed by column key), caption and notes.

    Methods
    -------
    to_markdown, to_latex, to_csv, to_json
        Render.
    pivot(row_key, col_key)
        The matrix form of a two-parameter grid.
    save(directory, stem)
        Write ``stem.md``, ``stem.tex`` and ``stem.csv``; returns the three paths.

    ``constants`` (parameter -> value, the same in every row) are stated once, in the caption,
    instead of as constant columns; the LaTeX caption is short (title and constants) and the
    ``notes`` (provenance, assumptions, how to read empty cells) go below the table.
    """

    title: str
    columns: list
    rows: list
    caption: str = ""
    notes: list = field(default_factory=list)
    label: str = ""
    constants: dict = field(default_factory=dict)
    #: For a :meth:`pivot`: the one-row-per-point table it came from, which CSV and JSON render.
    long: "Table | None" = field(default=None, repr=False)

    def _cell(self, col: Column, row: Mapping, latex: bool) -> str:
        v = row.get(col.key)
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return ""  # e.g. a failed hypothesis: the formula is not a bound there
        if isinstance(v, bool):
            return "yes" if v else "no"
        if latex and isinstance(v, str) and col.kind == "number" and _NUMERIC.fullmatch(v.strip()):
            return rf"\num{{{v.strip()}}}"  # a value as the user wrote it ("1e6"), kept exact
        if _is_number(v) and col.kind != "text":
            if not mpmath.isfinite(mpmath.mpf(v)):
                # siunitx cannot typeset inf/nan; say it in words
                return latex_escape(str(float(v))) if latex else str(float(v))
            s = _sig(v, col.digits, floor=col.kind == "lower", ceil=col.kind == "upper")
            return rf"\num{{{s}}}" if latex else s
        return latex_escape(v) if latex else str(v).replace("|", r"\|")

    def to_markdown(self) -> str:
        """GitHub-flavoured Markdown: title, table, caption and notes."""
        out = [f"**{self.title}**", ""]
        out.append("| " + " | ".join(c.label for c in self.columns) + " |")
        out.append("|" + "|".join("---:" if c.kind != "text" else "---" for c in self.columns) + "|")
        for row in self.rows:
            out.append("| " + " | ".join(self._cell(c, row, False) for c in self.columns) + " |")
        if self.caption:
            out += ["", self.caption]
        if self.constants:
            out += ["", "Fixed: " + ", ".join(f"{k} = {_md_value(v)}" for k, v in self.constants.items())
                    + "."]
        if self.notes:
            out += ["", *(f"- {n}" for n in self.notes)]
        return "\n".join(out) + "\n"

    def to_latex(self) -> str:
        r"""A ``table`` float with a booktabs ``tabular``; numbers as ``\num{...}`` (siunitx).

        The first line is a comment naming the preamble it needs (:data:`LATEX_PREAMBLE`).  The
        caption is short: the title and the constants in maths; the caption text and the notes
        follow the table in a small paragraph.
        """
        spec = "".join("r" if c.kind != "text" else "l" for c in self.columns)
        lines = [f"% needs {LATEX_PREAMBLE}",
                 r"\begin{table}[ht]", r"\centering", rf"\begin{{tabular}}{{{spec}}}", r"\toprule",
                 " & ".join(c.latex for c in self.columns) + r" \\", r"\midrule"]
        for row in self.rows:
            lines.append(" & ".join(self._cell(c, row, True) for c in self.columns) + r" \\")
        lines += [r"\bottomrule", r"\end{tabular}"]
        cap = latex_escape(self.title)
        if self.constants:
            cap += "; " + ", ".join(
                f"{latex_name(k)[:-1] if latex_name(k).endswith('$') else latex_name(k)}"
                f"{' = ' if latex_name(k).endswith('$') else ' $= '}{_latex_value(v)}$"
                for k, v in self.constants.items())
        lines.append(rf"\caption{{{cap}.}}")
        if self.label:
            # labels are not typeset: escaping them (tab:universal\_law) breaks \ref
            lines.append(rf"\label{{{re.sub(r'[^A-Za-z0-9:_.-]', '-', self.label)}}}")
        note = [latex_escape(self.caption)] if self.caption else []
        note += [latex_escape(n) for n in self.notes]
        if note:
            lines += [r"\par\smallskip", r"\begin{minipage}{0.95\linewidth}\footnotesize",
                      " ".join(note), r"\end{minipage}"]
        lines.append(r"\end{table}")
        return "\n".join(lines) + "\n"

    def to_json(self) -> dict:
        """A JSON-ready dict: ``title``, ``columns`` (keys), ``rows``, ``constants``, ``caption``, ``notes``.

        Numbers are JSON numbers (lower bounds rounded down to a float, upper bounds up, as in the
        CSV); an empty cell (e.g. a failed hypothesis) is ``null``; values given as text stay text.
        As for the CSV, a pivoted table gives its one-row-per-point form.
        """
        if self.long is not None:
            return self.long.to_json()
        keys = [c.key for c in self.columns] + self._extra_keys()
        kinds = {c.key: c.kind for c in self.columns}

        def val(v, kind):
            if v is None or isinstance(v, (bool, str)):
                return v
            if _is_number(v):
                text = _csv_value(v, kind)
                return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
            return str(v)

        return {"title": self.title, "columns": keys,
                "rows": [{k: val(row.get(k), kinds.get(k, "number")) for k in keys} for row in self.rows],
                "constants": {k: val(v, "number") for k, v in self.constants.items()},
                "caption": self.caption, "notes": list(self.notes)}

    def pivot(self, row_key: str, col_key: str, value_key: str = "bound") -> "Table":
        """The matrix form: one row per value of ``row_key``, one column per value of ``col_key``.

        Cells are ``value_key`` (empty where it is None, e.g. where a hypothesis fails; the notes
        then say which hypotheses fail where).  Other columns must be constant (they go to the
        constants, i.e. the caption).  Markdown and LaTeX render the matrix; CSV and JSON (data)
        still give one row per point, from this table.

        Raises
        ------
        ParameterError
            An unknown key, or a third column that varies (the grid is not two-dimensional).
        """
        keys = [c.key for c in self.columns]
        for name, k in (("row_key", row_key), ("col_key", col_key), ("value_key", value_key)):
            if k not in keys:
                raise ParameterError(name, k, "one of the columns " + ", ".join(keys))
        # columns before the value are parameters (must be constant to pivot); columns after it
        # annotate each point (vacuity, ratios): they go to the notes, the data stays in the CSV
        vpos = keys.index(value_key)
        others = [c for c in self.columns[:vpos] if c.key not in (row_key, col_key)]
        annotations = [c for c in self.columns[vpos + 1:] if c.key not in (row_key, col_key)
                       and c.key != "hypotheses"]
        constants = dict(self.constants)
        for c in others:
            vals = {str(r.get(c.key)) for r in self.rows}
            if len(vals) > 1:
                raise ParameterError("columns", c.key, "constant to pivot on "
                                     f"({row_key}, {col_key})", "it varies")
            constants[c.key] = self.rows[0].get(c.key) if self.rows else None

        def distinct(k):
            out = []
            for r in self.rows:
                if not any(str(r[k]) == str(o) for o in out):
                    out.append(r[k])
            return out

        rows_v, cols_v = distinct(row_key), distinct(col_key)
        vcol = next(c for c in self.columns if c.key == value_key)
        rcol = next(c for c in self.columns if c.key == row_key)
        cols = [rcol] + [Column(f"{col_key}={cv}", label=f"{col_key} = {_md_value(cv)}",
                                latex=(latex_name(col_key)[:-1] + " = " + _latex_value(cv) + "$"
                                       if latex_name(col_key).endswith("$")
                                       else latex_name(col_key) + " = " + _latex_value(cv)),
                                kind=vcol.kind, digits=vcol.digits) for cv in cols_v]
        by = {(str(r[row_key]), str(r[col_key])): r for r in self.rows}
        rows, failing = [], {}
        for rv in rows_v:
            row = {row_key: rv}
            for cv in cols_v:
                r = by.get((str(rv), str(cv)), {})
                row[f"{col_key}={cv}"] = r.get(value_key)
                h = r.get("hypotheses")
                if isinstance(h, str) and h.startswith("fails: "):
                    failing.setdefault(h[len("fails: "):], []).append(
                        f"{row_key} = {_md_value(rv)}, {col_key} = {_md_value(cv)}")
            rows.append(row)
        notes = list(self.notes)
        for names, where in failing.items():
            notes.append(f"Empty ({names} fails): {'; '.join(where)}.")
        for c in annotations:
            marked = {}
            for r in self.rows:
                v = r.get(c.key)
                if c.kind == "text" and v not in (None, "", "no"):
                    marked.setdefault(str(v), []).append(
                        f"{row_key} = {_md_value(r[row_key])}, {col_key} = {_md_value(r[col_key])}")
            for v, where in marked.items():
                notes.append(f"{c.label}: {v} at {'; '.join(where)}.")
            if c.kind != "text":
                notes.append(f"{c.label}: per point in the CSV.")
        title = f"{self.title} ({vcol.label}; rows {row_key}, columns {col_key})"
        return Table(title=title, columns=cols, rows=rows, caption=self.caption, notes=notes,
                     label=self.label, constants=constants, long=self.long or self)

    def to_csv(self) -> str:
        """CSV with the column keys as header; full float precision, lower bounds rounded down.

        Data, not layout: a pivoted table writes its one-row-per-point form (every parameter,
        ``formula_value``, ``within_hypotheses``).
        """
        if self.long is not None:
            return self.long.to_csv()
        buf = io.StringIO()
        keys = [c.key for c in self.columns] + [k for k in self._extra_keys()]
        kinds = {c.key: c.kind for c in self.columns}
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(keys)
        for row in self.rows:
            w.writerow([_csv_value(row.get(k), kinds.get(k, "number")) for k in keys])
        return buf.getvalue()

    def _extra_keys(self) -> list:
        """Row keys that are not displayed columns (kept in the CSV only)."""
        shown = {c.key for c in self.columns}
        extra = []
        for row in self.rows:
            for k in row:
                if k not in shown and k not in extra:
                    extra.append(k)
        return extra

    def save(self, directory, stem: str) -> dict:
        """Write ``stem.md``, ``stem.tex``, ``stem.csv`` into ``directory`` (created if needed)."""
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        paths = {"md": d / f"{stem}.md", "tex": d / f"{stem}.tex", "csv": d / f"{stem}.csv"}
        paths["md"].write_text(self.to_markdown())
        paths["tex"].write_text(self.to_latex())
        paths["csv"].write_text(self.to_csv())
        return paths


# ------------------------------------------------------------------------------------------------
# builders
# ------------------------------------------------------------------------------------------------

def _grid_lists(rec, grid: Mapping, fixed: Mapping) -> dict:
    if not isinstance(grid, Mapping) or not grid:
        raise ParameterError("grid", grid, "a non-empty dict parameter name -> list of values")
    lists = {}
    for name, values in grid.items():
        rec.parameter(name)  # UnknownParameterError with the allowed names
        vals = list(np.atleast_1d(values).tolist()) if not isinstance(values, (list, tuple)) \
            else list(values)
        if not vals:
            raise ParameterError(name, values, "a non-empty list of values", "empty grid axis")
        if name in fixed:
            raise ParameterError(name, fixed[name], "given either in grid or in fixed, not both")
        lists[name] = vals
    for name in fixed:
        rec.parameter(name)
    return lists


def table(theorem_id: str, grid: Mapping[str, Sequence], fixed: Mapping[str, Any] | None = None,
          *, precision: int = 30, reference: str | None = None) -> Table:
    """Evaluate one catalogue entry over the Cartesian product of a parameter grid.

    Parameters
    ----------
    theorem_id : str
        A catalogue id (``bounds.ids()``).
    grid : dict
        Parameter name -> list of values; the rows run over the product, last axis fastest.
    fixed : dict, optional
        Values of the other parameters (defaults of the record apply to omitted ones).
    precision : int
        Decimal digits of the mpmath evaluation.
    reference : str, optional
        Another catalogue id over the same parameters (e.g. ``"universal_law"`` for
        ``"universal_law_sharp"``): adds the column ``factor``, this bound over the reference's
        at the same parameters (``"ref. fails"`` where the reference's hypotheses fail).

    Returns
    -------
    Table
        Columns: the varied and fixed parameters, ``bound`` (the lower bound, empty where a
        hypothesis fails), for records with a trivial floor ``floor`` and ``vacuous`` (``"yes"``
        when the bound does not exceed the floor), ``factor`` with a ``reference``, and
        ``hypotheses`` (``"holds"`` or ``"fails: name, ..."``).  Rows also carry
        ``formula_value`` and ``within_hypotheses`` (in the CSV only).

    Raises
    ------
    UnknownTheoremError, UnknownParameterError, ParameterError, NotEvaluableError
    """
    rec = bounds.get(theorem_id)
    if not rec.evaluable:
        raise NotEvaluableError(rec.id, str(rec.status), rec.refusal or "no proved bound")
    fixed = dict(fixed or {})
    lists = _grid_lists(rec, grid, fixed)
    rows = []
    for combo in itertools.product(*lists.values()):
        params = {**fixed, **dict(zip(lists, combo))}
        value = rec.lower_bound(check=False, precision=precision, **params)
        failed = [h.name for h in value.failed]
        row = {k: params[k] for k in (*lists, *fixed)}  # fixed ones: CSV only (constants)
        # make_mpf keeps every bit: mpmath.mpf(value) would round to the context's 53 bits, to
        # nearest, possibly above the (rounded-down) bound
        exact = mpmath.mp.make_mpf(value._mpf_)
        row.update(bound=exact if not failed else None,
                   hypotheses="holds" if not failed else "fails: " + ", ".join(failed),
                   formula_value=exact, within_hypotheses=not failed)
        if rec.trivial_floor is not None:
            row.update(floor=value.floor, vacuous="" if failed else ("yes" if value.vacuous else "no"))
        if reference is not None:
            row["factor"] = _factor(bounds.get(reference), value, params, precision)
        rows.append(row)
    cols = [Column(k, kind="number") for k in lists]
    cols.append(Column("bound", "Lip lower bound", r"$\operatorname{Lip}(f) \geq$", kind="lower"))
    if rec.trivial_floor is not None:
        cols += [Column("floor", "trivial floor", kind="number"),
                 Column("vacuous", "vacuous", kind="text")]
    if reference is not None:
        cols.append(Column("factor", f"x {reference}", kind="text"))
    cols.append(Column("hypotheses", "hypotheses", kind="text"))
    # every parameter that does not vary, including the entry's defaults (c, K, ...): in the caption
    constants = dict(fixed)
    for p in rec.parameters:
        if p.name not in lists and p.name not in constants and p.default is not None:
            constants[p.name] = p.default
    notes = [f"{rec.citation}; status: {rec.status}."]
    if rec.assumptions:
        notes.append("Assumed, not checkable from the parameters: " + "; ".join(rec.assumptions) + ".")
    notes.append("Bounds are rounded down. An empty bound means a hypothesis fails there: the "
                 "formula is then not a bound (its value is kept in the CSV column formula_value).")
    if rec.trivial_floor is not None:
        notes.append(f"Trivial floor: {rec.trivial_floor.setting}. 'vacuous = yes': the bound does "
                     "not exceed it there, so it says nothing new.")
    if reference is not None:
        notes.append(f"factor: this bound divided by {reference}'s at the same parameters.")
    return Table(title=f"{rec.id}: {rec.title}", columns=cols, rows=rows,
                 caption=rec.conclusion, notes=notes, label=f"tab:{rec.id}", constants=constants)


def _factor(ref, value, params: Mapping, precision: int) -> str:
    """``value / ref(params)`` to 3 digits, or why there is no ratio."""
    if not value.within_hypotheses:
        return ""
    other = ref.lower_bound(check=False, precision=precision,
                            **{k: v for k, v in params.items() if k in ref.parameter_names})
    if not other.within_hypotheses:
        return "ref. fails"
    return mpmath.nstr(value / other, 3)


def _as_dict(item) -> dict:
    if dataclasses.is_dataclass(item):
        return {f.name: getattr(item, f.name) for f in dataclasses.fields(item)}
    if isinstance(item, Mapping):
        return dict(item)
    if hasattr(item, "_asdict"):
        return dict(item._asdict())
    return dict(vars(item))


def _plain(v):
    """Table-friendly value: numbers stay numbers, sequences become 'a to b', others strings."""
    if v is None or isinstance(v, (bool, str)) or _is_number(v):
        return v
    if isinstance(v, (tuple, list)) and len(v) == 2 and all(_is_number(x) for x in v):
        return f"{_sig(v[0], 3, False)} to {_sig(v[1], 3, False)}"
    return str(v)


def predictions_table(predictions=None) -> Table:
    """The real-data predictions of [BS21, Sec. 1.1] as a :class:`Table`.

    Parameters
    ----------
    predictions : sequence, optional
        Items as returned by ``bounds.predictions()`` (dataclasses, named tuples or dicts); by
        default that function is called.  Every scalar field becomes a column.
    """
    items = bounds.predictions() if predictions is None else predictions
    notes = [str(a) for a in getattr(items, "assumptions", ())]
    items = getattr(items, "rows", items)
    if isinstance(items, Mapping):
        items = list(items.values())
    # nested results (e.g. SolveResult dicts) are not table cells
    rows = [{k: _plain(v) for k, v in _as_dict(it).items() if not isinstance(v, Mapping)}
            for it in items]
    keys = []
    for r in rows:
        keys += [k for k in r if k not in keys]
    # long prose fields go to the notes, not into a column
    prose = [k for k in keys if all(isinstance(r.get(k), str) and len(r.get(k)) > 60
                                    for r in rows if r.get(k) is not None)]
    cols = [Column(k, kind="number" if all(_is_number(r.get(k)) or r.get(k) is None for r in rows)
                   else "text") for k in keys if k not in prose]
    for k in prose:
        for r in rows:
            if r.get(k):
                first = r.get(keys[0])
                notes.append(f"{first}: {k}: {r[k]}")
    return Table(title="Real-data predictions of the universal law [BS21, Sec. 1.1]",
                 columns=cols, rows=rows,
                 caption="Parameters needed for robust interpolation, p ~ n d, from the formula.",
                 notes=notes, label="tab:predictions")


def catalogue_table() -> Table:
    """One row per catalogue entry: id, status, title, source, Lipschitz domain, evaluable."""
    rows = []
    for t in bounds.catalog():
        rows.append({"id": t.id, "status": str(t.status), "title": t.title,
                     "source": f"{t.citation.authors} {t.citation.year}"
                               + (f", {t.citation.theorem}" if t.citation.theorem else ""),
                     "domain": t.lipschitz_domain, "evaluable": t.evaluable,
                     "floor": str(t.trivial_floor.expr) if t.trivial_floor else ""})
    cols = [Column("id", kind="text"), Column("status", kind="text"), Column("title", kind="text"),
            Column("source", kind="text"), Column("domain", "Lip domain", kind="text"),
            Column("evaluable", kind="text"), Column("floor", "trivial floor", kind="text")]
    return Table(title="Catalogue of law-of-robustness entries", columns=cols, rows=rows,
                 caption="Status: stated (constants read in the source), derived (constants ours, "
                         "proved in docs/proofs; also a stated entry whose gap we repaired), "
                         "conjecture/withdrawn/unproved (never evaluated; unproved: the source's "
                         "proof has a gap, docs/errata.md). Trivial floor: what every fit in the "
                         "entry's setting satisfies anyway; bounds not above it are marked vacuous.",
                 label="tab:catalogue")

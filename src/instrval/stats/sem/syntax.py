"""lavaan model syntax: the measurement-model subset, parsed into statements.

Supported (lavaan 0.6 meanings):

* ``f =~ x1 + x2 + x3`` -- the factor ``f`` is measured by ``x1, x2, x3``; a factor may be
  measured by factors (a higher-order factor).
* ``x1 ~~ x2`` -- a (residual) covariance, ``x1 ~~ x1`` a (residual) variance,
  ``f1 ~~ 0*f2`` a fixed covariance.
* ``x1 ~ 1`` -- an intercept (a mean for a factor).
* Modifiers before a term, joined by ``*``: a number fixes the parameter (``1*x``, ``0*x``),
  ``NA`` frees it (``NA*x1`` frees a marker loading), ``start(.5)`` gives a starting value,
  a name or ``label("a")`` labels it (parameters with the same label are equal), and
  ``c(...)`` gives one modifier per group (``c(a, b)*x``, ``c(1, NA)*x``).
* Comments start with ``#`` or ``!``; statements are separated by new lines or ``;`` and a
  statement may continue on the next line after a trailing ``+`` or operator.

Anything else (regressions ``y ~ x``, ``==`` constraints, ``:=`` definitions, ``|``
thresholds) is refused with an error naming the line and the term.

R equivalent: ``lavaan::lavaanify(model)`` (the parameter table built from these statements).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from instrval.errors import Problem, StatisticsError

__all__ = ["Modifier", "Statement", "parse_syntax"]

_NAME = re.compile(r"^[A-Za-z_.][A-Za-z0-9_.]*$")
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_OPS = ("=~", "~~", "~")
_UNSUPPORTED = ("==", ":=", "<~", "|", "<", ">")


@dataclass(frozen=True)
class Modifier:
    """One group's modifier of a term: ``fixed`` value, ``free`` (NA), ``start``, ``label``."""

    fixed: float | None = None
    free: bool = False
    start: float | None = None
    label: str | None = None


@dataclass(frozen=True)
class Statement:
    """One parameter named in the syntax: ``lhs op rhs`` with per-group modifiers.

    ``modifiers`` holds one :class:`Modifier` per group when the syntax gave ``c(...)``,
    else a single one that applies to every group.
    """

    lhs: str
    op: str
    rhs: str
    modifiers: tuple[Modifier, ...]
    line: int

    def modifier(self, group: int) -> Modifier:
        """The modifier for group ``group`` (0-based)."""
        if len(self.modifiers) == 1:
            return self.modifiers[0]
        return self.modifiers[group]


def _error(message: str, line: int, term: str) -> StatisticsError:
    return StatisticsError(f"model syntax, line {line}: {message}",
                           [Problem("bad_model_syntax", message, line=line, value=term)])


def _split_top(text: str, sep: str) -> list[str]:
    """Split on ``sep`` outside parentheses and quotes."""
    out, depth, cur, quote = [], 0, [], ""
    for ch in text:
        if quote:
            cur.append(ch)
            if ch == quote:
                quote = ""
            continue
        if ch in "\"'":
            quote = ch
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == sep and depth == 0:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


def _statements(text: str) -> list[tuple[str, int]]:
    """Logical statements with the line they start on (comments removed, continuations
    joined)."""
    out: list[tuple[str, int]] = []
    pending, start = "", 0
    for no, raw in enumerate(text.splitlines(), start=1):
        line = re.split(r"[#!]", raw, maxsplit=1)[0].strip()
        for part in _split_top(line, ";"):
            part = part.strip()
            if not part:
                continue
            if pending:
                pending += " " + part
            else:
                pending, start = part, no
            if not re.search(r"(\+|\*|=~|~~|~)\s*$", pending):
                out.append((pending, start))
                pending = ""
    if pending:
        out.append((pending, start))
    return out


def _one_modifier(tok: str, line: int, term: str) -> Modifier:
    tok = tok.strip()
    if _NUMBER.match(tok):
        return Modifier(fixed=float(tok))
    if tok == "NA":
        return Modifier(free=True)
    m = re.fullmatch(r"start\(\s*([^)]*)\s*\)", tok)
    if m:
        if not _NUMBER.match(m.group(1).strip()):
            raise _error(f"start() needs a number, got {m.group(1)!r}", line, term)
        return Modifier(start=float(m.group(1)))
    m = re.fullmatch(r"(?:label|equal)\(\s*[\"']([^\"']+)[\"']\s*\)", tok)
    if m:
        return Modifier(label=m.group(1))
    m = re.fullmatch(r"[\"']([^\"']+)[\"']", tok)
    if m:
        return Modifier(label=m.group(1))
    if _NAME.match(tok):
        return Modifier(label=tok)
    raise _error(f"cannot read the modifier {tok!r} in {term!r} (a number, NA, start(x), "
                 "a label or c(...))", line, term)


def _merge(a: Modifier, b: Modifier) -> Modifier:
    return Modifier(fixed=b.fixed if b.fixed is not None else a.fixed,
                    free=a.free or b.free,
                    start=b.start if b.start is not None else a.start,
                    label=b.label if b.label is not None else a.label)


def _modifiers(parts: list[str], line: int, term: str) -> tuple[Modifier, ...]:
    mods: tuple[Modifier, ...] = (Modifier(),)
    for tok in parts:
        tok = tok.strip()
        m = re.fullmatch(r"c\((.*)\)", tok)
        if m:
            vec = tuple(_one_modifier(v, line, term) for v in _split_top(m.group(1), ","))
            if len(mods) == 1:
                mods = tuple(_merge(mods[0], v) for v in vec)
            elif len(mods) == len(vec):
                mods = tuple(_merge(a, b) for a, b in zip(mods, vec, strict=True))
            else:
                raise _error(f"c(...) vectors of different lengths in {term!r}", line, term)
        else:
            one = _one_modifier(tok, line, term)
            mods = tuple(_merge(a, one) for a in mods)
    return mods


def parse_syntax(text: str) -> list[Statement]:
    """Parse lavaan model syntax into :class:`Statement` records (one per term).

    Raises
    ------
    StatisticsError
        Naming the line and the term of the first statement that cannot be read.
    """
    if not isinstance(text, str) or not text.strip():
        raise StatisticsError("the model syntax is empty")
    out: list[Statement] = []
    for stmt, line in _statements(text):
        op = next((o for o in _OPS if o in stmt), None)
        bad = next((u for u in _UNSUPPORTED if u in stmt.replace("=~", "")), None)
        if bad is not None:
            raise _error(f"the operator {bad!r} is not supported (measurement models use "
                         "=~, ~~ and ~ 1)", line, stmt)
        if op is None:
            raise _error(f"no operator (=~, ~~ or ~ 1) in {stmt!r}", line, stmt)
        lhs, rhs = (s.strip() for s in stmt.split(op, 1))
        if not _NAME.match(lhs):
            raise _error(f"the left-hand side {lhs!r} is not a variable name", line, stmt)
        terms = _split_top(rhs, "+")
        if any(not t.strip() for t in terms):
            raise _error(f"an empty term in {stmt!r}", line, stmt)
        for term in terms:
            parts = [p.strip() for p in _split_top(term.strip(), "*")]
            var = parts[-1]
            if op == "~":
                if var != "1":
                    raise _error(f"regressions ({lhs} ~ {var}) are not supported; "
                                 f"write {lhs} ~ 1 for an intercept", line, term.strip())
                op_eff = "~1"
            else:
                op_eff = op
                if not _NAME.match(var):
                    raise _error(f"{var!r} is not a variable name", line, term.strip())
            mods = _modifiers(parts[:-1], line, term.strip())
            out.append(Statement(lhs, op_eff, "" if op_eff == "~1" else var, mods, line))
    seen: dict[tuple[str, str, str], int] = {}
    for s in out:
        key = (s.lhs, s.op, s.rhs)
        if s.op == "~~":
            key = (min(s.lhs, s.rhs), s.op, max(s.lhs, s.rhs))
        if key in seen:
            raise _error(f"{s.lhs} {s.op} {s.rhs} is specified twice (first on line "
                         f"{seen[key]})", s.line, f"{s.lhs} {s.op} {s.rhs}")
        seen[key] = s.line
    return out


def looks_like_syntax(text: str) -> bool:
    """Whether ``text`` reads as lavaan syntax (has a ``=~``, ``~~`` or ``~`` operator)."""
    return isinstance(text, str) and bool(re.search(r"=~|~~|~\s*1", text))

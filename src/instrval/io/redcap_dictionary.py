"""REDCap data dictionaries as people write them: the one parser.

A REDCap data dictionary is a CSV file with one row per field. REDCap's "Download the
Data Dictionary" writes the 18 human headers (``Variable / Field Name``, ``Form Name``,
..., ``Field Annotation``); the API and some older versions write snake_case headers
(``field_name``, ``form_name``, ``select_choices_or_calculations``, ``branching_logic``)
or ``Choices OR Calculations``. :func:`parse_redcap_dictionary` reads any of them into
:class:`RedcapField` records; the instrument import
(:func:`instrval.io.exports.redcap.import_redcap_dictionary`) and the rating reader
(:func:`instrval.io.ratings.read_redcap_dictionary`) both use it.

What real dictionaries contain, and what the parser does with it:

* **blank rows** are skipped; a row with cells but no field name is a problem.
* **choices** ``code, label | code, label``: codes are kept as text exactly as REDCap
  stores them (``1``, ``0``, ``a``, ``NA``, ``-9``), in the written order (descending
  ``2, 1, 0`` too). A blank label (``2,  | 3,  |``) is a *warning* and the code stands
  in for it; a trailing ``|`` is ignored; a choice without a comma, or a code given twice,
  makes that field's choices unusable (a problem on the field, not on the file).
* ``yesno`` and ``truefalse`` fields get REDCap's fixed choices (``1, Yes | 0, No`` and
  ``1, True | 0, False``).
* **branching logic** is normalised by :func:`normalise_logic` (``AND``/``OR`` in any
  case, ``==`` and ``<>``, unquoted or double-quoted values, line breaks) and, when it is
  a disjunction of equalities on one field (``[f] = '1' or [f] = '2'``, or a checkbox
  box ``[f(3)] = '1'``), parsed by :func:`parse_gate_logic`.
* text that is not UTF-8 is read as Windows-1252 (what Excel writes) with a warning.

Every problem is collected with file, row, column and value; nothing stops at the first.
"""

from __future__ import annotations

import csv
import io
import os
import re
import warnings
from dataclasses import dataclass, field
from typing import Any

from instrval.errors import DataQualityWarning, InstrvalError, Problem
from instrval.io.files import read_input_bytes
from instrval.io.text import decode_text_with, sniff_delimiter

__all__ = [
    "RedcapField",
    "RedcapDictionary",
    "GateLogic",
    "REDCAP_CHOICE_TYPES",
    "parse_redcap_dictionary",
    "parse_redcap_dictionary_text",
    "parse_choices",
    "normalise_logic",
    "parse_gate_logic",
]

#: Field types whose values are choice codes.
REDCAP_CHOICE_TYPES = ("radio", "dropdown", "checkbox", "yesno", "truefalse")
#: Every field type REDCap knows.
REDCAP_FIELD_TYPES = ("text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse",
                      "calc", "file", "slider", "descriptive", "sql")
_FIXED_CHOICES = {"yesno": (("1", "Yes"), ("0", "No")),
                  "truefalse": (("1", "True"), ("0", "False"))}

# canonical key -> header prefixes (lower case) that name it, human form first
_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("variable / field name", "field_name"),
    "form": ("form name", "form_name"),
    "section": ("section header", "section_header"),
    "type": ("field type", "field_type"),
    "label": ("field label", "field_label"),
    "choices": ("choices, calculations", "choices or calculations", "choices",
                "select_choices_or_calculations"),
    "note": ("field note", "field_note"),
    "validation": ("text validation type", "text_validation_type"),
    "branching": ("branching logic", "branching_logic"),
    "required": ("required field", "required_field"),
    "matrix": ("matrix group name", "matrix_group_name"),
    "annotation": ("field annotation", "field_annotation"),
}
_REQUIRED = ("name", "type")


@dataclass(frozen=True)
class RedcapField:
    """One row of a data dictionary (cells stripped; ``type`` lower-cased).

    ``choices`` holds ``(code, label)`` pairs for choice fields whose choices could be
    read (REDCap's fixed ones for yesno/truefalse), else None. ``row`` is the spreadsheet
    row (the header is row 1).
    """

    row: int
    name: str
    form: str
    type: str
    label: str
    section: str = ""
    choices: tuple[tuple[str, str], ...] | None = None
    choices_text: str = ""
    note: str = ""
    validation: str = ""
    branching: str = ""
    required: str = ""
    matrix: str = ""
    annotation: str = ""

    @property
    def is_choice(self) -> bool:
        return self.type in REDCAP_CHOICE_TYPES


@dataclass(frozen=True)
class RedcapDictionary:
    """A parsed data dictionary: its fields, and every problem found.

    ``problems`` with severity ``"error"`` concern one field each (the field's choices are
    unusable, its type unknown); warnings (blank labels, text re-decoded) are notes.
    """

    file: str | None
    fields: tuple[RedcapField, ...]
    problems: tuple[Problem, ...] = ()
    header: tuple[str, ...] = field(default=())

    def field(self, name: str) -> RedcapField:
        for f in self.fields:
            if f.name.lower() == name.lower():
                return f
        raise KeyError(name)

    @property
    def errors(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity == "error")

    @property
    def warnings(self) -> tuple[Problem, ...]:
        return tuple(p for p in self.problems if p.severity != "error")

    def as_mapping(self) -> dict[str, dict[str, Any]]:
        """``{field (lower case): {"form", "type", "label", "choices": {code: label}}}``,
        the shape the rating reader checks an export against."""
        return {f.name.lower(): {"form": f.form or None, "type": f.type,
                                 "label": f.label or None,
                                 "choices": dict(f.choices or ())}
                for f in self.fields}


@dataclass(frozen=True)
class GateLogic:
    """Branching logic that shows a field when one field has one of some values.

    ``field`` is the field named; ``values`` the codes that show the field; ``box`` the
    checkbox code when the logic tests one box (``[f(3)] = '1'``), else None.
    """

    field: str
    values: tuple[str, ...]
    box: str | None = None


def parse_choices(text: str, *, ftype: str = "radio") -> tuple[
        tuple[tuple[str, str], ...] | None, list[tuple[str, str, Any]]]:
    """Parse ``"1, Yes | 2, No"`` into ``(("1", "Yes"), ("2", "No"))``.

    Returns ``(choices, issues)``: ``choices`` is None when the text cannot be used;
    ``issues`` are ``(severity, message, value)`` triples. Blank labels are warnings (the
    code stands in for the label); a part without a comma, an empty code or a repeated
    code are errors. Empty parts (a trailing ``|``) are ignored. ``yesno``/``truefalse``
    fields get REDCap's fixed choices whatever the cell says.

    Examples
    --------
    >>> parse_choices("2, 2 | 1, 1 | 0, None")[0]
    (('2', '2'), ('1', '1'), ('0', 'None'))
    >>> parse_choices("1, Yes | 2,  |")[0]
    (('1', 'Yes'), ('2', '2'))
    """
    if ftype in _FIXED_CHOICES:
        return _FIXED_CHOICES[ftype], []
    issues: list[tuple[str, str, Any]] = []
    if not text.strip():
        return None, [("error", "the field has no choices", text)]
    out: list[tuple[str, str]] = []
    seen: set[str] = set()
    bad = False
    for part in re.split(r"\s*\|\s*|\n", text):
        if not part.strip():
            continue
        code, sep, label = part.partition(",")
        code, label = code.strip(), label.strip()
        if not sep or not code:
            issues.append(("error", f"choice {part.strip()!r} is not 'code, label'", part))
            bad = True
            continue
        if code in seen:
            issues.append(("error", f"choice code {code!r} is given twice", code))
            bad = True
            continue
        seen.add(code)
        if not label:
            issues.append(("warning", f"choice {code!r} has a blank label; the code is "
                                      "used as its label", code))
            label = code
        out.append((code, label))
    if bad or not out:
        return None, issues or [("error", "the field has no choices", text)]
    return tuple(out), issues


_OPS = re.compile(r"\s*(==|<>|!=|>=|<=|=|<|>)\s*")


def normalise_logic(text: str) -> str:
    """Write branching logic one way: lower-case ``and``/``or``, ``=`` for ``==``, values
    in single quotes, single spaces.

    Examples
    --------
    >>> normalise_logic('[x] == 1 OR [Y]="2"')
    "[x] = '1' or [Y] = '2'"
    """
    s = " ".join(text.replace("\r", " ").replace("\n", " ").split())
    if not s:
        return ""
    # tokens: [field] / [field(code)], quoted strings, operators, words, parentheses
    tok = re.findall(r"\[[^\]]*\]|'[^']*'|\"[^\"]*\"|==|<>|!=|>=|<=|[=<>()]|[^\s\[\]'\"=<>()!]+",
                     s)
    out: list[str] = []
    for i, t in enumerate(tok):
        low = t.lower()
        if low in ("and", "or", "not"):
            out.append(low)
        elif t == "==":
            out.append("=")
        elif t.startswith('"') and t.endswith('"'):
            out.append("'" + t[1:-1] + "'")
        elif (i > 0 and tok[i - 1] in ("=", "==", "<>", "!=")
              and re.fullmatch(r"-?[A-Za-z0-9_.]+", t)):
            out.append(f"'{t}'")  # unquoted value after a comparison
        else:
            out.append(t)
    s = " ".join(out)
    return s.replace("( ", "(").replace(" )", ")")


_EQ = re.compile(r"^\[([A-Za-z][A-Za-z0-9_]*)(?:\(([^)]*)\))?\]\s*=\s*'([^']*)'$")


def parse_gate_logic(text: str) -> GateLogic | None:
    """Parse branching logic that opens on values of one field, else None.

    Accepts ``[f] = 'k'`` joined by ``or`` (any case, quoted or not, in parentheses),
    and checkbox boxes ``[f(k)] = '1'`` joined by ``or``.

    Examples
    --------
    >>> parse_gate_logic("[Use] = 1 OR [use]='2'")
    GateLogic(field='use', values=('1', '2'), box=None)
    >>> parse_gate_logic("[why(3)] = '1'")
    GateLogic(field='why', values=('3',), box='3')
    >>> parse_gate_logic("[a] = '1' and [b] = '1'") is None
    True
    """
    s = normalise_logic(text)
    while s.startswith("(") and s.endswith(")") and _balanced(s[1:-1]):
        s = s[1:-1].strip()
    if not s:
        return None
    parts = [p.strip() for p in s.split(" or ")]
    fields: set[str] = set()
    values: list[str] = []
    boxes: list[str | None] = []
    for p in parts:
        while p.startswith("(") and p.endswith(")") and _balanced(p[1:-1]):
            p = p[1:-1].strip()
        m = _EQ.match(p)
        if not m:
            return None
        fields.add(m.group(1).lower())
        if m.group(2) is not None:
            if m.group(3) != "1":
                return None
            boxes.append(m.group(2).strip())
            values.append(m.group(2).strip())
        else:
            boxes.append(None)
            values.append(m.group(3))
    if len(fields) != 1 or len({b is None for b in boxes}) != 1:
        return None
    box = boxes[0]
    return GateLogic(field=next(iter(fields)), values=tuple(dict.fromkeys(values)),
                     box=None if box is None else box)


def _balanced(s: str) -> bool:
    depth = 0
    for ch in s:
        depth += ch == "("
        depth -= ch == ")"
        if depth < 0:
            return False
    return depth == 0


def parse_redcap_dictionary(path: str | os.PathLike[str], *,
                            error: type[InstrvalError] = InstrvalError) -> RedcapDictionary:
    """Read a REDCap data dictionary CSV file (see the module docstring).

    Raises ``error`` (an :class:`~instrval.errors.InstrvalError` subclass) when the file
    cannot be read or is not a data dictionary at all (no field name or field type column).
    Problems in single fields are returned in :attr:`RedcapDictionary.problems`.
    """
    raw = read_input_bytes(path, error=error, what="REDCap data dictionary")
    return parse_redcap_dictionary_text(raw, file=str(path), error=error)


def parse_redcap_dictionary_text(data: bytes | str, *, file: str | None = None,
                                 error: type[InstrvalError] = InstrvalError
                                 ) -> RedcapDictionary:
    """Parse the content of a data dictionary (bytes or text)."""
    problems: list[Problem] = []
    if isinstance(data, bytes):
        with warnings.catch_warnings():  # reported once, as a note of the dictionary
            warnings.simplefilter("ignore", DataQualityWarning)
            text, encoding = decode_text_with(data, file=file, error=error,
                                              what="REDCap data dictionary")
        if encoding in ("cp1252", "latin-1"):
            problems.append(Problem("encoding", "the file is not UTF-8; read as "
                                    "Windows-1252 (save it as UTF-8 CSV)", file=file,
                                    severity="warning"))
    else:
        text = data.lstrip("\ufeff")
    if "\x00" in text:
        raise error(f"{file}: the data dictionary holds NUL bytes; it is not a CSV file",
                    [Problem("unreadable", "NUL bytes in the file", file=file)])
    try:
        rows = list(csv.reader(io.StringIO(text, newline=""),
                               delimiter=sniff_delimiter(text)))
    except csv.Error as exc:
        raise error(f"{file}: cannot read the data dictionary as CSV: {exc}",
                    [Problem("unreadable", str(exc), file=file)]) from None
    if not rows or not any(c.strip() for c in rows[0]):
        raise error(f"{file}: the data dictionary is empty",
                    [Problem("empty_file", "empty data dictionary", file=file)])
    header = [h.strip() for h in rows[0]]
    low = [h.lower() for h in header]
    col: dict[str, int] = {}
    for key, prefixes in _HEADERS.items():
        for pre in prefixes:
            j = next((j for j, h in enumerate(low) if h.startswith(pre)), None)
            if j is not None:
                col[key] = j
                break
    missing = [k for k in _REQUIRED if k not in col]
    if missing:
        want = {"name": "Variable / Field Name", "type": "Field Type"}
        raise error(
            f"{file}: not a REDCap data dictionary: missing column(s) "
            f"{', '.join(repr(want[k]) for k in missing)}",
            [Problem("missing_column", f"missing column {want[k]!r}", file=file, row=1,
                     column=want[k]) for k in missing])

    def cell(r: list[str], key: str) -> str:
        j = col.get(key)
        return r[j].strip() if j is not None and j < len(r) else ""

    fields: list[RedcapField] = []
    seen: dict[str, int] = {}
    for n, r in enumerate(rows[1:], start=2):
        if not any(c.strip() for c in r):
            continue
        name, ftype = cell(r, "name"), cell(r, "type").lower()
        if not name:
            problems.append(Problem("missing_value", "the row has cells but no field name",
                                    file=file, row=n, column=header[col["name"]]))
            continue
        if name.lower() in seen:
            problems.append(Problem("duplicate_field", f"field {name!r} is also in row "
                                    f"{seen[name.lower()]}", file=file, row=n,
                                    column=header[col["name"]], value=name))
            continue
        seen[name.lower()] = n
        if ftype not in REDCAP_FIELD_TYPES:
            problems.append(Problem(
                "unknown_field_type", f"field {name!r}: unknown field type {ftype!r}; "
                f"REDCap types are {', '.join(REDCAP_FIELD_TYPES)}", file=file, row=n,
                column=header[col["type"]], value=cell(r, "type")))
            continue
        choices = None
        ctext = cell(r, "choices")
        if ftype in REDCAP_CHOICE_TYPES:
            choices, issues = parse_choices(ctext, ftype=ftype)
            ccol = header[col["choices"]] if "choices" in col else "choices"
            for sev, msg, val in issues:
                problems.append(Problem("blank_choice_label" if sev == "warning"
                                        else "malformed_choices", f"field {name!r}: {msg}",
                                        file=file, row=n, column=ccol, value=val,
                                        severity=sev))
        fields.append(RedcapField(
            row=n, name=name, form=cell(r, "form"), type=ftype, label=cell(r, "label"),
            section=cell(r, "section"), choices=choices, choices_text=ctext,
            note=cell(r, "note"), validation=cell(r, "validation"),
            branching=cell(r, "branching"), required=cell(r, "required"),
            matrix=cell(r, "matrix"), annotation=cell(r, "annotation")))
    return RedcapDictionary(file=file, fields=tuple(fields), problems=tuple(problems),
                            header=tuple(header))


def column_name(d: RedcapDictionary, key: str) -> str:
    """The header a canonical key was read from (for messages)."""
    for h in d.header:
        if any(h.lower().startswith(p) for p in _HEADERS[key]):
            return h
    return key

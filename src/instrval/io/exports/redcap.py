"""REDCap data dictionaries: export an instrument, map its ids, and import one back.

Export (:func:`redcap_dictionary`, :func:`write_redcap`) writes REDCap's data dictionary
CSV with its 18 columns (:data:`REDCAP_COLUMNS`), one form named after the instrument id.
The first field is ``record_id`` (text). Then, construct by construct:

==============  ===========================================================================
multi_select    ONE ``checkbox`` field named by the construct id (lowercased), choices
                ``code, label | code, label`` with ``code`` = ``Construct.item_code(item)``
                (the item's ``code``, else its 1-based position). REDCap exports the boxes
                as columns ``<field>___<code>``.
single_choice   ONE ``radio`` field named by the construct id, coded the same way.
gate            a ``radio`` field named by the gate id, just before its construct, options
                coded 1..n in the gate's order (label = option id). Every field of the
                gated construct gets the branching logic ``[gate] = 'k'`` for each opening
                option code ``k``, joined with `` or ``.
likert item     a ``radio`` field named by the item id (lowercased), choices from the scale
                (``value, label``; the label falls back to the value); the construct's
                items share a matrix group named by the construct id.
binary item     a ``yesno`` field named by the item id (REDCap stores 1 = yes, 0 = no).
==============  ===========================================================================

Field labels are the construct question (else its label) for checkbox/radio construct
fields, the gate question for gates, and the item text (else label) for item fields. The
construct label is the Section Header of the construct's first field (its gate, when gated).

The ``Field Annotation`` column keeps what REDCap has no column for, as instrval tags, so
that :func:`import_redcap_dictionary` restores the instrument: ``@INSTRVAL-ID=<id>`` (the
original id, restoring case), ``@INSTRVAL-KIND``, ``@INSTRVAL-ITEMS`` (item ids of a
checkbox/radio construct field, in choice order), ``@INSTRVAL-CONSTRUCT`` (the construct of
an item field), ``@INSTRVAL-GATE`` (on a gate field: the construct it gates),
``@INSTRVAL-SCALE``, ``@INSTRVAL-REVERSE`` (reverse-keyed), ``@INSTRVAL-QUESTION`` (the
question of a likert/binary construct), ``@INSTRVAL-LABEL`` and ``@INSTRVAL-TEXTS`` (item
labels when the field label shows the item text), ``@INSTRVAL-LABELS`` and
``@INSTRVAL-OPTIONS`` (the exact choice labels and gate options when a choice had to be
altered, see below); text values are JSON.

Field names are the ids lowercased; a name that would clash (``A1`` and ``a1``, or an id
``record_id`` or ``<form>_complete``, which REDCap adds) gets a suffix ``_2``, ``_3``...;
:func:`redcap_field_map` tells where each id went.

Labels (Field Label, Section Header) that begin with ``=``, ``+``, ``-`` or ``@`` are
prefixed with a single quote so that a spreadsheet opening the CSV does not run them as
formulas; REDCap shows such a label with the quote, and the import removes it again. A
``|`` inside a choice label would split the choice in REDCap and is written as ``¦``
(line breaks as spaces); the exact text is kept in the annotation for the import.

Not representable in a data dictionary (and so not restored by the import): instrument
metadata (title is given to the import; description, source, license, derived_from,
changelog, provenance), construct descriptions, scales that no construct uses, and
whether an item's code was written explicitly or is its position (the stored code itself
round-trips).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from instrval.errors import ExportError, InstrumentError, Problem
from instrval.io.atomic import atomic_write_text
from instrval.model.instrument import FORMAT_VERSION, Instrument

__all__ = [
    "REDCAP_COLUMNS",
    "REDCAP_FIELD_TYPES",
    "redcap_dictionary",
    "redcap_dictionary_csv",
    "write_redcap",
    "redcap_field_map",
    "import_redcap_dictionary",
]

#: The 18 columns of a REDCap data dictionary, in REDCap's order.
REDCAP_COLUMNS = (
    "Variable / Field Name",
    "Form Name",
    "Section Header",
    "Field Type",
    "Field Label",
    "Choices, Calculations, OR Slider Labels",
    "Field Note",
    "Text Validation Type OR Show Slider Number",
    "Text Validation Min",
    "Text Validation Max",
    "Identifier?",
    "Branching Logic (Show field only if...)",
    "Required Field?",
    "Custom Alignment",
    "Question Number (surveys only)",
    "Matrix Group Name",
    "Matrix Ranking?",
    "Field Annotation",
)
#: Field types REDCap knows.
REDCAP_FIELD_TYPES = ("text", "notes", "dropdown", "radio", "checkbox", "yesno", "truefalse",
                      "calc", "file", "slider", "descriptive", "sql")

_NAME, _FORM, _SECTION, _TYPE, _LABEL, _CHOICES = REDCAP_COLUMNS[:6]
_BRANCH, _MATRIX, _ANNOT = REDCAP_COLUMNS[11], REDCAP_COLUMNS[15], REDCAP_COLUMNS[17]
_REQUIRED_COLUMNS = (_NAME, _FORM, _TYPE, _LABEL, _CHOICES)
_FORMULA_START = ("=", "+", "-", "@")


# ============================================================================ export
def _safe_label(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def _choice_label(text: str) -> str:
    return " ".join(text.replace("|", "¦").split())


def _form_name(inst_id: str) -> str:
    name = re.sub(r"[^a-z0-9_]", "_", inst_id.lower())
    return name if name[:1].isalpha() else f"f_{name}"


def _field_names(inst: Instrument) -> dict[str, str]:
    """instrval id (construct of a choice kind, gate, likert/binary item) -> field name."""
    form = _form_name(inst.id)
    taken = {"record_id", f"{form}_complete"}
    names: dict[str, str] = {}

    def claim(ident: str) -> None:
        base = ident.lower()[:100]
        name, n = base, 1
        while name in taken:
            n += 1
            name = f"{base[:96]}_{n}"
        taken.add(name)
        names[ident] = name

    for c in inst.constructs:
        if c.gate is not None:
            claim(c.gate.id)
        if c.kind in ("multi_select", "single_choice"):
            claim(c.id)
        else:
            for it in c.items:
                claim(it.id)
    return names


def redcap_field_map(instrument: Instrument) -> dict[str, Any]:
    """How each instrval id maps to a REDCap field and code, for reading REDCap exports.

    Returns
    -------
    dict
        ``{"form": str, "record_id": "record_id", "constructs": {...}, "gates": {...},
        "items": {...}}`` where

        * ``constructs[construct_id]`` = ``{"kind", "field", "type", "items"}``: ``field``
          is the checkbox/radio field of a multi_select/single_choice construct, None for
          likert and binary constructs (whose items have a field each); ``type`` is the
          REDCap field type (``checkbox``, ``radio``, ``radio`` per item for likert,
          ``yesno`` per item for binary); ``items`` the construct's item ids.
        * ``gates[gate_id]`` = ``{"field", "type": "radio", "construct", "codes"}``:
          ``codes`` maps each option to its code (int, 1..n in gate order); ``open_codes``
          lists the codes that open the gate.
        * ``items[item_id]`` = ``{"construct", "kind", "field", "type", "code", "column"}``:
          for a multi_select item, ``code`` is its checkbox code and ``column`` the column
          of a REDCap record export (``<field>___<code>``, 1 = checked, 0 = not); for a
          single_choice level, ``code`` is the radio value meaning this level and
          ``column`` the radio field; for likert and binary items, ``code`` is None and
          ``column`` is the item's own field (likert: the scale value; yesno: 1/0).

    Examples
    --------
    >>> import instrval
    >>> m = redcap_field_map(instrval.read_instrument("instruments/bfi/bfi-1.0.yaml"))
    >>> m["items"]["A1"]["column"]
    'a1'
    """
    inst = instrument
    names = _field_names(inst)
    out: dict[str, Any] = {"form": _form_name(inst.id), "record_id": "record_id",
                           "constructs": {}, "gates": {}, "items": {}}
    for c in inst.constructs:
        if c.gate is not None:
            g = c.gate
            codes = {o: k for k, o in enumerate(g.options, start=1)}
            out["gates"][g.id] = {"field": names[g.id], "type": "radio", "construct": c.id,
                                  "codes": codes, "open_codes": [codes[o] for o in g.open_when]}
        choice = c.kind in ("multi_select", "single_choice")
        ftype = {"multi_select": "checkbox", "single_choice": "radio", "likert": "radio",
                 "binary": "yesno"}[c.kind]
        out["constructs"][c.id] = {"kind": c.kind, "field": names[c.id] if choice else None,
                                   "type": ftype, "items": list(c.item_ids)}
        for it in c.items:
            if choice:
                code = c.item_code(it.id)
                field = names[c.id]
                column = f"{field}___{code}" if c.kind == "multi_select" else field
            else:
                code, field = None, names[it.id]
                column = field
            out["items"][it.id] = {"construct": c.id, "kind": c.kind, "field": field,
                                   "type": ftype, "code": code, "column": column}
    return out


def _tags(**tags: Any) -> str:
    parts = []
    for k, v in tags.items():
        if v is None or v is False:
            continue
        tag = "@INSTRVAL-" + k.replace("_", "-").upper()
        if v is True:
            parts.append(tag)
        elif isinstance(v, str) and re.fullmatch(r"[A-Za-z0-9_,.-]+", v):
            parts.append(f"{tag}={v}")
        else:
            parts.append(f"{tag}={json.dumps(v, ensure_ascii=False)}")
    return " ".join(parts)


def redcap_dictionary(instrument: Instrument) -> list[dict[str, str]]:
    """Return the REDCap data dictionary of an instrument as rows (column -> text).

    See the module docstring for the mapping. Write it with :func:`write_redcap`.
    """
    inst = instrument
    form = _form_name(inst.id)
    names = _field_names(inst)
    rows: list[dict[str, str]] = []

    def row(**cells: str) -> None:
        r = dict.fromkeys(REDCAP_COLUMNS, "")
        r[_FORM] = form
        for k, v in cells.items():
            r[k] = v
        rows.append(r)

    row(**{_NAME: "record_id", _TYPE: "text", _LABEL: "Record ID"})
    for c in inst.constructs:
        section = _safe_label(c.label)
        logic = ""
        if c.gate is not None:
            g = c.gate
            choices = " | ".join(f"{k}, {_choice_label(o)}" for k, o in enumerate(g.options, 1))
            altered = [o for o in g.options if _choice_label(o) != o]
            row(**{_NAME: names[g.id], _SECTION: section, _TYPE: "radio",
                   _LABEL: _safe_label(g.question), _CHOICES: choices,
                   _ANNOT: _tags(id=g.id, gate=c.id,
                                 options=list(g.options) if altered else None)})
            section = ""
            logic = " or ".join(f"[{names[g.id]}] = '{g.options.index(o) + 1}'"
                                for o in g.open_when)
        if c.kind in ("multi_select", "single_choice"):
            choices = " | ".join(f"{c.item_code(it.id)}, {_choice_label(it.label)}"
                                 for it in c.items)
            texts = {it.id: it.text for it in c.items if it.text is not None}
            labels = {it.id: it.label for it in c.items if _choice_label(it.label) != it.label}
            row(**{_NAME: names[c.id], _SECTION: section,
                   _TYPE: "checkbox" if c.kind == "multi_select" else "radio",
                   _LABEL: _safe_label(c.question or c.label), _CHOICES: choices,
                   _BRANCH: logic,
                   _ANNOT: _tags(id=c.id, kind=c.kind, items=",".join(c.item_ids),
                                 texts=texts or None, labels=labels or None)})
            continue
        sc = inst.scale_of(c)
        for pos, it in enumerate(c.items):
            cells = {_NAME: names[it.id], _SECTION: section if pos == 0 else "",
                     _LABEL: _safe_label(it.text or it.label), _BRANCH: logic}
            label = it.label if it.text is not None else None
            question = c.question if pos == 0 else None
            if c.kind == "likert" and sc is not None:
                cells[_TYPE] = "radio"
                cells[_CHOICES] = " | ".join(
                    f"{v}, {_choice_label(sc.labels.get(v, str(v)))}" for v in sc.values)
                cells[_MATRIX] = c.id.lower()
                cells[_ANNOT] = _tags(id=it.id, construct=c.id, kind=c.kind, scale=sc.id,
                                      reverse=it.reverse, label=label, question=question)
            else:
                cells[_TYPE] = "yesno"
                cells[_ANNOT] = _tags(id=it.id, construct=c.id, kind=c.kind, label=label,
                                      question=question)
            row(**cells)
    return rows


def redcap_dictionary_csv(instrument: Instrument) -> str:
    """The data dictionary as CSV text (header row, every cell quoted as needed)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=list(REDCAP_COLUMNS), lineterminator="\n")
    w.writeheader()
    w.writerows(redcap_dictionary(instrument))
    return buf.getvalue()


def write_redcap(instrument: Instrument, path: str | os.PathLike[str]) -> Path:
    """Write the REDCap data dictionary CSV (UTF-8, atomically)."""
    return atomic_write_text(path, redcap_dictionary_csv(instrument))


# ============================================================================ import
_JSON_TAGS = ("texts", "labels", "options")
_TAG_RE = re.compile(r'@INSTRVAL-([A-Z-]+)(?:=("(?:[^"\\]|\\.)*"|\S+))?')
_LOGIC_PART = re.compile(r"""^\s*\[([A-Za-z][A-Za-z0-9_]*)\]\s*=\s*(['"]?)([^'"\s]+)\2\s*$""")


def _parse_tags(text: str) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for m in _TAG_RE.finditer(text or ""):
        key = m.group(1).lower().replace("-", "_")
        val = m.group(2)
        if val is None:
            out[key] = True
        elif key in _JSON_TAGS:
            continue  # JSON with spaces: decoded below
        elif val.startswith('"'):
            out[key] = json.loads(val)
        else:
            out[key] = val
    # JSON objects and lists contain spaces: decode them from where they start
    for key in _JSON_TAGS:
        m = re.search(rf"@INSTRVAL-{key.upper()}=", text or "")
        if m:
            out[key], _ = json.JSONDecoder().raw_decode(text[m.end():])
    return out


def _unsafe(text: str) -> str:
    if text.startswith("'") and text[1:].startswith(_FORMULA_START):
        return text[1:]
    return text


class _Row:
    def __init__(self, n: int, cells: Mapping[str, str]):
        self.n = n
        self.cells = cells

    def __getitem__(self, col: str) -> str:
        return (self.cells.get(col) or "").strip()


def import_redcap_dictionary(path: str | os.PathLike[str], *, id: str, version: str,
                             title: str | None = None) -> Instrument:
    """Read a REDCap data dictionary (CSV) back into an instrument.

    Dictionaries written by :func:`write_redcap` come back equivalent: the same
    constructs, kinds, items, ids (case restored from ``@INSTRVAL-ID``), labels, questions,
    gates and scales. Instrument metadata is not in a data dictionary: ``id``, ``version``
    and ``title`` are given here (``title`` defaults to the form name), status is
    ``draft``. Dictionaries made in REDCap (without instrval tags) are read as: checkbox
    -> multi_select construct (items ``<field>_<code>``), radio/dropdown -> single_choice
    construct, or a gate when later fields' branching logic is ``[field] = 'k'``
    (joined by ``or``), radio fields sharing a matrix group with consecutive whole-number
    codes -> a likert construct, yesno/truefalse -> binary items grouped by section.
    Other field types (text, notes, calc, descriptive, file, slider, sql) hold no
    instrval data and are skipped.

    Parameters
    ----------
    path : path-like
        The data dictionary CSV.
    id, version : str
        Id and version of the instrument to build.
    title : str, optional
        Its title (default: the form name of the first field).

    Raises
    ------
    ExportError
        Naming file, row and column: missing columns, an unknown field type, malformed
        choices, branching logic that is not a gate, or a dictionary that does not give a
        valid instrument.
    """
    name = str(path)
    try:
        text = Path(path).read_text("utf-8-sig")
    except FileNotFoundError:
        raise ExportError(f"REDCap data dictionary not found: {name}") from None
    except UnicodeDecodeError:
        raise ExportError(f"{name}: the data dictionary is not UTF-8 text; save it as "
                          "UTF-8 CSV") from None
    except IsADirectoryError:
        raise ExportError(f"REDCap data dictionary is a directory, not a file: {name}",
                          [Problem("not_a_file", "is a directory", file=name)]) from None
    except OSError as exc:
        raise ExportError(f"cannot read the REDCap data dictionary {name}: "
                          f"{exc.strerror or exc}",
                          [Problem("unreadable", str(exc.strerror or exc), file=name)]) from None
    reader = csv.DictReader(io.StringIO(text))
    try:
        header = [h.strip() for h in (reader.fieldnames or [])]
    except csv.Error as exc:
        raise ExportError(f"{name}: cannot read the data dictionary as CSV: {exc}",
                          [Problem("unreadable", str(exc), file=name)]) from None
    missing = [c for c in _REQUIRED_COLUMNS if c not in header]
    if missing:
        raise ExportError(
            f"{name}: not a REDCap data dictionary: missing column(s) "
            f"{', '.join(repr(c) for c in missing)}",
            [Problem("missing_column", f"missing column {c!r}", file=name, row=1, column=c)
             for c in missing])
    reader.fieldnames = header
    try:
        rows = [_Row(i, r) for i, r in enumerate(reader, start=2)]
    except csv.Error as exc:
        raise ExportError(f"{name}: cannot read the data dictionary as CSV: {exc}",
                          [Problem("unreadable", str(exc), file=name)]) from None
    problems: list[Problem] = []

    def bad(r: _Row, col: str, reason: str, msg: str, value: Any = None) -> None:
        problems.append(Problem(reason, msg, file=name, row=r.n, column=col, value=value))

    parsed: list[dict[str, Any]] = []
    for r in rows:
        ftype = r[_TYPE].lower()
        if not r[_NAME]:
            if any(v for v in r.cells.values()):
                bad(r, _NAME, "missing_value", "the field has no name")
            continue
        if ftype not in REDCAP_FIELD_TYPES:
            bad(r, _TYPE, "unknown_field_type",
                f"unknown field type {r[_TYPE]!r}; REDCap types are "
                f"{', '.join(REDCAP_FIELD_TYPES)}", r[_TYPE])
            continue
        f: dict[str, Any] = {"row": r, "name": r[_NAME], "type": ftype,
                             "label": _unsafe(r[_LABEL]), "section": _unsafe(r[_SECTION]),
                             "matrix": r[_MATRIX], "logic": r[_BRANCH],
                             "tags": _parse_tags(r[_ANNOT])}
        if ftype in ("checkbox", "radio", "dropdown"):
            choices = _parse_choices(r[_CHOICES])
            if choices is None:
                bad(r, _CHOICES, "malformed_choices",
                    "choices must look like 'code, label | code, label' with distinct codes",
                    r[_CHOICES])
                continue
            f["choices"] = choices
        parsed.append(f)
    if problems:
        raise ExportError.from_problems(problems, name)

    by_name = {f["name"]: f for f in parsed}
    # which radio fields are gates: tagged, or referenced by later fields' branching logic
    gates_of: dict[str, list[str]] = {}  # gate field -> opening codes
    for f in parsed:
        if not f["logic"]:
            continue
        parts = re.split(r"\s+or\s+", f["logic"])
        ms = [_LOGIC_PART.match(p) for p in parts]
        gfields = {m.group(1) for m in ms if m}
        if not all(ms) or len(gfields) != 1 or next(iter(gfields)) not in by_name \
                or by_name[next(iter(gfields))]["type"] not in ("radio", "dropdown"):
            bad(f["row"], _BRANCH, "unsupported_branching",
                "branching logic must be [gate_field] = 'code' (joined by 'or') naming a "
                "radio field before this one, to become an instrval gate", f["logic"])
            continue
        f["gate_field"] = next(iter(gfields))
        gates_of[f["gate_field"]] = [m.group(3) for m in ms if m]
    if problems:
        raise ExportError.from_problems(problems, name)

    scales: dict[str, dict[str, Any]] = {}
    constructs: list[dict[str, Any]] = []
    gate_for: dict[str, dict[str, Any]] = {}  # gate field -> gate dict
    pending_label: dict[str, str] = {}  # gate field -> section header (construct label)
    current: dict[str, Any] | None = None
    first_title = rows[0][_FORM] if rows else ""

    def ident(f: dict[str, Any]) -> str:
        return str(f["tags"].get("id") or f["name"])

    def make_gate(f: dict[str, Any]) -> dict[str, Any]:
        codes = [code for code, _ in f["choices"]]
        opening = gates_of.get(f["name"], [])
        for code in opening:
            if code not in codes:
                bad(f["row"], _CHOICES, "malformed_choices",
                    f"branching logic opens this gate with code {code!r}, which is not one "
                    f"of its choices ({', '.join(codes)})", code)
        options = [lab for _, lab in f["choices"]]
        if isinstance(f["tags"].get("options"), list) and \
                len(f["tags"]["options"]) == len(options):
            options = [str(o) for o in f["tags"]["options"]]
        ow = [options[codes.index(c)] for c in opening if c in codes]
        return {"id": ident(f), "question": f["label"], "options": options,
                "open_when": ow[0] if len(ow) == 1 else ow}

    def gate_of(f: dict[str, Any]) -> dict[str, Any] | None:
        g = f.get("gate_field")
        return gate_for.get(g) if g else None

    for f in parsed:
        tags, t = f["tags"], f["type"]
        if t in ("text", "notes", "calc", "file", "slider", "descriptive", "sql"):
            current = None
            continue
        is_gate = "gate" in tags or (f["name"] in gates_of and "kind" not in tags)
        if t in ("radio", "dropdown") and is_gate:
            gate_for[f["name"]] = make_gate(f)
            pending_label[f["name"]] = f["section"]
            current = None
            continue
        gfield = f.get("gate_field")
        label_from_gate = pending_label.pop(gfield, None) if gfield else None
        section = f["section"] or label_from_gate or ""
        kind = tags.get("kind")
        if t == "checkbox" or (t in ("radio", "dropdown") and kind != "likert" and (
                kind == "single_choice" or not f["matrix"])):
            ckind = "multi_select" if t == "checkbox" else "single_choice"
            ids = str(tags["items"]).split(",") if tags.get("items") else None
            texts = tags.get("texts") or {}
            labels = tags.get("labels") or {}
            if ids is not None and len(ids) != len(f["choices"]):
                bad(f["row"], _ANNOT, "malformed_choices",
                    f"@INSTRVAL-ITEMS names {len(ids)} items but there are "
                    f"{len(f['choices'])} choices", tags["items"])
                continue
            items = []
            for pos, (code, lab) in enumerate(f["choices"], start=1):
                if not re.fullmatch(r"\d+", code):
                    bad(f["row"], _CHOICES, "malformed_choices",
                        f"choice code {code!r} is not a whole number >= 0", code)
                    continue
                iid = ids[pos - 1] if ids else f"{f['name']}_{code}"
                it: dict[str, Any] = {"id": iid, "label": labels.get(iid, lab)}
                if iid in texts:
                    it["text"] = texts[iid]
                if int(code) != pos:
                    it["code"] = int(code)
                items.append(it)
            label = section or f["label"]
            c: dict[str, Any] = {"id": ident(f), "label": label}
            if f["label"] != label:
                c["question"] = f["label"]
            c["kind"] = ckind
            g = gate_of(f)
            if g:
                c["gate"] = g
            c["items"] = items
            constructs.append(c)
            current = None
            continue
        # likert (radio in a matrix / tagged likert) and binary (yesno/truefalse) items
        ikind = "binary" if t in ("yesno", "truefalse") else "likert"
        cid = str(tags.get("construct") or f["matrix"] or "")
        item: dict[str, Any] = {"id": ident(f), "label": tags.get("label") or f["label"]}
        if tags.get("label"):
            item["text"] = f["label"]
        if tags.get("reverse"):
            item["reverse"] = True
        scale_id = None
        if ikind == "likert":
            codes = [code for code, _ in f["choices"]]
            if not all(re.fullmatch(r"-?\d+", cd) for cd in codes) or \
                    [int(cd) for cd in codes] != list(range(int(codes[0]),
                                                            int(codes[0]) + len(codes))):
                bad(f["row"], _CHOICES, "malformed_choices",
                    "the choices of a likert item must be consecutive whole numbers",
                    " | ".join(codes))
                continue
            scale_id = str(tags.get("scale") or f"{cid}_scale")
            sc = {"min": int(codes[0]), "max": int(codes[-1]),
                  "labels": {int(cd): lab for cd, lab in f["choices"] if lab != cd}}
            if not sc["labels"]:
                del sc["labels"]
            if scale_id in scales and scales[scale_id] != sc:
                bad(f["row"], _CHOICES, "malformed_choices",
                    f"the choices differ from those of scale {scale_id!r} used before", None)
                continue
            scales[scale_id] = sc
        if cid:  # tagged construct or matrix group: continue while the id is the same
            same = current is not None and current["id"] == cid and current["kind"] == ikind
        else:  # untagged yesno fields: one construct per section header (and gate)
            same = (current is not None and current.get("_auto", False) and not section
                    and current["kind"] == ikind and current["_gate_field"] == gfield)
        if not same:
            auto = not cid
            if not cid:
                cid = re.sub(r"[^A-Za-z0-9_]+", "_", section).strip("_").lower() \
                    if section else f"{f['name']}_group"
                if not cid[:1].isalpha():
                    cid = f"c_{cid}"
            current = {"id": cid, "label": section or cid, "kind": ikind,
                       "_gate_field": gfield, "_auto": auto, "items": []}
            if tags.get("question"):
                current["question"] = tags["question"]
            if scale_id:
                current["scale"] = scale_id
            g = gate_of(f)
            if g:
                current["gate"] = g
            constructs.append(current)
        current["items"].append(item)
    if problems:
        raise ExportError.from_problems(problems, name)
    for c in constructs:
        c.pop("_gate_field", None)
        c.pop("_auto", None)
    data: dict[str, Any] = {"format_version": FORMAT_VERSION, "id": id, "version": version,
                            "title": title or first_title or id, "status": "draft"}
    if scales:
        data["scales"] = scales
    data["constructs"] = constructs
    try:
        return Instrument.from_dict(data, file=name)
    except InstrumentError as exc:
        raise ExportError(f"{name}: the data dictionary does not give a valid instrument "
                          f"({exc.summary})", exc.problems) from None


def _parse_choices(text: str) -> list[tuple[str, str]] | None:
    """``"1, Yes | 2, No"`` -> ``[("1", "Yes"), ("2", "No")]``; None when malformed."""
    if not text.strip():
        return None
    out: list[tuple[str, str]] = []
    for part in text.split("|"):
        code, sep, label = part.partition(",")
        code, label = code.strip(), label.strip()
        if not sep or not code or not label:
            return None
        out.append((code, _unsafe(label)))
    if len({c for c, _ in out}) != len(out):
        return None
    return out

"""Mapping export columns and codes to an instrument's ids.

A *mapping file* (YAML, read with :func:`instrval.io.yamlfile.load_document`) tells the
rating reader which export column holds what, for exports whose column names differ from
the instrument's ids::

    mapping_version: "1.0"
    instrument: iam@2011          # optional, checked when given
    columns:                      # export column -> rating_id | respondent_id | date |
      ResponseId: rating_id       #   an item id | a single-choice construct id | a gate id
      Q1_1: ci_practice_improved
      Q2: clinical_relevance
      Q3: use_gate
    codes:                        # optional: export code -> level id / option / code
      clinical_relevance: {1: cr_totally, 2: cr_partially, 3: cr_not}
      use_gate: {1: "yes", 2: "no", 3: "possibly"}
    groups: [specialty]           # columns kept as grouping columns
    ignore: [Status, IPAddress]   # columns dropped on purpose
    unmatched: []                 # written by map-template: columns still to map

Without a mapping, :func:`auto_columns` matches columns by name (case-insensitively):
the ids, ``date``, item ids, single-choice construct ids, gate ids, and check-box columns
``<construct>___<code>`` (REDCap) or ``<construct>_<code>`` (Qualtrics) of multi-select
constructs. Platform bookkeeping columns are ignored.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from instrval.errors import Problem, RatingsError
from instrval.io.yamlfile import dump_yaml, load_document
from instrval.model.instrument import Instrument
from instrval.model.ratings import ID_COLUMNS
from instrval.validate.ratings import as_text, expected_columns

__all__ = ["ColumnMapping", "load_mapping", "auto_columns", "apply_mapping",
           "mapping_template", "SYSTEM_COLUMNS", "targets"]

MAPPING_VERSION = "1.0"

#: Bookkeeping columns of survey platforms, ignored without a warning (lower case).
SYSTEM_COLUMNS = frozenset({
    # REDCap
    "redcap_event_name", "redcap_repeat_instrument", "redcap_repeat_instance",
    "redcap_survey_identifier", "redcap_data_access_group_name",
    # Qualtrics
    "startdate", "enddate", "status", "ipaddress", "progress", "duration (in seconds)",
    "finished", "recipientlastname", "recipientfirstname", "recipientemail",
    "locationlatitude", "locationlongitude", "distributionchannel", "userlanguage",
    "q_recaptchascore", "q_relevantidduplicate", "q_relevantidduplicatescore",
    "q_relevantidfraudscore", "q_relevantidlaststartdate",
})

_CHECKBOX = re.compile(r"^(?P<field>.+?)_{1,3}(?P<code>-?\d+)$")
#: REDCap's column of a check box with a text code (``smoking___na``).
_CHECKBOX_TEXT = re.compile(r"^(?P<field>.+?)___(?P<code>[a-z0-9_.-]+)$")


@dataclass(frozen=True)
class ColumnMapping:
    """Which export column holds what (see the module docstring)."""

    columns: Mapping[str, str]
    codes: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    groups: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    unmatched: tuple[str, ...] = ()
    file: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"mapping_version": MAPPING_VERSION, "columns": dict(self.columns),
                "codes": {k: dict(v) for k, v in self.codes.items()},
                "groups": list(self.groups), "ignore": list(self.ignore),
                "unmatched": list(self.unmatched)}


def targets(instrument: Instrument) -> dict[str, str]:
    """Every mapping target (lower-case -> canonical) and what it is."""
    out = {c: c for c in ID_COLUMNS}
    out["date"] = "date"
    for x in expected_columns(instrument):
        out[x.lower()] = x
    return out


def _target_kind(instrument: Instrument, t: str) -> str:
    if t in ID_COLUMNS or t == "date":
        return t
    if t in {g.id for g in instrument.gates}:
        return "gate"
    if t in {c.id for c in instrument.constructs if c.kind == "single_choice"}:
        return "single_choice"
    return "item"


def load_mapping(src: str | os.PathLike[str] | Mapping[str, Any] | ColumnMapping,
                 instrument: Instrument) -> ColumnMapping:
    """Read (a path) or take (a dict) a mapping and check it against the instrument.

    Raises
    ------
    RatingsError
        Listing every problem: unknown keys, unknown targets, a target given twice.
    """
    if isinstance(src, ColumnMapping):
        return src
    lines: dict[str, int] = {}
    file: str | None = None
    if isinstance(src, Mapping):
        data: Any = src
    else:
        doc = load_document(src, error=RatingsError, what="mapping file")
        data, lines, file = doc.data, doc.lines, str(src)
    problems: list[Problem] = []

    def bad(key: str, msg: str, value: Any = None) -> None:
        problems.append(Problem("mapping", msg, file=file, key=key, line=lines.get(key),
                                value=value))

    if not isinstance(data, Mapping):
        raise RatingsError(f"{file or 'mapping'}: a mapping must be a YAML mapping",
                           [Problem("mapping", "not a mapping", file=file)])
    allowed_keys = {"mapping_version", "instrument", "format", "columns", "codes", "groups",
                    "ignore", "unmatched"}
    for k in data:
        if k not in allowed_keys:
            bad(str(k), f"unknown key {k!r} (allowed: {', '.join(sorted(allowed_keys))})", k)
    inst = data.get("instrument")
    if inst is not None and str(inst) not in (instrument.label, instrument.id):
        bad("instrument", f"the mapping is for {inst!r}, not {instrument.label}", inst)
    tmap = targets(instrument)
    columns: dict[str, str] = {}
    seen: dict[str, str] = {}
    raw_cols = data.get("columns") or {}
    if not isinstance(raw_cols, Mapping):
        bad("columns", "columns must map export columns to targets")
        raw_cols = {}
    for col, tgt in raw_cols.items():
        key = f"columns.{col}"
        if tgt is None:
            continue
        t = tmap.get(str(tgt).lower())
        if t is None:
            close = difflib.get_close_matches(str(tgt), list(tmap.values()), n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            bad(key, f"{tgt!r} is not an id, date, item, single-choice construct or gate of "
                     f"{instrument.label}{hint}", tgt)
            continue
        if t in seen:
            bad(key, f"columns {seen[t]!r} and {col!r} both map to {t!r}", tgt)
            continue
        seen[t] = str(col)
        columns[str(col)] = t
    codes: dict[str, dict[str, Any]] = {}
    raw_codes = data.get("codes") or {}
    if not isinstance(raw_codes, Mapping):
        bad("codes", "codes must map targets to {code: value} mappings")
        raw_codes = {}
    for tgt, m in raw_codes.items():
        t = tmap.get(str(tgt).lower())
        key = f"codes.{tgt}"
        if t is None:
            bad(key, f"codes given for {tgt!r}, which is no target of {instrument.label}", tgt)
            continue
        if not isinstance(m, Mapping):
            bad(key, "codes must be a mapping {export code: value}")
            continue
        kind = _target_kind(instrument, t)
        conv: dict[str, Any] = {}
        for k, v in m.items():
            if kind == "single_choice":
                c = instrument.construct(t)
                if str(v) not in c.item_ids:
                    bad(f"{key}.{k}", f"{v!r} is not a level of {t} "
                                      f"(levels: {', '.join(c.item_ids)})", v)
            elif kind == "gate":
                g = instrument.gate(t)
                if str(v) not in g.options:
                    bad(f"{key}.{k}", f"{v!r} is not an option of {t} "
                                      f"(options: {', '.join(g.options)})", v)
            elif kind == "item" and not (isinstance(v, int) and not isinstance(v, bool)
                                         and v in instrument.allowed_values(t)):
                bad(f"{key}.{k}", f"{v!r} is not an allowed code of {t} (allowed: "
                                  f"{', '.join(map(str, instrument.allowed_values(t)))})", v)
            conv[_code_key(k)] = v if kind == "item" else str(v)
        codes[t] = conv

    def strlist(k: str) -> tuple[str, ...]:
        v = data.get(k) or []
        if isinstance(v, str) or not isinstance(v, Sequence):
            bad(k, f"{k} must be a list of column names")
            return ()
        return tuple(str(x) for x in v)

    groups, ignore, unmatched = strlist("groups"), strlist("ignore"), strlist("unmatched")
    if problems:
        raise RatingsError.from_problems(problems, file or "the mapping")
    return ColumnMapping(columns=columns, codes=codes, groups=groups, ignore=ignore,
                         unmatched=unmatched, file=file)


def _code_key(k: Any) -> str:
    if isinstance(k, float) and k.is_integer():
        k = int(k)
    return str(k).strip().lower()


def auto_columns(names: Sequence[str], instrument: Instrument, fmt: str, *,
                 sample: pd.DataFrame | None = None,
                 labels: Mapping[str, str] | None = None
                 ) -> tuple[dict[str, str], list[str], list[str], list[str]]:
    """Match export columns to targets by name (and, for Qualtrics, by question text).

    ``sample`` (the export's rows, optional) lets platform id columns be judged by their
    content: Qualtrics' ``ExternalReference`` is taken as ``respondent_id`` only when it
    holds values (it is blank in anonymous surveys, where each ``ResponseId`` is its own
    respondent). ``labels`` (column -> the question text of Qualtrics' second header row)
    match the remaining columns to items by their label or text: a matrix column's text is
    ``<question> - <statement>``. In a Qualtrics export a column whose text differs from
    its name is a question, so an unmatched one is listed as unmatched, not as a group.

    Returns
    -------
    (columns, groups, ignored, unmatched)
        ``columns``: export column -> target; ``groups``: columns kept as grouping
        columns; ``ignored``: platform bookkeeping; ``unmatched``: columns that look like
        a misspelt instrument id (close to one) and are not used.
    """
    tmap = targets(instrument)
    multi = {c.id.lower(): c for c in instrument.constructs if c.kind == "multi_select"}
    lower = {n: n.strip().lower() for n in names}
    columns: dict[str, str] = {}
    used: set[str] = set()
    groups: list[str] = []
    ignored: list[str] = []
    unmatched: list[str] = []

    def take(n: str, t: str) -> bool:
        if t in used:
            return False
        columns[n] = t
        used.add(t)
        return True

    # first pass: exact (case-insensitive) names
    for n in names:
        t = tmap.get(lower[n])
        if t is not None:
            take(n, t)
    aliases: dict[str, list[str]] = {
        "rating_id": ["responseid", "response_id"],
        "respondent_id": ["externalreference", "external_reference", "externaldatareference"],
        "date": ["recordeddate", "recorded_date", "rating_date"],
    }
    if sample is not None:  # an id column that is blank throughout identifies nobody
        for a in list(aliases["respondent_id"]):
            col = next((n for n in names if lower[n] == a), None)
            if col is not None and col in sample.columns and as_text(sample[col]).isna().all():
                aliases["respondent_id"].remove(a)
                ignored.append(col)
    for t, alist in aliases.items():
        if t in used:
            continue
        for a in alist:
            hit = [n for n in names if lower[n] == a and n not in columns]
            if hit:
                take(hit[0], t)
                break
    if labels:
        _match_question_text(names, instrument, labels, columns, used, ignored, take)
    for n in names:
        if n in columns or n in ignored:
            continue
        low = lower[n]
        m = _CHECKBOX.match(low) or _CHECKBOX_TEXT.match(low)
        if m and m.group("field") in multi:
            c = multi[m.group("field")]
            code = m.group("code").lower()
            for it in c.items:
                if str(c.item_code(it.id)).lower() == code and take(n, it.id):
                    break
            else:
                unmatched.append(n)
            continue
        if low in SYSTEM_COLUMNS or low.endswith("_complete") or low.endswith("_timestamp") \
                or n.startswith("(column "):
            ignored.append(n)
            continue
        close = difflib.get_close_matches(low, [t.lower() for t in tmap.values()], n=1,
                                          cutoff=0.85)
        question = fmt == "qualtrics" and (
            (labels is not None and labels.get(n, n).strip() not in ("", n)) or
            (labels is None and re.match(r"^(q\d|qid\d)", low) is not None))
        if close or question or (m and m.group("field") in multi):
            unmatched.append(n)
        else:
            groups.append(n)
    return columns, groups, ignored, unmatched


def _norm_text(text: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", text).split()).strip(" .:?").lower()


def _match_question_text(names: Sequence[str], instrument: Instrument,
                         labels: Mapping[str, str], columns: dict[str, str], used: set[str],
                         ignored: list[str], take: Any) -> None:
    """Match Qualtrics columns to items, single-choice constructs and gates by the
    question text of the second header row (unique matches only)."""
    wanted: dict[str, set[str]] = {}

    def want(text: str | None, target: str) -> None:
        if text:
            wanted.setdefault(_norm_text(text), set()).add(target)

    multi = {c.id for c in instrument.constructs if c.kind == "multi_select"}
    for c in instrument.constructs:
        if c.kind == "single_choice":
            want(c.question, c.id)
            want(c.label, c.id)
        if c.gate is not None:
            want(c.gate.question, c.gate.id)
        if c.kind in ("likert", "binary") or c.id in multi:
            for it in c.items:
                want(it.label, it.id)
                want(it.text, it.id)
    for n in names:
        if n in columns or n in ignored:
            continue
        text = labels.get(n, "")
        if not text or text.strip() == n:
            continue
        cands = [_norm_text(text)]
        if " - " in text:  # matrix and multiple-answer columns: "<question> - <statement>"
            cands.append(_norm_text(text.rsplit(" - ", 1)[1]))
        for cand in cands:
            hits = [t for t in wanted.get(cand, set()) if t not in used]
            if len(hits) == 1 and take(n, hits[0]):
                break


def apply_mapping(frame: pd.DataFrame, instrument: Instrument, *,
                  mapping: ColumnMapping | None, fmt: str, file: str | None
                  ) -> tuple[pd.DataFrame, list[str], list[Problem], dict[str, str]]:
    """Rename and recode export columns to canonical names.

    Returns the canonical table, its grouping columns, the problems found
    (``unknown_column`` warnings, ``missing_id_column`` errors) and the column map used.
    """
    names = [str(c) for c in frame.columns]
    problems: list[Problem] = []
    tmap = targets(instrument)
    if mapping is None:
        columns, groups, ignored, unmatched = auto_columns(names, instrument, fmt,
                                                           sample=frame)
    else:
        columns = {c: t for c, t in mapping.columns.items() if c in frame.columns}
        used = set(mapping.columns.values())
        rest = [c for c in names if c not in mapping.columns and c not in mapping.ignore
                and c not in mapping.groups]
        auto, _, _, _ = auto_columns(rest, instrument, fmt)
        for c, t in auto.items():  # columns already named like a target need no mapping
            if t not in used:
                columns[c] = t
                used.add(t)
        for c, t in mapping.columns.items():
            if c not in frame.columns:
                problems.append(Problem(
                    "missing_column", f"the mapping names column {c!r} (for {t}), which the "
                    "export does not have", file=file, column=c, severity="error"))
        groups = [c for c in mapping.groups if c in frame.columns]
        ignored = [c for c in names if c in mapping.ignore or c.lower() in SYSTEM_COLUMNS
                   or c.lower().endswith("_complete")]
        unmatched = [c for c in names if c not in columns and c not in groups
                     and c not in ignored]
    for c in unmatched:
        if c.lower() in tmap and tmap[c.lower()] in columns.values():
            # named like a target that another column already supplies
            src = next((k for k, t in columns.items() if t == tmap[c.lower()]), None)
            problems.append(Problem(
                "unknown_column", f"column {c!r} is not used: {tmap[c.lower()]!r} is taken "
                f"from column {src!r}", file=file, row=1, column=c, value=c,
                severity="warning"))
            continue
        close = difflib.get_close_matches(c.lower(), [t.lower() for t in tmap.values()], n=1,
                                          cutoff=0.6)
        hint = f"; did you mean {tmap[close[0]]!r}?" if close else ""
        how = "add it to the mapping" if mapping is not None else \
            "rename it or map it with a mapping file"
        problems.append(Problem(
            "unknown_column", f"column {c!r} is not part of {instrument.label} and is not "
            f"used{hint} ({how})", file=file, row=1, column=c, value=c, severity="warning"))
    out: dict[str, Any] = {}
    for c, t in columns.items():
        s = frame[c]
        if mapping is not None and t in mapping.codes:
            lut = mapping.codes[t]
            txt = as_text(s)
            key = txt.str.lower()
            if pd.api.types.is_float_dtype(s.dtype):
                key = key.str.replace(r"\.0$", "", regex=True)
            rec = key.map(lut)
            s = rec.astype(object).where(rec.notna(), txt.astype(object))
        out[t] = s
    for g in groups:
        if g in out:
            continue
        out[g] = frame[g]
    table = pd.DataFrame(out, index=frame.index)
    return table, [g for g in groups if g not in columns.values()], problems, columns


def mapping_template(names: Sequence[str], instrument: Instrument, fmt: str,
                     *, sample: pd.DataFrame | None = None,
                     labels: Mapping[str, str] | None = None) -> str:
    """The text of a starting mapping file: every column matched, every one not.

    Matched columns are listed under ``columns``; grouping candidates under ``groups``;
    platform bookkeeping under ``ignore``; columns it could not match under
    ``unmatched`` (and, commented out, under ``columns`` so that they can be filled in).
    """
    columns, groups, ignored, unmatched = auto_columns(names, instrument, fmt, sample=sample,
                                                       labels=labels)
    missing = [t for t in (*ID_COLUMNS, *expected_columns(instrument))
               if t not in columns.values()]
    codes: dict[str, dict[int | str, Any]] = {}
    for _c, t in columns.items():
        if t in {g.id for g in instrument.gates}:
            g = instrument.gate(t)
            codes[t] = {g.option_code(o): o for o in g.options}
        elif t in {x.id for x in instrument.constructs if x.kind == "single_choice"}:
            x = instrument.construct(t)
            codes[t] = {x.item_code(i): i for i in x.item_ids}
    head = (f"# Mapping of export columns to {instrument.label} (written by "
            "`instrval ratings map-template`).\n"
            "# Check every line; map the columns listed under `unmatched`, then delete them\n"
            "# from that list. Targets: rating_id, respondent_id, date, item ids, single-choice\n"
            "# construct ids, gate ids. `codes` recode export values (defaults shown).\n")
    if "respondent_id" in missing and any(t == "rating_id" and c.lower() == "responseid"
                                          for c, t in columns.items()):
        missing.remove("respondent_id")
        head += ("# respondent_id: no respondent column holds values, so each ResponseId is "
                 "its own respondent.\n")
    if missing:
        head += "# Targets no column matched: " + ", ".join(missing) + "\n"
    data = {"mapping_version": MAPPING_VERSION, "instrument": instrument.label,
            "format": fmt, "columns": columns, "codes": codes, "groups": groups,
            "ignore": ignored, "unmatched": [c for c in names if c in unmatched]}
    body = dump_yaml(data)
    if unmatched:
        body += "# Columns to map (uncomment under `columns`):\n"
        body += "".join(f"#   {c}: <target>\n" for c in unmatched)
    return head + body

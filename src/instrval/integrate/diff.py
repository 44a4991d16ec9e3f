"""What changed between two versions of an instrument, as a changelog.

:func:`instrument_diff` compares two :class:`~instrval.model.instrument.Instrument`
objects and lists every change, one row per change, in the order a reader expects from a
changelog: metadata, scales, constructs, gates, then items. It is a pure function: no file
is read; ``instrval instrument diff OLD NEW`` reads the two files and calls it.

Change kinds (the ``change`` column):

========================  ==============================================================
``metadata_changed``      a top-level field (``field``: id, version, title, status,
                          description, language, license, source, derived_from,
                          format_version)
``scale_added``           a scale id is new (``old``/``new``: ``min..max``)
``scale_removed``         a scale id is gone
``scale_changed``         a scale's ``min``, ``max`` or ``labels`` changed
``construct_added``       a construct id is new
``construct_removed``     a construct id is gone (its items are listed as removed too)
``construct_changed``     a construct's ``label``, ``question``, ``description``,
                          ``kind`` or ``scale`` changed
``construct_moved``       a construct changed place in the construct order (``position``)
``gate_added``            a construct gained a gate
``gate_removed``          a construct lost its gate
``gate_changed``          a gate's ``id``, ``question``, ``options`` or ``open_when`` changed
``item_added``            an item id is new
``item_removed``          an item id is gone
``item_reworded``         an item's ``label`` or ``text`` changed
``item_moved``            an item went to another construct (``field`` = ``construct``) or
                          changed place among the items kept in its construct
                          (``field`` = ``position``, 1-based positions)
``item_changed``          an item's ``reverse`` keying or its stored ``code`` (explicit or
                          positional, see ``Construct.item_code``) changed within its
                          construct; Markdown lists code changes on one line per construct
``untranslated``          (:func:`language_diff` only) a text that has no version in the
                          language compared (``field``: title, label, question, ...)
========================  ==============================================================

:func:`language_diff` compares the wording of one instrument in two of its languages
(``instrval instrument diff FILE --language fr``): each translated text is an
``item_reworded``, ``construct_changed``, ``gate_changed``, ``scale_changed`` or
``metadata_changed`` row from the base language to the other, and every text left
untranslated an ``untranslated`` row.

Items are matched by id: an item whose id changed is reported as one removal and one
addition (a changed id changes a data column, which is what a changelog must say).
Moves within a construct are the items outside the longest common subsequence of the
kept items, so inserting one item does not report every later item as moved.
The ``changelog`` and ``provenance`` sections are not compared (the changelog is what
this diff helps to write; provenance records how a file was made, not its content).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from instrval._result import Result
from instrval.model.instrument import Construct, Instrument

__all__ = ["InstrumentDiff", "instrument_diff", "language_diff", "CHANGE_KINDS"]

CHANGE_KINDS = (
    "metadata_changed",
    "scale_added", "scale_removed", "scale_changed",
    "construct_added", "construct_removed", "construct_changed", "construct_moved",
    "gate_added", "gate_removed", "gate_changed",
    "item_added", "item_removed", "item_reworded", "item_moved", "item_changed",
    "untranslated",
)

_COLUMNS = ["change", "item_id", "construct_id", "field", "old", "new"]


@dataclass(frozen=True, repr=False)
class InstrumentDiff(Result):
    """The changes from one instrument version to another.

    Attributes
    ----------
    old, new : str
        The two versions compared, as ``id@version``.
    changes : pandas.DataFrame
        One row per change with columns ``change``, ``item_id``, ``construct_id``,
        ``field``, ``old``, ``new`` (text or None; lists and mappings are shown as text).
    """

    old: str
    new: str
    changes: pd.DataFrame

    def __bool__(self) -> bool:
        return not self.changes.empty

    @property
    def is_empty(self) -> bool:
        """True when the two instruments have the same content."""
        return self.changes.empty

    def _ids(self, change: str) -> tuple[str, ...]:
        rows = self.changes[self.changes["change"] == change]
        return tuple(dict.fromkeys(rows["item_id"].tolist()))

    @property
    def added(self) -> tuple[str, ...]:
        """Ids of the items added."""
        return self._ids("item_added")

    @property
    def removed(self) -> tuple[str, ...]:
        """Ids of the items removed."""
        return self._ids("item_removed")

    @property
    def reworded(self) -> tuple[str, ...]:
        """Ids of the items whose label or text changed."""
        return self._ids("item_reworded")

    @property
    def moved(self) -> tuple[str, ...]:
        """Ids of the items moved to another construct or place."""
        return self._ids("item_moved")

    def counts(self) -> dict[str, int]:
        """Number of rows per change kind (kinds with no change are left out)."""
        vc = self.changes["change"].value_counts()
        return {k: int(vc[k]) for k in CHANGE_KINDS if k in vc.index}

    def to_frame(self) -> pd.DataFrame:
        """One row per change: change, item_id, construct_id, field, old, new."""
        return self.changes.copy()

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: ``old``, ``new``, ``counts`` and ``changes`` (a list of rows)."""
        rows = [
            {k: (None if v is None or (isinstance(v, float) and pd.isna(v)) else v)
             for k, v in r.items()}
            for r in self.changes.to_dict(orient="records")
        ]
        return {"old": self.old, "new": self.new, "counts": self.counts(), "changes": rows}

    def to_markdown(self) -> str:
        """The changes as a Markdown changelog, grouped under headings."""
        lines = [f"## Changes from {self.old} to {self.new}", ""]
        if self.changes.empty:
            lines.append("No changes.")
            return "\n".join(lines) + "\n"
        sections = [
            ("Metadata", ("metadata_changed",)),
            ("Scales", ("scale_added", "scale_removed", "scale_changed")),
            ("Constructs", ("construct_added", "construct_removed", "construct_changed",
                            "construct_moved")),
            ("Gates", ("gate_added", "gate_removed", "gate_changed")),
            ("Items", ("item_added", "item_removed", "item_reworded", "item_moved",
                       "item_changed")),
            ("Untranslated", ("untranslated",)),
        ]
        for title, kinds in sections:
            rows = self.changes[self.changes["change"].isin(kinds)]
            if rows.empty:
                continue
            lines.append(f"### {title}")
            lines.append("")
            codes = rows[(rows["change"] == "item_changed") & (rows["field"] == "code")]
            for r in rows.drop(index=codes.index).itertuples(index=False):
                lines.append(f"- {_sentence(r)}")
            for cid, grp in codes.groupby("construct_id", sort=False):
                shifts = ", ".join(f"`{r.item_id}` {r.old} → {r.new}"
                                   for r in grp.itertuples(index=False))
                lines.append(f"- Stored codes changed in `{cid}` (survey platforms such as "
                             f"REDCap store these): {shifts}")
            lines.append("")
        return "\n".join(lines)


def instrument_diff(old: Instrument, new: Instrument) -> InstrumentDiff:
    """Compare two instrument versions and list what changed.

    Parameters
    ----------
    old, new : Instrument
        The earlier and the later version (any two instruments can be compared).

    Returns
    -------
    InstrumentDiff
        ``to_frame()`` gives one row per change (change, item_id, construct_id, field,
        old, new); ``to_markdown()`` a changelog; ``to_dict()`` JSON-ready data.

    Notes
    -----
    Pure function. Items, constructs and scales are matched by id; see the module
    docstring for the change kinds.

    Examples
    --------
    >>> from instrval.model.instrument import Instrument
    >>> def inst(version, label):
    ...     return Instrument.from_dict({
    ...         "format_version": "1.0", "id": "demo", "version": version, "title": "Demo",
    ...         "constructs": [{"id": "impact", "label": "Impact", "kind": "multi_select",
    ...                         "items": [{"id": "learned", "label": label}]}]})
    >>> d = instrument_diff(inst("1", "Learned something"), inst("2", "I learned something"))
    >>> d.to_frame()[["change", "item_id", "field"]].values.tolist()
    [['metadata_changed', None, 'version'], ['item_reworded', 'learned', 'label']]
    """
    rows: list[dict[str, Any]] = []

    def add(change: str, *, item_id: str | None = None, construct_id: str | None = None,
            field: str | None = None, old_v: Any = None, new_v: Any = None) -> None:
        rows.append({"change": change, "item_id": item_id, "construct_id": construct_id,
                     "field": field, "old": _text(old_v), "new": _text(new_v)})

    # -- metadata
    for f in ("id", "version", "title", "status", "description", "language", "license",
              "format_version"):
        a, b = getattr(old, f), getattr(new, f)
        if a != b:
            add("metadata_changed", field=f, old_v=a, new_v=b)
    for f in ("source", "derived_from"):
        a, b = getattr(old, f), getattr(new, f)
        if a != b:
            add("metadata_changed", field=f, old_v=_obj(a), new_v=_obj(b))

    # -- scales
    for sid, s in old.scales.items():
        if sid not in new.scales:
            add("scale_removed", field="scale", old_v=f"{sid} ({s.min}..{s.max})")
    for sid, s in new.scales.items():
        if sid not in old.scales:
            add("scale_added", field="scale", new_v=f"{sid} ({s.min}..{s.max})")
            continue
        o = old.scales[sid]
        for f in ("min", "max"):
            if getattr(o, f) != getattr(s, f):
                add("scale_changed", field=f"{sid}.{f}", old_v=getattr(o, f),
                    new_v=getattr(s, f))
        if dict(o.labels) != dict(s.labels):
            add("scale_changed", field=f"{sid}.labels", old_v=dict(o.labels),
                new_v=dict(s.labels))

    # -- constructs
    old_c = {c.id: c for c in old.constructs}
    new_c = {c.id: c for c in new.constructs}
    for c in old.constructs:
        if c.id not in new_c:
            add("construct_removed", construct_id=c.id, field="construct", old_v=c.label)
    for c in new.constructs:
        if c.id not in old_c:
            add("construct_added", construct_id=c.id, field="construct", new_v=c.label)
            continue
        o = old_c[c.id]
        for f in ("label", "question", "description", "kind", "scale"):
            if getattr(o, f) != getattr(c, f):
                add("construct_changed", construct_id=c.id, field=f, old_v=getattr(o, f),
                    new_v=getattr(c, f))
    kept = [c for c in old.constructs if c.id in new_c]
    kept_new = [c for c in new.constructs if c.id in old_c]
    stay = set(_lcs([c.id for c in kept], [c.id for c in kept_new]))
    for c in kept_new:
        if c.id not in stay:
            add("construct_moved", construct_id=c.id, field="position",
                old_v=old.construct_ids.index(c.id) + 1, new_v=new.construct_ids.index(c.id) + 1)

    # -- gates (of constructs present in both versions, or new constructs' gates)
    for c in new.constructs:
        o = old_c.get(c.id)
        og, ng = (o.gate if o else None), c.gate
        if og is None and ng is not None:
            add("gate_added", construct_id=c.id, field="gate", new_v=_gate_text(ng))
        elif og is not None and ng is None:
            add("gate_removed", construct_id=c.id, field="gate", old_v=_gate_text(og))
        elif og is not None and ng is not None:
            for f in ("id", "question", "options", "open_when"):
                a, b = getattr(og, f), getattr(ng, f)
                if a != b:
                    add("gate_changed", construct_id=c.id, field=f,
                        old_v=list(a) if isinstance(a, tuple) else a,
                        new_v=list(b) if isinstance(b, tuple) else b)
    for c in old.constructs:
        if c.id not in new_c and c.gate is not None:
            add("gate_removed", construct_id=c.id, field="gate", old_v=_gate_text(c.gate))

    # -- items
    old_items = {it.id: (c, it) for c, it in old.iter_items()}
    new_items = {it.id: (c, it) for c, it in new.iter_items()}
    for c, it in old.iter_items():
        if it.id not in new_items:
            add("item_removed", item_id=it.id, construct_id=c.id, field="item", old_v=it.label)
    for c, it in new.iter_items():
        if it.id not in old_items:
            add("item_added", item_id=it.id, construct_id=c.id, field="item", new_v=it.label)
            continue
        oc, oit = old_items[it.id]
        for f in ("label", "text"):
            if getattr(oit, f) != getattr(it, f):
                add("item_reworded", item_id=it.id, construct_id=c.id, field=f,
                    old_v=getattr(oit, f), new_v=getattr(it, f))
        if oc.id != c.id:
            add("item_moved", item_id=it.id, construct_id=c.id, field="construct",
                old_v=oc.id, new_v=c.id)
        if oit.reverse != it.reverse:
            add("item_changed", item_id=it.id, construct_id=c.id, field="reverse",
                old_v=oit.reverse, new_v=it.reverse)
        if oc.id == c.id and oc.item_code(it.id) != c.item_code(it.id):
            add("item_changed", item_id=it.id, construct_id=c.id, field="code",
                old_v=oc.item_code(it.id), new_v=c.item_code(it.id))
    for c in new.constructs:
        if c.id in old_c:
            for iid, (a, b) in _moved_within(old_c[c.id], c).items():
                add("item_moved", item_id=iid, construct_id=c.id, field="position",
                    old_v=a, new_v=b)

    frame = pd.DataFrame(rows, columns=_COLUMNS).astype(object)
    frame = frame.where(frame.notna(), None)
    order = {k: i for i, k in enumerate(CHANGE_KINDS)}
    frame = frame.iloc[sorted(range(len(frame)), key=lambda i: order[frame["change"].iat[i]])]
    return InstrumentDiff(old=old.label, new=new.label, changes=frame.reset_index(drop=True))


# ---------------------------------------------------------------------- helpers
def _moved_within(old: Construct, new: Construct) -> dict[str, tuple[int, int]]:
    common_old = [i for i in old.item_ids if i in new.item_ids]
    common_new = [i for i in new.item_ids if i in old.item_ids]
    stay = set(_lcs(common_old, common_new))
    return {
        i: (old.item_ids.index(i) + 1, new.item_ids.index(i) + 1)
        for i in common_new if i not in stay
    }


def _lcs(a: list[str], b: list[str]) -> list[str]:
    """Longest common subsequence of two id lists (dynamic programming, O(len a * len b))."""
    n, m = len(a), len(b)
    table = [[0] * (m + 1) for _ in range(n + 1)]
    for i in range(n - 1, -1, -1):
        for j in range(m - 1, -1, -1):
            table[i][j] = (table[i + 1][j + 1] + 1 if a[i] == b[j]
                           else max(table[i + 1][j], table[i][j + 1]))
    out, i, j = [], 0, 0
    while i < n and j < m:
        if a[i] == b[j]:
            out.append(a[i])
            i += 1
            j += 1
        elif table[i + 1][j] >= table[i][j + 1]:
            i += 1
        else:
            j += 1
    return out


def _obj(o: Any) -> Any:
    if o is None:
        return None
    return {k: v for k, v in vars(o).items() if v is not None}


def _gate_text(g: Any) -> str:
    return (f"{g.id}: {g.question} (options {', '.join(g.options)}; "
            f"open when {', '.join(g.open_when)})")


def _text(v: Any) -> str | None:
    if v is None:
        return None
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dict):
        return ", ".join(f"{k}: {val}" for k, val in v.items())
    if isinstance(v, (list, tuple)):
        return ", ".join(str(x) for x in v)
    return str(v)


def _q(v: Any) -> str:
    return "(none)" if v is None else f"“{v}”"


def _sentence(r: Any) -> str:
    ch, iid, cid, f, a, b = r.change, r.item_id, r.construct_id, r.field, r.old, r.new
    if ch == "untranslated":
        where = f"`{iid}`" if iid else (f"`{cid}`" if cid else "instrument")
        return f"No {b} text for {where} {f}: {_q(a)}"
    if ch == "metadata_changed":
        return f"{f}: {_q(a)} → {_q(b)}"
    if ch == "scale_added":
        return f"Added scale {b}"
    if ch == "scale_removed":
        return f"Removed scale {a}"
    if ch == "scale_changed":
        return f"Scale {f}: {_q(a)} → {_q(b)}"
    if ch == "construct_added":
        return f"Added construct `{cid}` ({b})"
    if ch == "construct_removed":
        return f"Removed construct `{cid}` ({a})"
    if ch == "construct_changed":
        return f"Construct `{cid}` {f}: {_q(a)} → {_q(b)}"
    if ch == "construct_moved":
        return f"Moved construct `{cid}` from position {a} to {b}"
    if ch == "gate_added":
        return f"Construct `{cid}` is now gated by {b}"
    if ch == "gate_removed":
        return f"Construct `{cid}` is no longer gated (was {a})"
    if ch == "gate_changed":
        return f"Gate of `{cid}` {f}: {_q(a)} → {_q(b)}"
    if ch == "item_added":
        return f"Added item `{iid}` to `{cid}`: {_q(b)}"
    if ch == "item_removed":
        return f"Removed item `{iid}` from `{cid}`: {_q(a)}"
    if ch == "item_reworded":
        return f"Reworded `{iid}` ({f}): {_q(a)} → {_q(b)}"
    if ch == "item_moved" and f == "construct":
        return f"Moved `{iid}` from construct `{a}` to `{b}`"
    if ch == "item_moved":
        return f"Moved `{iid}` within `{cid}` from position {a} to {b}"
    return f"Item `{iid}` {f}: {_q(a)} → {_q(b)}"


def language_diff(instrument: Instrument, language: str, *, base: str | None = None,
                  other: Instrument | None = None) -> InstrumentDiff:
    """Compare an instrument's wording in two languages.

    Parameters
    ----------
    instrument : Instrument
        A translated instrument (format 1.1).
    language : str
        The language compared with the base, e.g. ``"fr"``.
    base : str, optional
        The base language (default: the instrument's default language).
    other : Instrument, optional
        Take the ``language`` wording from this instrument instead (e.g. a later
        version), so that a translation can be checked against a revised source.

    Returns
    -------
    InstrumentDiff
        Rows ``item_reworded`` (and construct, gate, scale, metadata changes) from the base
        wording to the ``language`` wording, plus ``untranslated`` rows for texts that have
        no ``language`` version (``old`` = the base text, ``new`` = the language).

    Raises
    ------
    KeyError
        When the instrument has no text in ``language`` or ``base``.
    """
    base = base or instrument.language or (instrument.languages[:1] or ("",))[0]
    src = other if other is not None else instrument
    a = instrument.in_language(base).without_translations()
    b = src.in_language(language).without_translations()
    d = instrument_diff(a.replace(language=None), b.replace(language=None))
    rows = d.changes[d.changes["field"] != "version"] if other is None else d.changes
    missing: list[dict[str, Any]] = []

    def check(obj: Any, fields: dict[str, str | None], item: str | None,
              construct: str | None) -> None:
        for f, text in fields.items():
            if text is not None and language not in obj.translations.get(f, {}):
                missing.append({"change": "untranslated", "item_id": item,
                                "construct_id": construct, "field": f, "old": text,
                                "new": language})

    check(src, {"title": src.title, "description": src.description}, None, None)
    for c in src.constructs:
        check(c, {"label": c.label, "question": c.question, "description": c.description},
              None, c.id)
        if c.gate is not None:
            check(c.gate, {"question": c.gate.question}, None, c.id)
        for it in c.items:
            check(it, {"label": it.label, "text": it.text}, it.id, c.id)
    changes = pd.concat([rows, pd.DataFrame(missing, columns=_COLUMNS)], ignore_index=True) \
        if missing else rows.reset_index(drop=True)
    return InstrumentDiff(old=f"{instrument.label} ({base})", new=f"{src.label} ({language})",
                          changes=changes)

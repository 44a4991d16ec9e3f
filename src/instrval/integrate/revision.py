"""The revised instrument: a new version derived from the reviewed one.

Removed items are gone; revised items carry their new wording when the experts gave one
(otherwise they stay, marked in the changelog as to be reworded); accepted missing concepts
become new items. The new version records ``derived_from``, one changelog entry per item
(``kept``, ``revised``, ``removed`` or ``added``, with the reason and the evidence) and the
provenance of the review (sha256 of every input, instrval version, rules, seed) in its
``provenance`` mapping. Its status is ``draft`` until it is published.

Version labels (:func:`next_version`): the label the user gives wins; otherwise a year
label (``2011``) becomes the year of the report's timestamp (or the next year when that is
not later), ``x.y`` becomes ``x.(y+1)``, ``x.y.z`` becomes ``x.(y+1).0``, a whole number
``n`` becomes ``n+1``, and anything else gets ``-rev1`` appended.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import pandas as pd

from instrval.errors import Problem, StudyError
from instrval.model.checks import VERSION_PATTERN
from instrval.model.instrument import (
    ChangeEntry,
    Construct,
    DerivedFrom,
    Instrument,
    Item,
)

__all__ = ["revise_instrument", "next_version"]

_ACTION = {"keep": "kept", "revise": "revised", "remove": "removed", "add": "added"}


def next_version(old: str, *, timestamp: str | None = None) -> str:
    """The default label of the next version (see the module docstring).

    >>> next_version("2011", timestamp="2014-06-30T12:00:00+00:00")
    '2014'
    >>> next_version("1.0"), next_version("2.3.1"), next_version("7"), next_version("beta")
    ('1.1', '2.4.0', '8', 'beta-rev1')
    """
    s = str(old).strip()
    if re.fullmatch(r"(19|20)\d\d", s):
        year = datetime.fromisoformat(timestamp).year if timestamp else datetime.now().year
        return str(year if year > int(s) else int(s) + 1)
    m = re.fullmatch(r"(\d+)\.(\d+)", s)
    if m:
        return f"{m.group(1)}.{int(m.group(2)) + 1}"
    m = re.fullmatch(r"(\d+)\.(\d+)\.(\d+)", s)
    if m:
        return f"{m.group(1)}.{int(m.group(2)) + 1}.0"
    if re.fullmatch(r"\d+", s):
        return str(int(s) + 1)
    return f"{s}-rev1"


def _isna(v: Any) -> bool:
    return v is None or (isinstance(v, float) and v != v) or v is pd.NA


def revise_instrument(instrument: Instrument, joint: Any, *, version: str | None = None,
                      status: str = "draft", timestamp: str | None = None,
                      provenance: Mapping[str, Any] | None = None) -> Instrument:
    """Derive the revised instrument from a joint display's final decisions.

    Parameters
    ----------
    instrument : Instrument
        The reviewed version.
    joint : JointDisplay or DataFrame
        Rows with ``row_type``, ``item_id``, ``construct_id``, ``decision``,
        ``reason``, ``evidence``, ``decided_by``, ``expert_rationale``, ``new_label``,
        ``new_text``, ``new_item_id``, ``new_construct_id``.
    version : str, optional
        The new version label; default :func:`next_version`.
    status : str
        ``draft`` until published.
    timestamp : str, optional
        ISO date-time of the review (used for a year label).
    provenance : mapping, optional
        Stored as the new version's ``provenance``.

    Returns
    -------
    Instrument
        Checked like any instrument file (``Instrument.from_dict``).

    Raises
    ------
    StudyError
        When the decisions leave an invalid instrument (e.g. a construct without items).
    """
    table = joint.items if hasattr(joint, "items") and not callable(joint.items) else joint
    new_version = version or next_version(instrument.version, timestamp=timestamp)
    if not VERSION_PATTERN.match(str(new_version)):
        raise StudyError(f"the revised version label {new_version!r} is not a safe version "
                         "label: use letters, digits and . _ + - only, starting with a letter "
                         "or digit, at most 64 characters (it names the revised file)",
                         [Problem("invalid_version", "not a safe version label",
                                  key="revision.version", value=new_version)])
    if new_version == instrument.version:
        raise StudyError(f"the revised version label {new_version!r} equals the reviewed "
                         f"version's; give another with revision.version / --version-label")
    rows = [{k: (None if _isna(v) else v) for k, v in rec.items()}
            for rec in table.to_dict(orient="records")]
    by_item = {r["item_id"]: r for r in rows if r.get("row_type") == "item"}
    added: dict[str, list[dict[str, Any]]] = {}
    for r in rows:
        if r.get("decision") == "add" and not _isna(r.get("new_item_id")):
            cid = r.get("new_construct_id") or r.get("construct_id")
            added.setdefault(str(cid), []).append(r)

    changes: list[ChangeEntry] = []
    constructs: list[Construct] = []
    for c in instrument.constructs:
        items: list[Item] = []
        for it in c.items:
            r = by_item.get(it.id, {})
            dec = r.get("decision") or "keep"
            reason = _reason(r)
            evidence = r.get("evidence") or None
            if dec == "remove":
                changes.append(ChangeEntry(new_version, "removed", reason, it.id, evidence))
                continue
            if dec == "revise":
                label = r.get("new_label")
                text = r.get("new_text")
                new = it
                if not _isna(label) or not _isna(text):
                    new = Item(id=it.id, label=it.label if _isna(label) else str(label),
                               text=it.text if _isna(text) else str(text),
                               reverse=it.reverse, code=it.code)
                    why = reason + f" New wording: {new.label!r}."
                else:
                    why = reason + " Marked for rewording: no new wording given yet."
                items.append(new)
                changes.append(ChangeEntry(new_version, "revised", why, it.id, evidence))
                continue
            items.append(it)
            changes.append(ChangeEntry(new_version, "kept", reason, it.id, evidence))
        # keep the stored codes of the remaining items (survey platforms store them):
        # an item whose position changed gets its old code written out
        items = [it if it.code is not None or c.item_code(it.id) == pos else
                 Item(id=it.id, label=it.label, text=it.text, reverse=it.reverse,
                      code=c.item_code(it.id))
                 for pos, it in enumerate(items, start=1)]
        next_code = max(c.item_code(i.id) for i in c.items) + 1
        for r in added.pop(c.id, []):
            pos = len(items) + 1
            new = Item(id=str(r["new_item_id"]), label=str(r["new_label"]),
                       text=None if _isna(r.get("new_text")) else str(r["new_text"]),
                       code=None if next_code == pos else next_code)
            next_code += 1
            items.append(new)
            changes.append(ChangeEntry(new_version, "added", _reason(r), new.id,
                                       r.get("evidence") or None))
        if not items:
            raise StudyError(f"the decisions remove every item of construct {c.id!r}; "
                             "an instrument cannot keep an empty construct")
        constructs.append(Construct(id=c.id, label=c.label, kind=c.kind, items=tuple(items),
                                    question=c.question, scale=c.scale, gate=c.gate,
                                    description=c.description))
    if added:
        raise StudyError("expert decisions add items to unknown constructs: "
                         + ", ".join(sorted(added)))
    revised = instrument.replace(
        version=new_version, status=status, constructs=tuple(constructs),
        derived_from=DerivedFrom(instrument.id, instrument.version),
        changelog=tuple(instrument.changelog) + tuple(changes),
        provenance=dict(provenance) if provenance else None)
    # check it like a file: ids unique, constructs valid, changelog actions known
    return Instrument.from_dict(revised.to_dict())


def _reason(r: Mapping[str, Any]) -> str:
    if not r:
        return "No evidence recorded; kept."
    rules = r.get("rules_fired") or ""
    decisive = [x for x in str(rules).split(";") if x and x not in
                str(r.get("supporting_rules") or "").split(";")]
    base = str(r.get("reason") or "").strip()
    if base:
        base = base[0].upper() + base[1:]
    tag = f" ({', '.join(decisive)})" if decisive else ""
    text = f"{base}{tag}." if base else "Kept."
    if r.get("decided_by") == "expert":
        exp = str(r.get("expert_rationale") or "").strip()
        who = r.get("expert_who")
        prop = r.get("proposed")
        text = (f"Expert decision{f' ({who})' if not _isna(who) and who else ''}: "
                f"{r.get('expert_decision')} (rules proposed {prop}). {exp}").strip()
        if base:
            text += f" Rules: {base}{tag}."
    return text

"""The instrument: constructs, gates, items and scales, as plain immutable values.

Nothing here reads or writes files (see :mod:`instrval.io.instrument`) and nothing here
checks a raw file (see :mod:`instrval.validate.instrument`): an :class:`Instrument` is
built only from data that has already been checked, so code that receives one can rely
on unique ids, known scales and consistent gates.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

__all__ = [
    "FORMAT_VERSION",
    "KINDS",
    "STATUSES",
    "CHANGE_ACTIONS",
    "ADAPTATION_STEPS",
    "Scale",
    "Item",
    "Gate",
    "Construct",
    "Source",
    "DerivedFrom",
    "ChangeEntry",
    "Instrument",
]

#: The newest instrument file format this version of instrval reads and writes. Format
#: 1.1 adds text codes (``code: a``) on items and ``codes`` on gates; a file that uses
#: neither is written as 1.0 (see :meth:`Instrument.required_format_version`), so 1.0
#: files read and write exactly as before.
FORMAT_VERSION = "1.1"


#: Construct kinds. ``multi_select``: check all that apply, each item a 0/1 box;
#: ``single_choice``: the items are mutually exclusive levels of one question;
#: ``likert``: each item an integer on a named scale; ``binary``: each item 0/1.
KINDS = ("multi_select", "single_choice", "likert", "binary")

#: Life-cycle status of an instrument version.
STATUSES = ("draft", "validated", "retired")

#: What a revision did to an item, as recorded in a changelog; ``adapted``: a step of a
#: translation and cultural adaptation (see :data:`ADAPTATION_STEPS`).
CHANGE_ACTIONS = ("kept", "revised", "removed", "added", "adapted")

#: Steps of a translation and cultural adaptation, after the ISPOR principles of good
#: practice (Wild et al., Value in Health 2005;8:94-104), recorded as ``adapted``
#: changelog entries with ``step``, ``language``, ``by`` and ``date``.
ADAPTATION_STEPS = ("preparation", "forward_translation", "reconciliation",
                    "back_translation", "back_translation_review", "harmonisation",
                    "cognitive_debriefing", "review", "proofreading", "final_report")

#: Translations of a field: ``{field: {language: text}}`` (``label``, ``text``,
#: ``question``, ``description``, ``title``), holding every language including the
#: default one (the instrument's ``language``), whose text is also the plain field.
Translations = Mapping[str, Mapping[str, str]]


@dataclass(frozen=True)
class Scale:
    """A response scale shared by Likert items: integers from ``min`` to ``max``."""

    id: str
    min: int
    max: int
    labels: Mapping[int, str] = field(default_factory=dict)
    #: ``{code: {language: label}}`` when the labels are translated (format 1.1).
    translations: Mapping[int, Mapping[str, str]] = field(default_factory=dict)

    @property
    def values(self) -> tuple[int, ...]:
        """All allowed codes, from ``min`` to ``max``."""
        return tuple(range(self.min, self.max + 1))


@dataclass(frozen=True)
class Item:
    """One item: a check box, a level of a single-choice question, or a rated statement.

    ``code`` is what survey platforms store for a level or box (REDCap's choice code): a
    whole number, or text such as ``a`` or ``NA`` (format 1.1); when a file gives none,
    the 1-based position within the construct is used.
    """

    id: str
    label: str
    text: str | None = None
    reverse: bool = False
    code: int | str | None = None
    translations: Translations = field(default_factory=dict)


@dataclass(frozen=True)
class Gate:
    """A screening question: the construct's items are presented only when it is open.

    ``open_when`` lists the options that open the gate (e.g. ``("yes",)``). ``codes``
    (format 1.1) are the stored codes of the options, in the same order (a REDCap
    ``yesno`` field stores ``1`` for yes and ``0`` for no); without them option ``k`` is
    stored as ``k`` (1-based).
    """

    id: str
    question: str
    options: tuple[str, ...]
    open_when: tuple[str, ...]
    codes: tuple[int | str, ...] | None = None
    translations: Translations = field(default_factory=dict)

    def is_open(self, answer: object) -> bool:
        """Return True when ``answer`` (an option id) opens the gate."""
        return answer in self.open_when

    def option_code(self, option: str) -> int | str:
        """The stored code of an option (its ``codes`` entry, else its 1-based position)."""
        pos = self.options.index(option)
        return self.codes[pos] if self.codes is not None else pos + 1


@dataclass(frozen=True)
class Construct:
    """A construct (facet) of the instrument and the items that measure it."""

    id: str
    label: str
    kind: str
    items: tuple[Item, ...]
    question: str | None = None
    scale: str | None = None
    gate: Gate | None = None
    description: str | None = None
    translations: Translations = field(default_factory=dict)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(i.id for i in self.items)

    def item_code(self, item_id: str) -> int | str:
        """The stored code of an item (its ``code``, else its 1-based position)."""
        for pos, it in enumerate(self.items, start=1):
            if it.id == item_id:
                return it.code if it.code is not None else pos
        raise KeyError(item_id)


@dataclass(frozen=True)
class Source:
    """Where the instrument comes from: a citation, a URL and a free note."""

    citation: str | None = None
    url: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class DerivedFrom:
    """The instrument version this one was revised from."""

    id: str
    version: str


@dataclass(frozen=True)
class ChangeEntry:
    """One changelog line: what a version did to an item, and why."""

    version: str
    action: str
    reason: str
    item: str | None = None
    evidence: str | None = None
    step: str | None = None
    language: str | None = None
    by: str | None = None
    date: str | None = None


@dataclass(frozen=True)
class Instrument:
    """One version of a questionnaire instrument.

    Build it with :func:`instrval.read_instrument` (from a file) or
    :meth:`Instrument.from_dict` (from checked data); both check the definition first.

    Examples
    --------
    >>> from instrval.model.instrument import Instrument
    >>> inst = Instrument.from_dict({
    ...     "format_version": "1.0", "id": "demo", "version": "1", "title": "Demo",
    ...     "constructs": [{"id": "impact", "label": "Impact", "kind": "multi_select",
    ...                     "items": [{"id": "learned", "label": "Learned something"}]}]})
    >>> inst.item_ids
    ('learned',)
    """

    id: str
    version: str
    title: str
    constructs: tuple[Construct, ...]
    status: str = "draft"
    format_version: str = FORMAT_VERSION
    description: str | None = None
    language: str | None = None
    source: Source | None = None
    license: str | None = None
    derived_from: DerivedFrom | None = None
    changelog: tuple[ChangeEntry, ...] = ()
    scales: Mapping[str, Scale] = field(default_factory=dict)
    provenance: Mapping[str, Any] | None = None
    translations: Translations = field(default_factory=dict)

    # ------------------------------------------------------------------ lookups
    @property
    def items(self) -> tuple[Item, ...]:
        """All items, construct by construct, in file order."""
        return tuple(it for c in self.constructs for it in c.items)

    @property
    def item_ids(self) -> tuple[str, ...]:
        return tuple(it.id for it in self.items)

    @property
    def construct_ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.constructs)

    @property
    def gates(self) -> tuple[Gate, ...]:
        return tuple(c.gate for c in self.constructs if c.gate is not None)

    @property
    def label(self) -> str:
        """``id@version``, how instrval names an instrument version."""
        return f"{self.id}@{self.version}"

    def iter_items(self) -> Iterator[tuple[Construct, Item]]:
        """Yield ``(construct, item)`` pairs in file order."""
        for c in self.constructs:
            for it in c.items:
                yield c, it

    def item(self, item_id: str) -> Item:
        """Return the item with this id; ``KeyError`` naming the known ids otherwise."""
        for it in self.items:
            if it.id == item_id:
                return it
        raise KeyError(f"unknown item {item_id!r} in {self.label}")

    def construct(self, construct_id: str) -> Construct:
        """Return the construct with this id."""
        for c in self.constructs:
            if c.id == construct_id:
                return c
        raise KeyError(f"unknown construct {construct_id!r} in {self.label}")

    def find_construct(self, construct_id: str) -> Construct:
        """Return the construct with this id; an unknown id raises
        :class:`~instrval.errors.StatisticsError` listing the instrument's constructs."""
        from instrval.errors import StatisticsError

        try:
            return self.construct(construct_id)
        except KeyError:
            raise StatisticsError(
                f"unknown construct {construct_id!r}; the instrument has: "
                f"{', '.join(self.construct_ids)}") from None

    def construct_of(self, item_id: str) -> Construct:
        """Return the construct an item belongs to."""
        for c in self.constructs:
            if item_id in c.item_ids:
                return c
        raise KeyError(f"unknown item {item_id!r} in {self.label}")

    def scale_of(self, construct: Construct | str) -> Scale | None:
        """Return the scale of a Likert construct (None for other kinds)."""
        c = self.construct(construct) if isinstance(construct, str) else construct
        return self.scales.get(c.scale) if c.scale else None

    def gate(self, gate_id: str) -> Gate:
        """Return the gate with this id."""
        for g in self.gates:
            if g.id == gate_id:
                return g
        raise KeyError(f"unknown gate {gate_id!r} in {self.label}")

    def allowed_values(self, item_id: str) -> tuple[int, ...]:
        """The codes an item's column may hold: 0/1 for boxes and binary items, the
        scale's range for Likert items. Single-choice levels are stored per construct."""
        c = self.construct_of(item_id)
        if c.kind == "likert":
            sc = self.scale_of(c)
            assert sc is not None  # guaranteed by validation
            return sc.values
        return (0, 1)

    def reverse_keyed(self) -> tuple[str, ...]:
        """Ids of the reverse-keyed items."""
        return tuple(it.id for it in self.items if it.reverse)

    def counts(self) -> dict[str, int]:
        """Numbers of constructs, items and gates."""
        return {
            "constructs": len(self.constructs),
            "items": len(self.items),
            "gates": len(self.gates),
        }

    def required_format_version(self) -> str:
        """The oldest file format that can hold this instrument: ``"1.1"`` when an item
        has a text code, a gate has ``codes``, a text is translated or the changelog
        records an adaptation, else ``"1.0"``."""
        if any(isinstance(it.code, str) for it in self.items) or any(
                g.codes is not None for g in self.gates) or len(self.languages) > 1 \
                or any(e.action == "adapted" for e in self.changelog):
            return "1.1"
        return "1.0"

    # ------------------------------------------------------------ translations
    def _translated(self) -> Iterator[Any]:
        yield self
        yield from self.scales.values()
        for c in self.constructs:
            yield c
            if c.gate is not None:
                yield c.gate
            yield from c.items

    @property
    def languages(self) -> tuple[str, ...]:
        """The languages of the wording: the default ``language`` first, then the others
        found in translations, sorted."""
        langs: set[str] = set()
        for obj in self._translated():
            for tr in obj.translations.values():
                langs.update(tr)
        first = (self.language,) if self.language else ()
        return first + tuple(sorted(langs - set(first)))

    def in_language(self, language: str) -> Instrument:
        """This instrument with ``language`` as its default: every translated text is
        shown in that language (texts without a translation keep the default wording).
        The translations themselves are kept, so ``in_language`` can be applied again.

        Raises
        ------
        KeyError
            When no text is in ``language``.
        """
        if language == self.language:
            return self
        if language not in self.languages:
            raise KeyError(f"{self.label} has no text in language {language!r} (languages: "
                           f"{', '.join(self.languages) or 'none'})")

        def tr(obj: Any, **fields: Any) -> dict[str, Any]:
            out = {}
            for f, cur in fields.items():
                t = obj.translations.get(f, {})
                out[f] = t.get(language, cur) if cur is not None else None
            return out

        scales = {sid: replace(sc, labels={k: sc.translations.get(k, {}).get(language, v)
                                           for k, v in sc.labels.items()})
                  for sid, sc in self.scales.items()}
        constructs = []
        for c in self.constructs:
            gate = None if c.gate is None else replace(c.gate, **tr(c.gate,
                                                                    question=c.gate.question))
            items = tuple(replace(it, **tr(it, label=it.label, text=it.text))
                          for it in c.items)
            constructs.append(replace(c, gate=gate, items=items,
                                      **tr(c, label=c.label, question=c.question,
                                           description=c.description)))
        return replace(self, language=language, scales=scales, constructs=tuple(constructs),
                       **tr(self, title=self.title, description=self.description))

    def without_translations(self) -> Instrument:
        """This instrument in its default language only (translations dropped)."""
        def plain(obj: Any) -> Any:
            return replace(obj, translations={})

        constructs = tuple(replace(c, translations={},
                                   gate=None if c.gate is None else plain(c.gate),
                                   items=tuple(plain(it) for it in c.items))
                           for c in self.constructs)
        return replace(self, translations={}, constructs=constructs,
                       scales={k: plain(v) for k, v in self.scales.items()})

    def replace(self, **changes: Any) -> Instrument:
        """Return a copy with some fields changed (instruments are immutable)."""
        return replace(self, **changes)

    # ------------------------------------------------------------- conversion
    def to_dict(self) -> dict[str, Any]:
        """Return the instrument as the plain data of an instrument file.

        Keys come in a fixed order and optional keys that are empty are left out, so
        that writing an instrument gives a stable, readable file.
        """
        d: dict[str, Any] = {
            "format_version": self.format_version,
            "id": self.id,
            "version": self.version,
            "title": _text_out(self, "title", self.title),
            "status": self.status,
        }
        if self.description is not None:
            d["description"] = _text_out(self, "description", self.description)
        if self.language is not None:
            d["language"] = self.language
        if self.source is not None:
            d["source"] = _drop_none(
                {"citation": self.source.citation, "url": self.source.url,
                 "note": self.source.note}
            )
        if self.license is not None:
            d["license"] = self.license
        if self.derived_from is not None:
            d["derived_from"] = {"id": self.derived_from.id,
                                 "version": self.derived_from.version}
        if self.scales:
            d["scales"] = {
                sid: _drop_none({"min": s.min, "max": s.max,
                                 "labels": {k: dict(s.translations[k]) if k in s.translations
                                            else v for k, v in s.labels.items()} or None})
                for sid, s in self.scales.items()
            }
        d["constructs"] = [_construct_to_dict(c) for c in self.constructs]
        if self.changelog:
            d["changelog"] = [
                _drop_none({"version": e.version, "item": e.item, "action": e.action,
                            "step": e.step, "language": e.language, "by": e.by,
                            "date": e.date, "reason": e.reason, "evidence": e.evidence})
                for e in self.changelog
            ]
        if self.provenance:
            d["provenance"] = _plain(self.provenance)
        return d

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], *, file: str | None = None) -> Instrument:
        """Check ``data`` (the content of an instrument file) and build the instrument.

        Raises
        ------
        InstrumentError
            Listing every problem found, when the data is not a valid instrument.
        """
        from instrval.model.checks import check_instrument_data

        check_instrument_data(data, file=file, raise_on_error=True)
        return _build(data)


# ---------------------------------------------------------------------- helpers
def _drop_none(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v is not None}


def _plain(obj: Any) -> Any:
    if isinstance(obj, Mapping):
        return {str(k): _plain(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(v) for v in obj]
    return obj


def _text_out(obj: Any, name: str, value: str) -> Any:
    """A text as written: plain, or ``{language: text}`` when it is translated."""
    tr = obj.translations.get(name)
    return dict(tr) if tr else value


def _construct_to_dict(c: Construct) -> dict[str, Any]:
    d: dict[str, Any] = {"id": c.id, "label": _text_out(c, "label", c.label)}
    if c.question is not None:
        d["question"] = _text_out(c, "question", c.question)
    if c.description is not None:
        d["description"] = _text_out(c, "description", c.description)
    d["kind"] = c.kind
    if c.scale is not None:
        d["scale"] = c.scale
    if c.gate is not None:
        g = c.gate
        d["gate"] = {
            "id": g.id,
            "question": _text_out(g, "question", g.question),
            "options": list(g.options),
            "open_when": g.open_when[0] if len(g.open_when) == 1 else list(g.open_when),
        }
        if g.codes is not None:
            d["gate"]["codes"] = list(g.codes)
    items = []
    for it in c.items:
        di: dict[str, Any] = {"id": it.id, "label": _text_out(it, "label", it.label)}
        if it.text is not None:
            di["text"] = _text_out(it, "text", it.text)
        if it.reverse:
            di["reverse"] = True
        if it.code is not None:
            di["code"] = it.code
        items.append(di)
    d["items"] = items
    return d


def _code(value: Any) -> int | str:
    """A stored code as checked: whole numbers stay numbers, anything else is text."""
    return value if isinstance(value, int) and not isinstance(value, bool) else str(value)


def _split(value: Any, lang: str | None) -> tuple[str | None, dict[str, str] | None]:
    """A checked text: plain -> (text, None); ``{language: text}`` -> (the default
    language's text, the mapping)."""
    if value is None:
        return None, None
    if isinstance(value, Mapping):
        tr = {str(k): str(v) for k, v in value.items()}
        default = tr.get(lang) if lang else None
        return (default if default is not None else next(iter(tr.values()))), tr
    return str(value), None


def _texts(obj: Mapping[str, Any], lang: str | None, *names: str
           ) -> tuple[dict[str, Any], dict[str, dict[str, str]]]:
    plain: dict[str, Any] = {}
    trans: dict[str, dict[str, str]] = {}
    for n in names:
        text, tr = _split(obj.get(n), lang)
        plain[n] = text
        if tr:
            trans[n] = tr
    return plain, trans


def _build(data: Mapping[str, Any]) -> Instrument:
    """Build an Instrument from data that passed :func:`check_instrument_data`."""
    lang = data.get("language")
    scales = {}
    for sid, s in (data.get("scales") or {}).items():
        labels, ltr = {}, {}
        for k, v in (s.get("labels") or {}).items():
            text, tr = _split(v, lang)
            assert text is not None  # the checks require every label to be text
            labels[int(k)] = text
            if tr:
                ltr[int(k)] = tr
        scales[str(sid)] = Scale(id=str(sid), min=int(s["min"]), max=int(s["max"]),
                                 labels=labels, translations=ltr)
    constructs = []
    for c in data["constructs"]:
        gate = None
        if c.get("gate"):
            g = c["gate"]
            ow = g["open_when"]
            gq, gtr = _texts(g, lang, "question")
            gate = Gate(
                id=str(g["id"]),
                question=str(gq["question"]),
                translations=gtr,
                options=tuple(str(o) for o in g["options"]),
                open_when=(str(ow),) if isinstance(ow, str) else tuple(str(o) for o in ow),
                codes=None if g.get("codes") is None else tuple(_code(k) for k in g["codes"]),
            )
        items = []
        for i in c["items"]:
            it_txt, it_tr = _texts(i, lang, "label", "text")
            items.append(Item(
                id=str(i["id"]),
                label=str(it_txt["label"]),
                text=it_txt["text"],
                reverse=bool(i.get("reverse", False)),
                code=None if i.get("code") is None else _code(i["code"]),
                translations=it_tr,
            ))
        c_txt, c_tr = _texts(c, lang, "label", "question", "description")
        constructs.append(
            Construct(
                id=str(c["id"]),
                label=str(c_txt["label"]),
                kind=str(c["kind"]),
                items=tuple(items),
                question=c_txt["question"],
                scale=None if c.get("scale") is None else str(c["scale"]),
                gate=gate,
                description=c_txt["description"],
                translations=c_tr,
            )
        )
    src = data.get("source")
    df = data.get("derived_from")
    top, top_tr = _texts(data, lang, "title", "description")
    return Instrument(
        format_version=str(data["format_version"]),
        id=str(data["id"]),
        version=str(data["version"]),
        title=str(top["title"]),
        status=str(data.get("status", "draft")),
        description=top["description"],
        translations=top_tr,
        language=data.get("language"),
        source=Source(citation=src.get("citation"), url=src.get("url"), note=src.get("note"))
        if src
        else None,
        license=data.get("license"),
        derived_from=DerivedFrom(id=str(df["id"]), version=str(df["version"])) if df else None,
        changelog=tuple(
            ChangeEntry(
                version=str(e["version"]),
                action=str(e["action"]),
                reason=str(e["reason"]),
                item=None if e.get("item") is None else str(e["item"]),
                evidence=None if e.get("evidence") is None else str(e["evidence"]),
                step=None if e.get("step") is None else str(e["step"]),
                language=None if e.get("language") is None else str(e["language"]),
                by=None if e.get("by") is None else str(e["by"]),
                date=None if e.get("date") is None else str(e["date"]),
            )
            for e in (data.get("changelog") or [])
        ),
        scales=scales,
        constructs=tuple(constructs),
        provenance=data.get("provenance"),
    )

"""Study files: one YAML file naming everything ``instrval report`` needs.

A study file names the instrument, the rating export (with its column mapping), the
coding table and codebook, an optional expert panel, the decision rules, the expert
decisions, a seed and the output folder. Relative paths resolve against the folder of the
study file. The file has its own ``format_version`` (:data:`STUDY_FORMAT_VERSION`).

Example (``examples/iam/study.yaml``)::

    format_version: "1.0"
    title: Content validation of the IAM (physician version), 2012 ratings
    authors: [instrval example]
    instrument: ../../instruments/iam/iam-2011.yaml
    ratings:
      file: data/iam-ratings-2012.csv.gz
      generate_if_missing: iam      # generate the seeded example export when absent
    coding: coding/segments.csv
    codebook: coding/codebook.yaml
    decisions: expert_decisions.csv
    rules: {relevance_min: 0.10}
    seed: 2012
    timestamp: "2014-06-30T12:00:00+00:00"
    revision: {version: "2014", status: draft}
    analyses: {reliability: auto, efa: auto, cfa: auto}
    output: report

The other COSMIN measurement properties come from optional keys (``examples/stai6``)::

    scoring: {method: mean, impute: none, min_items: 0.5}   # scale scores (score_items)
    retest:                      # reliability and measurement error
      file: data/stai-repeated.csv
      id: respondent_id
      time: time
      where: {design: control}   # the respondents known to be stable
      mic: half_sd               # minimal important change: a number or half_sd
    hypotheses: hypotheses.yaml  # construct validity, on the ratings' other columns
    criterion:                   # criterion validity: a column of the ratings file
      - {column: stai20}
      - {column: stai20_ge40, positive: 1}
    responsiveness:              # change scores and an anchor of change
      file: data/stai-repeated.csv
      id: respondent_id
      time: time
      where: {design: film}
      hypotheses: responsiveness.yaml

Comparisons between groups and item response theory (columns of the ratings file)::

    dif: {group: gender, method: ordinal, purify: false, levels: [male, female]}
    invariance: {group: gender, estimator: ml}
    irt: {model: grm}            # default: rasch for binary, grm for Likert scales

Every problem (unknown keys with a did-you-mean hint, values of the wrong type, files that
do not exist) is collected into one :class:`~instrval.errors.StudyError` naming the file,
the key and its line.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from instrval.errors import Problem, StudyError
from instrval.model.rules import DecisionRules

__all__ = [
    "STUDY_FORMAT_VERSION",
    "STUDY_KEYS",
    "Study",
    "RatingsSpec",
    "Analyses",
    "ScoringSpec",
    "RepeatedSpec",
    "CriterionSpec",
    "DIFSpec",
    "IRTSpec",
    "InvarianceSpec",
    "read_study",
    "study_from_mapping",
]

#: The study-file format this version of instrval reads and writes.
STUDY_FORMAT_VERSION = "1.0"

#: Allowed keys, per mapping of the study file.
STUDY_KEYS: dict[str, tuple[str, ...]] = {
    "study": (
        "format_version", "title", "authors", "description", "instrument", "ratings",
        "coding", "codebook", "panel", "decisions", "rules", "seed", "timestamp",
        "revision", "analyses", "pinned_quotes", "output", "scoring", "retest",
        "hypotheses", "criterion", "responsiveness", "dif", "irt", "invariance",
    ),
    "dif": ("group", "method", "purify", "levels", "alpha"),
    "irt": ("model",),
    "invariance": ("group", "estimator"),
    "scoring": ("method", "impute", "min_items"),
    "retest": ("file", "id", "time", "where", "times", "mic"),
    "responsiveness": ("file", "id", "time", "where", "times", "hypotheses"),
    "criterion": ("column", "scale", "kind", "positive"),
    "ratings": ("file", "format", "mapping", "dictionary", "strict", "generate_if_missing",
                "generate_seed"),
    "coding": ("file", "format"),
    "revision": ("version", "status"),
    "analyses": ("descriptives", "relevance", "reliability", "efa", "cfa", "n_boot",
                 "parallel_iter"),
}

_AUTO_OFF = ("auto", "off")
#: Values of ``irt.model`` (``auto``: Rasch for binary scales, graded response for Likert).
IRT_MODEL_CHOICES = ("auto", "rasch", "pcm", "rsm", "2pl", "grm")
#: Values of ``invariance.estimator``.
INVARIANCE_ESTIMATORS = ("ml", "mlr", "wlsmv")
_GENERATORS = ("iam",)
_STATUSES = ("draft", "validated", "retired")


@dataclass(frozen=True)
class RatingsSpec:
    """Where the ratings come from.

    ``generate_if_missing="iam"`` generates the seeded IAM example export into ``file``
    when that file does not exist (see :func:`instrval.datasets.iam.generate_iam_ratings`).
    """

    file: Path | str  # a path, or an fsspec URL (s3://bucket/exports/), kept as text
    format: str | None = None
    mapping: Any = None
    dictionary: Path | None = None
    strict: bool = False
    generate_if_missing: str | None = None
    generate_seed: int | None = None


@dataclass(frozen=True)
class Analyses:
    """Which analyses run. ``auto`` runs an analysis when the data allow it.

    ``efa``: ``"auto"`` (one factor per Likert construct), ``"off"``, or a number of
    factors. ``n_boot``: bootstrap replicates of the cluster interval of the relevance
    ratio. ``parallel_iter``: simulated data sets in the parallel analysis.
    """

    descriptives: str = "auto"
    relevance: str = "auto"
    reliability: str = "auto"
    efa: str | int = "auto"
    cfa: str = "auto"
    n_boot: int = 1000
    parallel_iter: int = 20

    def to_dict(self) -> dict[str, Any]:
        return {"descriptives": self.descriptives, "relevance": self.relevance,
                "reliability": self.reliability, "efa": self.efa, "cfa": self.cfa,
                "n_boot": self.n_boot, "parallel_iter": self.parallel_iter}


@dataclass(frozen=True)
class ScoringSpec:
    """How scale scores are computed (:func:`~instrval.stats.scoring.score_items`)."""

    method: str = "mean"
    impute: str = "none"
    min_items: float = 0.5

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "impute": self.impute, "min_items": self.min_items}


@dataclass(frozen=True)
class RepeatedSpec:
    """A long table of repeated administrations: ``file``, the ``id`` and ``time``
    columns, the rows kept (``where``: column -> value or list), the two occasions
    (``times``), the MIC (retest) or a hypotheses file (responsiveness)."""

    file: Path
    id: str
    time: str
    where: Mapping[str, Any] | None = None
    times: tuple[Any, ...] | None = None
    mic: Any = None
    hypotheses: Path | None = None


@dataclass(frozen=True)
class CriterionSpec:
    """A gold standard: a ``column`` of the ratings file, the ``scale`` it judges
    (default: the only scored construct), ``kind`` (auto, continuous, dichotomous) and
    the ``positive`` value of a dichotomous criterion."""

    column: str
    scale: str | None = None
    kind: str = "auto"
    positive: Any = None


@dataclass(frozen=True)
class DIFSpec:
    """Differential item functioning (:func:`~instrval.stats.dif.dif`) between two groups:
    the ratings column ``group``, the ``method`` (``ordinal`` or ``mh``), ``purify``, the
    two ``levels`` compared (reference, focal) and the flags' ``alpha`` (default: the
    method's)."""

    group: str
    method: str = "ordinal"
    purify: bool = False
    levels: tuple[Any, Any] | None = None
    alpha: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "method": self.method, "purify": self.purify,
                "levels": list(self.levels) if self.levels else None, "alpha": self.alpha}


@dataclass(frozen=True)
class IRTSpec:
    """The item response model fitted to each scale: ``auto`` (Rasch for binary scales,
    the graded response model for Likert scales) or one of ``rasch``, ``pcm``, ``rsm``,
    ``2pl``, ``grm``."""

    model: str = "auto"

    def to_dict(self) -> dict[str, Any]:
        return {"model": self.model}


@dataclass(frozen=True)
class InvarianceSpec:
    """Multi-group measurement invariance across the groups of the ratings column
    ``group``, by ``estimator`` (``ml``, ``mlr`` or ``wlsmv`` for ordered items)."""

    group: str
    estimator: str = "ml"

    def to_dict(self) -> dict[str, Any]:
        return {"group": self.group, "estimator": self.estimator}


@dataclass(frozen=True)
class Study:
    """Everything one validation report needs (paths are absolute).

    Build it with :func:`read_study` (from a file) or :func:`study_from_mapping` (from
    options, e.g. command-line flags); change it with :meth:`replace`.
    """

    instrument: Path
    ratings: RatingsSpec | None = None
    coding: Path | None = None
    coding_format: str | None = None
    codebook: Path | None = None
    panel: Path | None = None
    decisions: Path | None = None
    rules: DecisionRules = field(default_factory=DecisionRules)
    seed: int = 0
    timestamp: str | None = None
    title: str | None = None
    authors: tuple[str, ...] = ()
    description: str | None = None
    revision_version: str | None = None
    revision_status: str = "draft"
    analyses: Analyses = field(default_factory=Analyses)
    pinned_quotes: tuple[str, ...] = ()
    output: Path | None = None
    scoring: ScoringSpec = field(default_factory=ScoringSpec)
    retest: RepeatedSpec | None = None
    hypotheses: Path | None = None
    criterion: tuple[CriterionSpec, ...] = ()
    responsiveness: RepeatedSpec | None = None
    dif: DIFSpec | None = None
    irt: IRTSpec | None = None
    invariance: InvarianceSpec | None = None
    file: Path | None = None
    base_dir: Path = field(default_factory=Path.cwd)
    format_version: str = STUDY_FORMAT_VERSION

    def replace(self, **changes: Any) -> Study:
        """Return a copy with some fields changed."""
        return replace(self, **changes)

    def with_overrides(self, *, instrument: str | os.PathLike[str] | None = None,
                       ratings: str | os.PathLike[str] | None = None,
                       mapping: str | os.PathLike[str] | None = None,
                       coding: str | os.PathLike[str] | None = None,
                       codebook: str | os.PathLike[str] | None = None,
                       panel: str | os.PathLike[str] | None = None,
                       decisions: str | os.PathLike[str] | None = None,
                       output: str | os.PathLike[str] | None = None,
                       seed: int | None = None, threshold: float | None = None,
                       version_label: str | None = None, timestamp: str | None = None,
                       base_dir: str | os.PathLike[str] | None = None) -> Study:
        """Return a copy with inputs and options overridden (what ``instrval report``'s
        options do to a study file).

        Parameters
        ----------
        instrument, coding, codebook, panel, decisions : path-like, optional
            Replace the study's file; it must exist.
        ratings : path-like or URL, optional
            Replace the rating export's file, keeping its format, dictionary and checks
            (a new export when the study has none); a file must exist unless the study
            generates missing ratings (a URL, ``s3://...``, is kept as given).
        mapping : path-like, optional
            Replace the column mapping of the ratings (the study's, or ``ratings``).
        output : path-like, optional
            The output folder.
        seed : int, optional
            The seed of every random step.
        threshold : float, optional
            The relevance cut-off (``rules.relevance_min``), checked as the rules are.
        version_label : str, optional
            The version label of the revised instrument (letters, digits and ``. _ + -``,
            at most 64 characters: it names the revised file).
        timestamp : str, optional
            The report time, ISO 8601 (see :func:`normalise_timestamp`).
        base_dir : path-like, optional
            The folder relative paths are read from (default: the working directory).

        Returns
        -------
        Study
            The study itself when nothing is overridden.

        Raises
        ------
        StudyError
            A file that does not exist, ``mapping`` without ratings, a bad threshold,
            version label or timestamp; messages name the override as the command line
            does (``--ratings``, ``--threshold`` ...).

        Examples
        --------
        >>> s = read_study("examples/iam/study.yaml")
        >>> s.with_overrides(seed=7, output="out").seed
        7
        """
        cwd = Path.cwd() if base_dir is None else Path(base_dir)

        def here(p: str | os.PathLike[str]) -> Path:
            path = Path(p)
            return path if path.is_absolute() else (cwd / path)

        changes: dict[str, Any] = {}
        for name, value in (("instrument", instrument), ("coding", coding),
                            ("codebook", codebook), ("panel", panel),
                            ("decisions", decisions)):
            if value is not None:
                if not here(value).exists():
                    raise StudyError(f"--{name}: file not found: {value}")
                changes[name] = here(value)
        if ratings is not None or mapping is not None:
            if ratings is None and self.ratings is None:
                raise StudyError("--mapping needs ratings (--ratings or the study's ratings)")
            from instrval.io.files import is_url

            given: Path | str | None = (
                None if ratings is None
                else os.fspath(ratings) if is_url(os.fspath(ratings)) else here(ratings))
            base = self.ratings or RatingsSpec(file=given)  # type: ignore[arg-type]
            rfile = given if given is not None else base.file
            if not is_url(rfile) and not Path(rfile).exists() and not base.generate_if_missing:
                raise StudyError(f"--ratings: file not found: {ratings}")
            changes["ratings"] = RatingsSpec(
                file=rfile, format=base.format,
                mapping=here(mapping) if mapping is not None else base.mapping,
                dictionary=base.dictionary, strict=base.strict,
                generate_if_missing=base.generate_if_missing,
                generate_seed=base.generate_seed)
        if seed is not None:
            changes["seed"] = seed
        if threshold is not None:
            changes["rules"] = DecisionRules.from_mapping(
                {**self.rules.to_dict(), "relevance_min": threshold}, key="--threshold")
        if version_label is not None:
            from instrval.model.checks import VERSION_PATTERN

            if not VERSION_PATTERN.match(version_label):
                raise StudyError(
                    f"--version-label {version_label!r} is not a safe version label: use "
                    "letters, digits and . _ + - only, starting with a letter or digit, at "
                    "most 64 characters (it names the revised file)")
            changes["revision_version"] = version_label
        if timestamp is not None:
            try:
                changes["timestamp"] = normalise_timestamp(timestamp)
            except ValueError as exc:
                raise StudyError(f"--timestamp must be ISO 8601 (2014-06-30T12:00:00Z) "
                                 f"between 1980 and 2107, got {timestamp!r} ({exc})") from None
        if output is not None:
            changes["output"] = here(output)
        return self.replace(**changes) if changes else self

    def display_path(self, path: Path | str | None) -> str | None:
        """A path as shown in reports: relative to the study folder when inside it
        (so that reports do not depend on where the repository was cloned); a URL as
        given."""
        from instrval.io.files import is_url

        if path is None:
            return None
        if is_url(path):
            return str(path)
        try:
            return Path(os.path.relpath(path, self.base_dir)).as_posix()
        except ValueError:  # another drive on Windows
            return Path(path).as_posix()

    def input_files(self) -> dict[str, Path | str]:
        """The input files by role (``instrument``, ``ratings``, ...), those that are set
        (the ratings may be a URL, as text)."""
        out: dict[str, Path | str] = {"instrument": self.instrument}
        if self.ratings is not None:
            out["ratings"] = self.ratings.file
            if isinstance(self.ratings.mapping, Path):
                out["ratings_mapping"] = self.ratings.mapping
            if self.ratings.dictionary is not None:
                out["ratings_dictionary"] = self.ratings.dictionary
        for role in ("coding", "codebook", "panel", "decisions", "hypotheses"):
            p = getattr(self, role)
            if p is not None:
                out[role] = p
        if self.retest is not None:
            out["retest"] = self.retest.file
        if self.responsiveness is not None:
            out["responsiveness"] = self.responsiveness.file
            if self.responsiveness.hypotheses is not None:
                out["responsiveness_hypotheses"] = self.responsiveness.hypotheses
        if self.file is not None:
            out["study"] = self.file
        return out

    def to_dict(self) -> dict[str, Any]:
        """The study as plain data (paths as shown in reports)."""
        r = self.ratings
        return {
            "format_version": self.format_version,
            "title": self.title,
            "authors": list(self.authors),
            "file": self.display_path(self.file),
            "instrument": self.display_path(self.instrument),
            "ratings": None if r is None else {
                "file": self.display_path(r.file), "format": r.format,
                "mapping": self.display_path(r.mapping) if isinstance(r.mapping, Path)
                else r.mapping,
                "dictionary": self.display_path(r.dictionary), "strict": r.strict,
                "generate_if_missing": r.generate_if_missing,
                "generate_seed": r.generate_seed},
            "coding": self.display_path(self.coding),
            "codebook": self.display_path(self.codebook),
            "panel": self.display_path(self.panel),
            "decisions": self.display_path(self.decisions),
            "seed": self.seed,
            "timestamp": self.timestamp,
            "revision": {"version": self.revision_version, "status": self.revision_status},
            "analyses": self.analyses.to_dict(),
            "rules": self.rules.to_dict(),
            **self._cosmin_dict(),
        }

    def _cosmin_dict(self) -> dict[str, Any]:
        """The keys of the other measurement properties, when set."""
        out: dict[str, Any] = {}
        if (self.retest or self.hypotheses or self.criterion or self.responsiveness):
            out["scoring"] = self.scoring.to_dict()
        for key in ("retest", "responsiveness"):
            spec = getattr(self, key)
            if spec is not None:
                d = {"file": self.display_path(spec.file), "id": spec.id, "time": spec.time,
                     "where": dict(spec.where) if spec.where else None,
                     "times": list(spec.times) if spec.times else None}
                if key == "retest":
                    d["mic"] = spec.mic
                else:
                    d["hypotheses"] = self.display_path(spec.hypotheses)
                out[key] = d
        if self.hypotheses is not None:
            out["hypotheses"] = self.display_path(self.hypotheses)
        if self.criterion:
            out["criterion"] = [{"column": c.column, "scale": c.scale, "kind": c.kind,
                                 "positive": c.positive} for c in self.criterion]
        for key in ("dif", "irt", "invariance"):
            spec = getattr(self, key)
            if spec is not None:
                out[key] = spec.to_dict()
        return out


# ---------------------------------------------------------------------- reading
def read_study(path: str | os.PathLike[str]) -> Study:
    """Read and check a study file.

    Parameters
    ----------
    path : path-like
        A YAML (or JSON) study file. Relative paths in it resolve against its folder.

    Returns
    -------
    Study

    Raises
    ------
    StudyError
        Listing every problem: unknown keys (with a did-you-mean hint), wrong types,
        input files that do not exist; each names the file, the key and the line.

    Examples
    --------
    >>> from instrval.io.study import read_study
    >>> study = read_study("examples/iam/study.yaml")  # doctest: +SKIP
    >>> study.rules.relevance_min  # doctest: +SKIP
    0.1
    """
    from instrval.io.yamlfile import load_document

    p = Path(path)
    doc = load_document(p, error=StudyError, what="study file")
    return study_from_mapping(doc.data, base_dir=p.resolve().parent, file=p.resolve(),
                              lines=doc.lines, display_file=str(path))


def study_from_mapping(data: Mapping[str, Any], *, base_dir: str | os.PathLike[str] | None = None,
                       file: Path | None = None, lines: Mapping[str, int] | None = None,
                       display_file: str | None = None, check_files: bool = True) -> Study:
    """Build a :class:`Study` from plain data (a study file's content, or options).

    Parameters
    ----------
    data : mapping
        The keys of a study file (see the module docstring).
    base_dir : path-like, optional
        Folder relative paths resolve against (default: the current folder).
    check_files : bool
        Check that named input files exist.
    """
    c = _Checker(display_file or (str(file) if file else None), lines or {},
                 Path(base_dir) if base_dir is not None else Path.cwd())
    if not isinstance(data, Mapping):
        c.add("", "not_mapping", "a study file must be a mapping of keys to values")
        raise StudyError.from_problems(c.problems, c.file or "study")
    c.keys(data, "", "study")
    fv = data.get("format_version", STUDY_FORMAT_VERSION)
    if str(fv) != STUDY_FORMAT_VERSION:
        c.add("format_version", "unsupported_format_version",
              f"study format_version {fv!r} is not supported; this instrval reads "
              f"{STUDY_FORMAT_VERSION!r}", fv)

    instrument = c.path(data.get("instrument"), "instrument", required=True,
                        check=check_files)
    ratings = c.ratings(data.get("ratings"), check=check_files)
    coding, coding_format = None, None
    raw_coding = data.get("coding")
    if isinstance(raw_coding, Mapping):
        c.keys(raw_coding, "coding", "coding")
        coding = c.path(raw_coding.get("file"), "coding.file", required=True,
                        check=check_files)
        coding_format = c.string(raw_coding.get("format"), "coding.format")
    else:
        coding = c.path(raw_coding, "coding", check=check_files)
    codebook = c.path(data.get("codebook"), "codebook", check=check_files)
    panel = c.path(data.get("panel"), "panel", check=check_files)
    decisions = c.path(data.get("decisions"), "decisions", check=check_files)
    output = c.path(data.get("output"), "output", check=False)

    rules = DecisionRules()
    if data.get("rules") is not None:
        if not isinstance(data["rules"], Mapping):
            c.add("rules", "wrong_type", "rules must be a mapping of rule names to numbers",
                  data["rules"])
        else:
            try:
                rules = DecisionRules.from_mapping(data["rules"], file=c.file)
            except StudyError as exc:
                for pr in exc.problems:
                    c.problems.append(replace(pr, line=c.line(pr.key or "rules"),
                                              message=_hint(pr, _rule_names())))
    seed = c.integer(data.get("seed", 0), "seed")
    timestamp = c.timestamp(data.get("timestamp"), "timestamp")
    title = c.string(data.get("title"), "title")
    description = c.string(data.get("description"), "description")
    authors = c.authors(data.get("authors"))
    rev_version, rev_status = None, "draft"
    rev = data.get("revision")
    if rev is not None:
        if not isinstance(rev, Mapping):
            c.add("revision", "wrong_type", "revision must be a mapping with version and status",
                  rev)
        else:
            c.keys(rev, "revision", "revision")
            if rev.get("version") is not None:
                rev_version = str(rev["version"]).strip() or None
            st = rev.get("status", "draft")
            if st not in _STATUSES:
                c.add("revision.status", "invalid_value",
                      f"revision.status must be one of {', '.join(_STATUSES)}; got {st!r}", st)
            else:
                rev_status = st
    analyses = c.analyses(data.get("analyses"))
    pinned = c.pinned(data.get("pinned_quotes"))
    scoring = c.scoring(data.get("scoring"))
    retest = c.repeated(data.get("retest"), "retest", check=check_files)
    responsiveness = c.repeated(data.get("responsiveness"), "responsiveness",
                                check=check_files)
    hypotheses = c.path(data.get("hypotheses"), "hypotheses", check=check_files)
    criterion = c.criterion(data.get("criterion"))
    dif = c.dif(data.get("dif"))
    irt = c.irt(data.get("irt"))
    invariance = c.invariance(data.get("invariance"))
    if c.problems:
        raise StudyError.from_problems(c.problems, c.file or "study")
    assert instrument is not None  # required=True: a missing path is a problem above
    return Study(
        instrument=instrument, ratings=ratings, coding=coding, coding_format=coding_format,
        codebook=codebook, panel=panel, decisions=decisions, rules=rules,
        seed=seed if seed is not None else 0, timestamp=timestamp, title=title,
        authors=authors, description=description, revision_version=rev_version,
        revision_status=rev_status, analyses=analyses, pinned_quotes=pinned, output=output,
        scoring=scoring, retest=retest, hypotheses=hypotheses, criterion=criterion,
        responsiveness=responsiveness, dif=dif, irt=irt, invariance=invariance,
        file=file, base_dir=c.base, format_version=STUDY_FORMAT_VERSION)


def _rule_names() -> list[str]:
    from dataclasses import fields

    return [f.name for f in fields(DecisionRules)]


def _hint(problem: Problem, known: Sequence[str]) -> str:
    if problem.reason != "unknown_key" or not isinstance(problem.value, str):
        return problem.message
    close = difflib.get_close_matches(problem.value, list(known), n=1)
    if close:
        return f"unknown rule {problem.value!r}; did you mean {close[0]!r}?"
    return problem.message


class _Checker:
    def __init__(self, file: str | None, lines: Mapping[str, int], base: Path):
        self.file = file
        self.lines = lines
        self.base = base
        self.problems: list[Problem] = []

    def line(self, key: str) -> int | None:
        k = key
        while k:
            if k in self.lines:
                return self.lines[k]
            k = k.rpartition(".")[0]
        return None

    def add(self, key: str, reason: str, message: str, value: Any = None) -> None:
        self.problems.append(Problem(reason, message, file=self.file, key=key or "(top level)",
                                     line=self.line(key), value=value))

    def keys(self, mapping: Mapping[str, Any], prefix: str, kind: str) -> None:
        allowed = STUDY_KEYS[kind]
        for k in mapping:
            if k not in allowed:
                key = f"{prefix}.{k}" if prefix else str(k)
                close = difflib.get_close_matches(str(k), allowed, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else \
                    f"; allowed keys: {', '.join(allowed)}"
                self.add(key, "unknown_key", f"unknown key {k!r}{hint}", k)

    def path(self, value: Any, key: str, *, required: bool = False,
             check: bool = True) -> Path | None:
        if value is None:
            if required:
                self.add(key, "missing_key", f"{key} is required: the path of a file")
            return None
        if not isinstance(value, (str, os.PathLike)) or not str(value).strip():
            self.add(key, "wrong_type", f"{key} must be a file path, got {value!r}", value)
            return None
        p = Path(value)
        if not p.is_absolute():
            p = self.base / p
        p = Path(os.path.normpath(p))
        if check and not p.exists():
            self.add(key, "file_not_found", f"{key}: file not found: {value}", str(value))
        return p

    def string(self, value: Any, key: str) -> str | None:
        if value is None:
            return None
        if not isinstance(value, (str, int, float)) or isinstance(value, bool):
            self.add(key, "wrong_type", f"{key} must be text, got {value!r}", value)
            return None
        return str(value)

    def integer(self, value: Any, key: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            self.add(key, "wrong_type", f"{key} must be a whole number >= 0, got {value!r}",
                     value)
            return None
        return int(value)

    def timestamp(self, value: Any, key: str) -> str | None:
        if value is None:
            return None
        try:
            return normalise_timestamp(value.isoformat() if isinstance(value, datetime)
                                       else str(value))
        except ValueError:
            self.add(key, "invalid_value",
                     f"{key} must be an ISO 8601 date-time such as 2014-06-30T12:00:00Z, "
                     f"got {value!r}", value)
            return None

    def authors(self, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, str):
            return (value,)
        if isinstance(value, Sequence) and all(isinstance(a, str) for a in value):
            return tuple(value)
        self.add("authors", "wrong_type", "authors must be a name or a list of names", value)
        return ()

    def ratings(self, value: Any, *, check: bool) -> RatingsSpec | None:
        from instrval.io.files import is_url

        if value is None:
            return None
        if is_url(value):  # object storage: read by the engines
            return RatingsSpec(file=str(value))
        if not isinstance(value, Mapping):
            p = self.path(value, "ratings", check=check)
            return RatingsSpec(file=p) if p is not None else None
        self.keys(value, "ratings", "ratings")
        gen = value.get("generate_if_missing")
        if gen is not None and gen not in _GENERATORS:
            self.add("ratings.generate_if_missing", "invalid_value",
                     f"ratings.generate_if_missing must be one of {', '.join(_GENERATORS)}; "
                     f"got {gen!r}", gen)
            gen = None
        rfile: Path | str | None
        if is_url(value.get("file")):  # object storage: read by the engines
            rfile = str(value["file"])
        else:
            rfile = self.path(value.get("file"), "ratings.file", required=True,
                              check=check and gen is None)
        mapping = value.get("mapping")
        if mapping is not None and not isinstance(mapping, Mapping):
            mapping = self.path(mapping, "ratings.mapping", check=check)
        dictionary = self.path(value.get("dictionary"), "ratings.dictionary", check=check)
        strict = value.get("strict", False)
        if not isinstance(strict, bool):
            self.add("ratings.strict", "wrong_type", "ratings.strict must be true or false",
                     strict)
            strict = False
        fmt = self.string(value.get("format"), "ratings.format")
        gseed = self.integer(value.get("generate_seed"), "ratings.generate_seed")
        if rfile is None:
            return None
        return RatingsSpec(file=rfile, format=fmt, mapping=mapping, dictionary=dictionary,
                           strict=strict, generate_if_missing=gen, generate_seed=gseed)

    def analyses(self, value: Any) -> Analyses:
        if value is None:
            return Analyses()
        if not isinstance(value, Mapping):
            self.add("analyses", "wrong_type", "analyses must be a mapping", value)
            return Analyses()
        self.keys(value, "analyses", "analyses")
        out: dict[str, Any] = {}
        for name in ("descriptives", "relevance", "reliability", "cfa"):
            if name in value:
                v = value[name]
                if v not in _AUTO_OFF:
                    self.add(f"analyses.{name}", "invalid_value",
                             f"analyses.{name} must be auto or off, got {v!r}", v)
                else:
                    out[name] = v
        if "efa" in value:
            v = value["efa"]
            if isinstance(v, Mapping):
                f = v.get("factors")
                extra = [k for k in v if k != "factors"]
                if extra:
                    self.add("analyses.efa", "unknown_key",
                             f"analyses.efa takes only 'factors'; got {', '.join(map(str, extra))}",
                             extra[0])
                v = f
            if isinstance(v, int) and not isinstance(v, bool) and v >= 1:
                out["efa"] = int(v)
            elif v in _AUTO_OFF:
                out["efa"] = v
            else:
                self.add("analyses.efa", "invalid_value",
                         f"analyses.efa must be auto, off or {{factors: N}} with N >= 1, "
                         f"got {v!r}", v)
        for name in ("n_boot", "parallel_iter"):
            if name in value:
                n = self.integer(value[name], f"analyses.{name}")
                if n is not None:
                    out[name] = n
        return Analyses(**out)

    def scoring(self, value: Any) -> ScoringSpec:
        if value is None:
            return ScoringSpec()
        if not isinstance(value, Mapping):
            self.add("scoring", "wrong_type", "scoring must be a mapping (method, impute, "
                     "min_items)", value)
            return ScoringSpec()
        self.keys(value, "scoring", "scoring")
        out: dict[str, Any] = {}
        for key, allowed in (("method", ("mean", "sum")), ("impute", ("none", "mean",
                                                                      "median"))):
            if key in value:
                if value[key] not in allowed:
                    self.add(f"scoring.{key}", "invalid_value",
                             f"scoring.{key} must be one of {', '.join(allowed)}, got "
                             f"{value[key]!r}", value[key])
                else:
                    out[key] = value[key]
        if "min_items" in value:
            v = value["min_items"]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or v < 0:
                self.add("scoring.min_items", "wrong_type", "scoring.min_items must be a "
                         f"number >= 0 (a share below 1 or a count), got {v!r}", v)
            else:
                out["min_items"] = float(v)
        return ScoringSpec(**out)

    def repeated(self, value: Any, key: str, *, check: bool) -> RepeatedSpec | None:
        if value is None:
            return None
        if not isinstance(value, Mapping):
            self.add(key, "wrong_type", f"{key} must be a mapping with file, id and time",
                     value)
            return None
        self.keys(value, key, key)
        p = self.path(value.get("file"), f"{key}.file", required=True, check=check)
        cols = {}
        for k in ("id", "time"):
            v = value.get(k)
            if v is None:
                self.add(f"{key}.{k}", "missing_key", f"{key}.{k} is required: a column name")
            cols[k] = self.string(v, f"{key}.{k}")
        where = value.get("where")
        if where is not None and not isinstance(where, Mapping):
            self.add(f"{key}.where", "wrong_type", f"{key}.where must be a mapping of column "
                     "to value (or list of values)", where)
            where = None
        times = value.get("times")
        if times is not None and (not isinstance(times, list) or len(times) != 2):
            self.add(f"{key}.times", "wrong_type", f"{key}.times must be a list of two "
                     "occasions", times)
            times = None
        mic = value.get("mic")
        if mic is not None and mic != "half_sd" and (
                isinstance(mic, bool) or not isinstance(mic, (int, float)) or mic <= 0):
            self.add(f"{key}.mic", "invalid_value", f"{key}.mic must be a positive number "
                     f"or half_sd, got {mic!r}", mic)
            mic = None
        hyp = self.path(value.get("hypotheses"), f"{key}.hypotheses", check=check)
        if key == "responsiveness" and hyp is None and value.get("hypotheses") is None:
            self.add(f"{key}.hypotheses", "missing_key", "responsiveness.hypotheses is "
                     "required: a hypotheses file about the change scores")
        if p is None or cols["id"] is None or cols["time"] is None:
            return None
        return RepeatedSpec(file=p, id=cols["id"], time=cols["time"],
                            where=dict(where) if where else None,
                            times=tuple(times) if times else None, mic=mic, hypotheses=hyp)

    def criterion(self, value: Any) -> tuple[CriterionSpec, ...]:
        if value is None:
            return ()
        if isinstance(value, (str, Mapping)):
            value = [value]
        if not isinstance(value, list):
            self.add("criterion", "wrong_type", "criterion must be a column name, a mapping "
                     "with column, or a list of them", value)
            return ()
        out = []
        for i, v in enumerate(value):
            key = f"criterion[{i}]" if len(value) > 1 else "criterion"
            if isinstance(v, str):
                out.append(CriterionSpec(column=v))
                continue
            if not isinstance(v, Mapping) or v.get("column") is None:
                self.add(key, "wrong_type", f"{key} must be a column name or a mapping with "
                         "column", v)
                continue
            self.keys(v, key, "criterion")
            kind = v.get("kind", "auto")
            if kind not in ("auto", "continuous", "dichotomous"):
                self.add(f"{key}.kind", "invalid_value", f"{key}.kind must be auto, "
                         f"continuous or dichotomous, got {kind!r}", kind)
                kind = "auto"
            out.append(CriterionSpec(column=str(v["column"]), scale=self.string(
                v.get("scale"), f"{key}.scale"), kind=kind, positive=v.get("positive")))
        return tuple(out)

    def _group_mapping(self, value: Any, key: str, what: str) -> Mapping[str, Any] | None:
        if isinstance(value, str):
            value = {"group": value}
        if not isinstance(value, Mapping):
            self.add(key, "wrong_type", f"{key} must be a mapping with group ({what})", value)
            return None
        self.keys(value, key, key)
        if value.get("group") is None:
            self.add(f"{key}.group", "missing_key",
                     f"{key}.group is required: the ratings column holding the groups")
            return None
        return value

    def _choice(self, value: Mapping[str, Any], key: str, name: str,
                allowed: Sequence[str], default: str) -> str:
        v = value.get(name, default)
        if v not in allowed:
            self.add(f"{key}.{name}", "invalid_value", f"{key}.{name} must be one of "
                     f"{', '.join(allowed)}, got {v!r}", v)
            return default
        return str(v)

    def dif(self, value: Any) -> DIFSpec | None:
        if value is None:
            return None
        value = self._group_mapping(value, "dif", "method, purify, levels, alpha")
        if value is None:
            return None
        group = self.string(value["group"], "dif.group")
        method = self._choice(value, "dif", "method", ("ordinal", "mh"), "ordinal")
        purify = value.get("purify", False)
        if not isinstance(purify, bool):
            self.add("dif.purify", "wrong_type", f"dif.purify must be true or false, got "
                     f"{purify!r}", purify)
            purify = False
        levels = value.get("levels")
        if levels is not None and (not isinstance(levels, list) or len(levels) != 2
                                   or levels[0] == levels[1]):
            self.add("dif.levels", "wrong_type", "dif.levels must be a list of two "
                     f"different group levels [reference, focal], got {levels!r}", levels)
            levels = None
        alpha = value.get("alpha")
        if alpha is not None and (isinstance(alpha, bool) or not isinstance(alpha, (int, float))
                                  or not 0 < alpha < 1):
            self.add("dif.alpha", "invalid_value", f"dif.alpha must be a number between 0 "
                     f"and 1 (exclusive), got {alpha!r}", alpha)
            alpha = None
        if group is None:
            return None
        return DIFSpec(group=group, method=method, purify=purify,
                       levels=tuple(levels) if levels else None,
                       alpha=None if alpha is None else float(alpha))

    def irt(self, value: Any) -> IRTSpec | None:
        if value is None:
            return None
        if isinstance(value, str):
            value = {"model": value}
        if not isinstance(value, Mapping):
            self.add("irt", "wrong_type", "irt must be a mapping such as {model: grm} (or "
                     "{} for the default model)", value)
            return None
        self.keys(value, "irt", "irt")
        return IRTSpec(model=self._choice(value, "irt", "model", IRT_MODEL_CHOICES, "auto"))

    def invariance(self, value: Any) -> InvarianceSpec | None:
        if value is None:
            return None
        value = self._group_mapping(value, "invariance", "estimator")
        if value is None:
            return None
        group = self.string(value["group"], "invariance.group")
        est = self._choice(value, "invariance", "estimator", INVARIANCE_ESTIMATORS, "ml")
        return None if group is None else InvarianceSpec(group=group, estimator=est)

    def pinned(self, value: Any) -> tuple[str, ...]:
        if value is None:
            return ()
        if isinstance(value, (str, int)):
            value = [value]
        if isinstance(value, Mapping):  # {item_id: [segment ids]} reads as the ids
            flat: list[Any] = []
            for v in value.values():
                flat.extend([v] if isinstance(v, (str, int)) else list(v or []))
            value = flat
        if not isinstance(value, Sequence) or not all(isinstance(v, (str, int))
                                                      for v in value):
            self.add("pinned_quotes", "wrong_type",
                     "pinned_quotes must be a list of segment ids", value)
            return ()
        return tuple(str(v) for v in value)


def normalise_timestamp(text: str) -> str:
    """Parse an ISO 8601 date or date-time and return it in ``isoformat()`` form.

    A ``Z`` suffix is read as UTC; a plain date becomes midnight.

    >>> normalise_timestamp("2014-06-30T12:00:00Z")
    '2014-06-30T12:00:00+00:00'
    """
    t = text.strip()
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    when = datetime.fromisoformat(t)
    if not 1980 <= when.year <= 2107:  # what a zip archive (the .xlsx tables) can store
        raise ValueError(f"the year {when.year} is outside 1980-2107")
    return when.isoformat()

"""``run_validation()``: the Python twin of ``instrval report``.

One function runs the whole convergent mixed-methods validation described by a study
(:mod:`instrval.io.study`): it reads the inputs, computes item descriptives, relevance
ratios, reliability, factor analyses and content validity where the data allow, summarises
the coded interviews, integrates both strands in the joint display with the decision
rules and the experts' decisions, and derives the revised instrument. ``write_report()``
writes the report folder (HTML, Markdown, JSON, CSV, XLSX, the revised instrument).

Examples
--------
>>> from instrval.io.study import read_study
>>> from instrval.pipeline import run_validation, write_report
>>> result = run_validation(read_study("examples/iam/study.yaml"))  # doctest: +SKIP
>>> write_report(result, "report")  # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import os
import platform
import shutil
import sys
import tempfile
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from instrval._version import __version__
from instrval.errors import InstrvalError, InstrvalWarning, Problem, StatisticsError, StudyError
from instrval.io.files import is_url
from instrval.io.study import Study

if TYPE_CHECKING:  # pragma: no cover - the result classes, for the annotations only
    from instrval.integrate.cosmin import CosminSummary
    from instrval.integrate.diff import InstrumentDiff
    from instrval.integrate.evidence import JointDisplay
    from instrval.io.decisions import ExpertDecisions
    from instrval.io.panel import PanelData
    from instrval.model.coding import CodingData
    from instrval.model.instrument import Instrument
    from instrval.model.ratings import RatingData
    from instrval.model.rules import DecisionRules
    from instrval.qual.evidence import QualEvidence
    from instrval.stats.agreement import AgreementResult, AgreementSummary
    from instrval.stats.cfa import CFAResult
    from instrval.stats.content_validity import ContentValidityResult
    from instrval.stats.criterion import CriterionResult, ResponsivenessResult
    from instrval.stats.descriptives import DescriptivesResult
    from instrval.stats.dif import DIFResult
    from instrval.stats.dimensionality import BartlettResult, KMOResult, ParallelResult
    from instrval.stats.efa import EFAResult
    from instrval.stats.hypotheses import HypothesesResult
    from instrval.stats.irt import IRTResult
    from instrval.stats.measurement_error import RetestResult
    from instrval.stats.omega import OmegaResult, OneFactorOmega
    from instrval.stats.relevance import RelevanceResult
    from instrval.stats.reliability import AlphaResult
    from instrval.stats.scoring import ScoreResult
    from instrval.stats.sem.invariance import InvarianceResult

__all__ = ["ValidationResult", "run_validation", "write_report", "STEPS", "software_versions",
           "sha256_file"]

#: The steps of a run, in order (shown as ``[i/n] step...`` on a terminal).
STEPS = (
    "reading the instrument",
    "reading the ratings",
    "item descriptives",
    "relevance ratios",
    "reliability",
    "factor analysis",
    "expert panel",
    "qualitative evidence",
    "joint display and decisions",
    "revised instrument",
)

Progress = Callable[[int, int, str], None]


@dataclass(frozen=True)
class ValidationResult:
    """Everything a validation run produced (see :func:`run_validation`).

    Optional parts are None when their input was not given or the analysis did not apply;
    ``notes`` says why for each analysis skipped. ``content_validity`` holds the expert
    panel's relevance indices; ``content_validity_aspects`` the same indices for every other
    aspect the panel rated (e.g. ``clarity``), by aspect.
    """

    study: Study
    instrument: Instrument
    revised: Instrument
    joint: JointDisplay
    cosmin: CosminSummary
    timestamp: str
    inputs: Mapping[str, Mapping[str, Any]]
    software: Mapping[str, str]
    ratings: RatingData | None = None
    descriptives: DescriptivesResult | None = None
    relevance: RelevanceResult | None = None
    reliability: Mapping[str, AlphaResult] = field(default_factory=dict)
    efa: EFAResult | None = None
    kmo: KMOResult | None = None
    bartlett: BartlettResult | None = None
    parallel: ParallelResult | None = None
    cfa: CFAResult | None = None
    cfa_ordinal: CFAResult | None = None
    omega: OmegaResult | None = None
    omega_scales: Mapping[str, OneFactorOmega] = field(default_factory=dict)
    panel: PanelData | None = None
    content_validity: ContentValidityResult | None = None
    content_validity_aspects: Mapping[str, ContentValidityResult] = field(
        default_factory=dict)
    coding: CodingData | None = None
    qual: QualEvidence | None = None
    agreement: AgreementResult | None = None
    agreement_summary: AgreementSummary | None = None
    decisions: ExpertDecisions | None = None
    diff: InstrumentDiff | None = None
    notes: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    analyses: Mapping[str, str] = field(default_factory=dict)
    scores: ScoreResult | None = None
    retest: RetestResult | None = None
    hypotheses: HypothesesResult | None = None
    criterion: tuple[CriterionResult, ...] = ()
    responsiveness: ResponsivenessResult | None = None
    invariance: InvarianceResult | None = None
    dif: Mapping[str, DIFResult] = field(default_factory=dict)
    irt: Mapping[str, IRTResult] = field(default_factory=dict)

    @property
    def rules(self) -> DecisionRules:
        return self.study.rules

    def summary(self) -> dict[str, Any]:
        """Headline counts (the ``summary`` of results.json)."""
        c = self.joint.counts()
        c["instrument"] = self.instrument.label
        c["revised_instrument"] = self.revised.label
        c["items_after"] = len(self.revised.items)
        return c


def software_versions() -> dict[str, str]:
    """Versions of python, numpy, pandas, scipy and instrval."""
    import numpy
    import scipy

    return {"python": platform.python_version(), "numpy": numpy.__version__,
            "pandas": pd.__version__, "scipy": scipy.__version__, "instrval": __version__}


def sha256_file(path: str | Path) -> str:
    """The sha256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _now() -> str:
    return datetime.now(timezone.utc).replace(microsecond=0).isoformat()


def _stderr_progress(i: int, n: int, label: str) -> None:
    print(f"[{i}/{n}] {label}...", file=sys.stderr, flush=True)


def _generate_ratings(spec: Any, out_dir: Path | None) -> tuple[Path, str]:
    """Generate the IAM example export into ``spec.file`` (or the output folder)."""
    from instrval.datasets.iam import generate_iam_ratings

    seed = spec.generate_seed if spec.generate_seed is not None else 2012
    df = generate_iam_ratings(seed=seed)
    target = Path(spec.file)
    compression: Any = None
    if target.suffix == ".gz":
        compression = {"method": "gzip", "mtime": 0}
    for dest in (target, (out_dir / target.name) if out_dir is not None else None):
        if dest is None:
            continue
        try:
            dest.parent.mkdir(parents=True, exist_ok=True)
            df.to_csv(dest, index=False, compression=compression, lineterminator="\n")
            return dest, (f"the IAM example export was generated (seed {seed}) into "
                          f"{dest.name} because the file named by the study was missing")
        except OSError:
            continue
    raise StudyError(f"cannot write the generated ratings to {target}")


def run_validation(study: Study, *, progress: Progress | None = None,
                   quiet: bool = False, engine: str = "auto",
                   scheduler: str | None = None,
                   storage_options: dict[str, Any] | None = None) -> ValidationResult:
    """Run the validation a study describes.

    Parameters
    ----------
    study : Study
        From :func:`instrval.io.study.read_study` or
        :func:`instrval.io.study.study_from_mapping`.
    progress : callable(step, n_steps, label), optional
        Called at the start of each step. By default, step lines such as
        ``[4/10] relevance ratios...`` go to standard error when it is a terminal.
    quiet : bool
        Show no progress at all.
    engine, scheduler : str, optional
        How the ratings are read (:func:`instrval.io.engine.read_ratings_any`): ``auto``
        reads big Parquet inputs with DuckDB, keeping only sufficient statistics, unless
        the instrument has Likert or binary scales (whose analyses need the rows).
    storage_options : dict, optional
        fsspec options of the object store when the study's ratings file is a URL
        (``s3://bucket/exports/``).

    Returns
    -------
    ValidationResult

    Raises
    ------
    InstrvalError
        When an input cannot be used (the error names the file and place).
    """
    from instrval.integrate import cosmin_summary, joint_display, revise_instrument
    from instrval.io.instrument import read_instrument

    if progress is None and not quiet and sys.stderr.isatty():
        progress = _stderr_progress
    if quiet:
        progress = None
    n_steps = len(STEPS)

    def step(i: int) -> None:
        if progress is not None:
            progress(i + 1, n_steps, STEPS[i])

    rules = study.rules
    seed = study.seed
    timestamp = study.timestamp or _now()
    notes: list[str] = []
    analyses: dict[str, str] = {}
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", InstrvalWarning)

        step(0)
        instrument = read_instrument(study.instrument)

        step(1)
        ratings = None
        if study.ratings is not None:
            spec = study.ratings
            if (not is_url(spec.file) and not Path(spec.file).exists()
                    and spec.generate_if_missing):
                path, note = _generate_ratings(spec, study.output)
                notes.append(note)
                if path != Path(spec.file):
                    study = study.replace(ratings=type(spec)(
                        **{**spec.__dict__, "file": path}))
            ratings = _read_ratings(study, instrument, engine, scheduler,
                                    None if quiet or progress is None else _engine_progress,
                                    storage_options)
            _require_item_values(ratings, study)
        scan = ratings is not None and hasattr(ratings, "item_counts")

        step(2)
        descriptives = totals = None
        if ratings is not None and study.analyses.descriptives != "off":
            from instrval.stats.descriptives import item_descriptives

            descriptives = item_descriptives(ratings, floor_ceiling_max=rules.floor_ceiling_max)
            analyses["descriptives"] = "run"
            if scan and any(c.kind in ("likert", "binary") for c in instrument.constructs):
                notes.append(f"scale totals {_NEEDS_ROWS}")
            elif any(c.kind in ("likert", "binary") for c in instrument.constructs):
                from instrval.stats.descriptives import scale_totals

                totals = scale_totals(ratings.data, instrument,
                                      floor_ceiling_max=rules.floor_ceiling_max)
        else:
            analyses["descriptives"] = "off" if ratings is not None else "no ratings"

        step(3)
        relevance = None
        # relevance ratios belong to endorsement constructs; binary constructs are scales
        choice_kinds = {"multi_select", "single_choice"}
        has_choice = any(c.kind in choice_kinds for c in instrument.constructs)
        if ratings is None:
            analyses["relevance"] = "no ratings"
        elif study.analyses.relevance == "off":
            analyses["relevance"] = "off"
        elif not has_choice:
            analyses["relevance"] = "not applicable (no check-box or choice items)"
        else:
            from instrval.stats.relevance import relevance_ratios

            relevance = relevance_ratios(ratings, threshold=rules.relevance_min,
                                         confidence=rules.relevance_ci_level, cluster=True,
                                         n_boot=study.analyses.n_boot, seed=seed)
            analyses["relevance"] = "run"

        step(4)
        reliability: dict[str, Any] = {}
        scaled = [c for c in instrument.constructs if c.kind in ("likert", "binary")
                  and len(c.items) >= 2]
        if ratings is None:
            analyses["reliability"] = "no ratings"
        elif study.analyses.reliability == "off":
            analyses["reliability"] = "off"
        elif not scaled:
            analyses["reliability"] = "not applicable (no Likert or binary scales)"
        elif scan:
            analyses["reliability"] = _NEEDS_ROWS
        else:
            from instrval.stats.reliability import alpha_for_construct

            for c in scaled:
                try:
                    reliability[c.id] = alpha_for_construct(ratings.data, instrument, c.id)
                except StatisticsError as exc:
                    notes.append(f"reliability of {c.id} not computed: {exc}")
            analyses["reliability"] = "run" if reliability else "failed"

        step(5)
        efa_res = parallel = cfa_res = cfa_ord = omega_res = kmo_res = bartlett_res = None
        omega_scales: dict[str, Any] = {}
        # The scale items analysed: the Likert constructs (Pearson EFA, ML and WLSMV CFA,
        # omega) or, without Likert constructs, the binary ones (tetrachoric EFA, WLSMV CFA)
        likert = [c for c in instrument.constructs if c.kind == "likert"]
        binary = [c for c in instrument.constructs if c.kind == "binary"]
        fa_constructs = likert or binary
        fa_items = [it.id for c in fa_constructs for it in c.items]
        min_k, min_n = rules.min_scale_items, rules.min_factor_n
        enough = ratings is not None and ratings.n_accepted >= min_n
        kinds_text = "Likert or binary" if binary else "Likert"
        if likert and binary:
            notes.append("factor analyses cover the Likert constructs; the binary constructs "
                         f"({', '.join(c.id for c in binary)}) are analysed only for "
                         "reliability and item statistics")
        if ratings is None:
            analyses["efa"] = analyses["cfa"] = "no ratings"
        elif scan and fa_items:
            analyses["efa"] = analyses["cfa"] = analyses["omega"] = _NEEDS_ROWS
        else:
            efa_opt = study.analyses.efa
            if efa_opt == "off":
                analyses["efa"] = "off"
            elif len(fa_items) < min_k or not enough:
                analyses["efa"] = (f"not applicable (needs >= {min_k} {kinds_text} items "
                                   f"and >= {min_n} ratings)")
            else:
                from instrval.stats.dimensionality import parallel_analysis
                from instrval.stats.efa import efa

                X = ratings.item_frame(fa_items)
                k = efa_opt if isinstance(efa_opt, int) else len(fa_constructs)
                corr = "pearson" if likert else "tetrachoric"
                try:
                    efa_res = efa(X, n_factors=k, method="minres", rotation="oblimin"
                                  if k > 1 else "none", corr=corr)
                    analyses["efa"] = "run"
                except StatisticsError as exc:
                    notes.append(f"EFA not computed: {exc}")
                    analyses["efa"] = "failed"
                if efa_res is not None:
                    from instrval.stats.dimensionality import bartlett, kmo

                    # on the correlations the EFA analysed (tetrachoric for binary items)
                    R = efa_res.correlation
                    try:
                        kmo_res = kmo(R)
                        bartlett_res = bartlett(R, n=efa_res.n_obs)
                    except StatisticsError as exc:
                        notes.append(f"KMO and Bartlett's test not computed: {exc}")
                try:
                    parallel = parallel_analysis(X, n_iter=study.analyses.parallel_iter,
                                                 seed=seed)
                except StatisticsError as exc:
                    notes.append(f"parallel analysis not computed: {exc}")
            if study.analyses.cfa == "off":
                analyses["cfa"] = "off"
            elif not fa_constructs or not enough:
                analyses["cfa"] = (f"not applicable (needs {kinds_text} constructs and "
                                   f">= {min_n} ratings)")
            else:
                from instrval.stats.cfa import cfa

                X = ratings.item_frame(fa_items)
                model = ({c.id: list(c.item_ids) for c in fa_constructs}
                         if likert and binary else instrument)
                if likert:
                    try:
                        cfa_res = cfa(X, model)
                        analyses["cfa"] = "run"
                    except StatisticsError as exc:
                        notes.append(f"CFA not computed: {exc}")
                        analyses["cfa"] = "failed"
                else:
                    analyses["cfa"] = "not applicable (binary items: WLSMV only)"
                if not likert or _ordinal(instrument, likert):
                    try:
                        cfa_ord = cfa(X, model, estimator="wlsmv")
                        analyses["cfa_wlsmv"] = "run"
                    except StatisticsError as exc:
                        notes.append(f"ordinal (WLSMV) CFA not computed: {exc}")
                        analyses["cfa_wlsmv"] = "failed"
                else:
                    analyses["cfa_wlsmv"] = ("not applicable (needs Likert items with at most "
                                             f"{MAX_ORDINAL_CATEGORIES} categories)")
            if (study.analyses.reliability == "off" or not likert
                    or len(fa_items) < min_k or not enough):
                analyses["omega"] = ("off" if study.analyses.reliability == "off" else
                                     f"not applicable (needs >= {min_k} Likert items and >= "
                                     f"{min_n} ratings)")
            else:
                from instrval.stats.omega import omega, omega_one_factor

                X = ratings.item_frame(fa_items).astype(float)
                efa_opt = study.analyses.efa
                k = efa_opt if isinstance(efa_opt, int) else len(likert)
                try:
                    omega_res = omega(X, n_factors=k)
                    analyses["omega"] = "run"
                except StatisticsError as exc:
                    notes.append(f"omega not computed: {exc}")
                    analyses["omega"] = "failed"
                for c in likert:
                    if len(c.items) < min_k:
                        continue
                    try:
                        omega_scales[c.id] = omega_one_factor(X[list(c.item_ids)])
                    except StatisticsError as exc:
                        notes.append(f"one-factor omega of {c.id} not computed: {exc}")

        step(6)
        panel = cv = None
        cv_aspects: dict[str, Any] = {}
        if study.panel is not None:
            from instrval.io.panel import read_panel
            from instrval.stats.content_validity import content_validity

            panel = read_panel(study.panel, instrument)
            # Items in the instrument's order; items the panel did not rate are left out
            # with a DataQualityWarning (listed in the report).
            cv = content_validity(panel, items=instrument.item_ids)
            for aspect in panel.aspects:
                if aspect == "relevance":
                    continue
                if panel.data[aspect].notna().any():
                    cv_aspects[aspect] = content_validity(panel, aspect=aspect,
                                                          items=instrument.item_ids)
                else:
                    notes.append(f"expert panel: no {aspect} ratings given")
            if panel.problems:
                notes.append(f"expert panel: {len(panel.quarantine)} rating(s) quarantined "
                             f"({len(panel.problems)} problem(s); see Data quality)")
            analyses["content_validity"] = "run"
        else:
            analyses["content_validity"] = "no expert panel"

        step(7)
        coding = qual = agreement = agreement_sum = None
        if study.coding is not None:
            from instrval.io.coding import read_codebook, read_coding
            from instrval.qual.evidence import item_evidence

            codebook = read_codebook(study.codebook) if study.codebook is not None else None
            coding = read_coding(study.coding, instrument=instrument, codebook=codebook,
                                 format=study.coding_format)
            qual = item_evidence(coding, instrument, rules=rules,
                                 pinned_quotes=list(study.pinned_quotes) or None)
            analyses["qualitative"] = "run"
            try:
                from instrval.stats.agreement import coder_agreement

                agreement = coder_agreement(coding)
                if agreement.n_segments:
                    from instrval.stats.agreement import agreement_summary

                    agreement_sum = agreement_summary(agreement, coding)
            except (StatisticsError, InstrvalError, ImportError, ValueError) as exc:
                notes.append(f"coder agreement not computed: {exc}")
        else:
            analyses["qualitative"] = "no coding table"

        step(8)
        decisions = None
        if study.decisions is not None:
            from instrval.io.decisions import read_decisions

            decisions = read_decisions(study.decisions, instrument)
        groups = _group_and_irt_analyses(study, instrument, ratings, notes, analyses)
        joint = joint_display(instrument, relevance=relevance, reliability=reliability,
                              efa=efa_res, content_validity=cv, qual=qual,
                              descriptives=descriptives, decisions=decisions, rules=rules,
                              content_validity_aspects=cv_aspects, totals=totals,
                              extra=_psychometric_extra(groups["dif"], groups["irt"], study))
        props = _measurement_properties(study, instrument, ratings, notes, analyses)
        props["invariance"] = groups["invariance"]
        cosmin = cosmin_summary(joint, reliability=reliability, cfa=cfa_res,
                                cfa_ordinal=cfa_ord, content_validity=cv, rules=rules,
                                content_validity_aspects=cv_aspects,
                                retest=props["retest"], hypotheses=props["hypotheses"],
                                criterion=list(props["criterion"]) or None,
                                responsiveness=props["responsiveness"],
                                invariance=_between_groups(study, groups["dif"],
                                                           groups["invariance"]),
                                irt=groups["irt"] or None)

        step(9)
        inputs = _inputs(study, ratings, panel, storage_options)
        provenance = {
            "generated_by": f"instrval {__version__}",
            "generated_at": timestamp,
            "reviewed": instrument.label,
            "study": study.title,
            "inputs": {role: {"file": d["file"], "sha256": d["sha256"]}
                       for role, d in inputs.items()},
            "rules": rules.to_dict(),
            "seed": seed,
        }
        revised = revise_instrument(instrument, joint, version=study.revision_version,
                                    status=study.revision_status, timestamp=timestamp,
                                    provenance=provenance)
        diff = None
        try:
            from instrval.integrate.diff import instrument_diff

            diff = instrument_diff(instrument, revised)
        except ImportError:  # pragma: no cover - the diff module ships with instrval
            pass
    rel = _relative_paths(study)
    warn_msgs = tuple(dict.fromkeys(
        rel(f"{w.category.__name__}: {w.message}") for w in caught
        if issubclass(w.category, InstrvalWarning)))
    notes = [rel(n[:1].upper() + n[1:]) for n in notes]  # each note is a sentence
    for w in caught:  # pass the others on
        if not issubclass(w.category, InstrvalWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return ValidationResult(
        study=study, instrument=instrument, revised=revised, joint=joint, cosmin=cosmin,
        timestamp=timestamp, inputs=inputs, software=software_versions(), ratings=ratings,
        descriptives=descriptives, relevance=relevance, reliability=reliability,
        efa=efa_res, kmo=kmo_res, bartlett=bartlett_res, parallel=parallel, cfa=cfa_res, cfa_ordinal=cfa_ord, omega=omega_res,
        omega_scales=omega_scales, panel=panel, content_validity=cv,
        content_validity_aspects=cv_aspects,
        coding=coding, qual=qual, agreement=agreement, agreement_summary=agreement_sum,
        decisions=decisions, diff=diff, dif=groups["dif"], irt=groups["irt"],
        notes=tuple(notes), warnings=warn_msgs, analyses=analyses, **props)


def _measurement_properties(study: Study, instrument: Any, ratings: Any, notes: list[str],
                            analyses: dict[str, str]) -> dict[str, Any]:
    """Scale scores, test-retest (reliability, measurement error), hypotheses testing,
    criterion validity and responsiveness, from the study keys ``scoring``, ``retest``,
    ``hypotheses``, ``criterion`` and ``responsiveness``."""
    out: dict[str, Any] = {"scores": None, "retest": None, "hypotheses": None,
                           "criterion": (), "responsiveness": None, "invariance": None}
    sc = study.scoring
    opts: dict[str, Any] = {"method": sc.method, "impute": sc.impute, "min_items": sc.min_items}
    if not (study.retest or study.hypotheses or study.criterion or study.responsiveness):
        return out
    from instrval.io.hypotheses import read_hypotheses, read_scored_table
    from instrval.stats.scoring import keys_from_instrument, score_items

    try:
        keys_from_instrument(instrument)
    except StatisticsError as exc:
        notes.append(f"measurement properties not computed: {exc}")
        return out
    scored = None
    if ratings is not None and not hasattr(ratings, "data") and (study.hypotheses
                                                                 or study.criterion):
        notes.append(f"scale scores {_NEEDS_ROWS}")
    elif ratings is not None and (study.hypotheses or study.criterion):
        items = [i for i in instrument.item_ids if i in ratings.data.columns]
        data = ratings.data.copy()
        data[items] = ratings.item_frame(items)
        try:
            res = score_items(data, instrument=instrument, **opts)
            out["scores"] = res
            scored = data.drop(columns=[c for c in res.scores.columns if c in data.columns])
            scored = pd.concat([scored, res.scores], axis=1)
            analyses["scores"] = "run"
        except StatisticsError as exc:
            notes.append(f"scale scores not computed: {exc}")
            analyses["scores"] = "failed"
    elif study.hypotheses or study.criterion:
        analyses["scores"] = "no ratings"
    if study.retest is not None:
        from instrval.stats.measurement_error import retest

        spec = study.retest
        df = read_scored_table(spec.file, instrument=instrument, where=spec.where)
        try:
            out["retest"] = retest(df, id=spec.id, time=spec.time, instrument=instrument,
                                   times=spec.times, mic=spec.mic, **opts)
            analyses["retest"] = "run"
        except StatisticsError as exc:
            notes.append(f"test-retest not computed: {exc}")
            analyses["retest"] = "failed"
    if study.hypotheses is not None and scored is not None:
        from instrval.stats.hypotheses import evaluate_hypotheses

        try:
            out["hypotheses"] = evaluate_hypotheses(scored, read_hypotheses(study.hypotheses))
            analyses["hypotheses"] = "run"
        except StatisticsError as exc:
            notes.append(f"hypotheses testing not computed: {exc}")
            analyses["hypotheses"] = "failed"
    if study.criterion and scored is not None:
        from instrval.stats.criterion import criterion_validity

        results = []
        for c in study.criterion:
            scale = c.scale or (out["scores"].scores.columns[0]
                                if len(out["scores"].scores.columns) == 1 else None)
            try:
                if scale is None:
                    raise StatisticsError(f"criterion {c.column!r}: name the scale it judges "
                                          "(criterion.scale); the instrument has several")
                d = scored
                if c.column in d.columns and not isinstance(c.positive, str):
                    d = d.assign(**{c.column: pd.to_numeric(d[c.column], errors="coerce")})
                results.append(criterion_validity(d, score=str(scale), criterion=c.column,
                                                  kind=c.kind, positive=c.positive))
            except StatisticsError as exc:
                notes.append(f"criterion validity against {c.column} not computed: {exc}")
        out["criterion"] = tuple(results)
        analyses["criterion"] = "run" if results else "failed"
    if study.responsiveness is not None:
        from instrval.stats.criterion import responsiveness

        spec = study.responsiveness
        hs = read_hypotheses(spec.hypotheses) if spec.hypotheses is not None else []
        numeric = [h.other for h in hs if h.type == "correlation"
                   and h.other not in instrument.construct_ids]
        df = read_scored_table(spec.file, instrument=instrument, where=spec.where,
                               numeric=numeric)
        try:
            out["responsiveness"] = responsiveness(df, hs, id=spec.id, time=spec.time,
                                                   instrument=instrument, times=spec.times,
                                                   **opts)
            analyses["responsiveness"] = "run"
        except StatisticsError as exc:
            notes.append(f"responsiveness not computed: {exc}")
            analyses["responsiveness"] = "failed"
    return out


def _scale_data(ratings: Any, instrument: Any, extra: list[str]) -> pd.DataFrame:
    """The ratings with the scale items as numbers and the ``extra`` columns as read."""
    items = [it.id for c in instrument.constructs if c.kind in ("likert", "binary")
             for it in c.items if it.id in ratings.data.columns]
    data = ratings.item_frame(items)
    for col in extra:
        if col in ratings.data.columns and col not in data.columns:
            data[col] = ratings.data[col]
    return data


#: The IRT model fitted when the study's ``irt.model`` is ``auto``, by construct kind.
IRT_DEFAULT_MODEL = {"binary": "rasch", "likert": "grm"}


def _group_and_irt_analyses(study: Study, instrument: Any, ratings: Any, notes: list[str],
                            analyses: dict[str, str]) -> dict[str, Any]:
    """DIF (study key ``dif``) and item response models (``irt``) per scale, and
    multi-group measurement invariance (``invariance``) of the scales' factor model."""
    out: dict[str, Any] = {"dif": {}, "irt": {}, "invariance": None}
    if not (study.dif or study.irt or study.invariance):
        return out
    scales = [c for c in instrument.constructs if c.kind in ("likert", "binary")]
    keys = [k for k in ("dif", "irt", "invariance") if getattr(study, k) is not None]
    if ratings is None or not scales:
        why = "no ratings" if ratings is None else "not applicable (no Likert or binary scales)"
        for k in keys:
            analyses[k] = why
        return out
    rules = study.rules
    groups = [s.group for s in (study.dif, study.invariance) if s is not None]
    data = _scale_data(ratings, instrument, groups)
    if study.dif is not None:
        out["dif"] = _run_dif(study, instrument, scales, data, notes)
        analyses["dif"] = "run" if out["dif"] else "failed"
    if study.irt is not None:
        from instrval.stats.irt import irt

        for c in scales:
            model = (IRT_DEFAULT_MODEL[c.kind] if study.irt.model == "auto"
                     else study.irt.model)
            X = _reverse_keyed(data, instrument, c)
            sc = instrument.scale_of(c) if c.kind == "likert" else None
            try:
                out["irt"][c.id] = irt(X, model=model, items=list(c.item_ids),
                                       lowest=sc.min if sc is not None else 0,
                                       misfit_range=(rules.irt_msq_min, rules.irt_msq_max),
                                       misfit_alpha=rules.irt_fit_alpha)
            except StatisticsError as exc:
                notes.append(f"IRT ({model}) of {c.id} not computed: {exc}")
        analyses["irt"] = "run" if out["irt"] else "failed"
    if study.invariance is not None:
        from instrval.stats.sem.invariance import measurement_invariance

        spec = study.invariance
        try:
            out["invariance"] = measurement_invariance(
                data, {c.id: list(c.item_ids) for c in scales}, group=spec.group,
                estimator=spec.estimator)
            analyses["invariance"] = "run"
        except StatisticsError as exc:
            notes.append(f"measurement invariance across {spec.group} not computed: {exc}")
            analyses["invariance"] = "failed"
    return out


def _run_dif(study: Study, instrument: Any, scales: list[Any], data: pd.DataFrame,
             notes: list[str]) -> dict[str, Any]:
    """DIF per scale, matching on the scale's total; thresholds from the study's rules."""
    from instrval.stats.dif import ETS_DELTA, JODOIN_GIERL, dif

    spec, rules = study.dif, study.rules
    assert spec is not None
    r2 = (rules.dif_r2_change_min, max(JODOIN_GIERL[1], rules.dif_r2_change_min))
    delta = (rules.dif_ets_delta_min, max(ETS_DELTA[1], rules.dif_ets_delta_min))
    out: dict[str, Any] = {}
    for c in scales:
        if spec.method == "mh" and c.kind != "binary":
            notes.append(f"DIF of {c.id} not computed: the Mantel-Haenszel method needs "
                         "binary items (dif.method: ordinal handles Likert items)")
            continue
        try:
            out[c.id] = dif(data, group=spec.group, instrument=instrument, construct=c.id,
                            levels=spec.levels, method=spec.method, alpha=spec.alpha,
                            purify=spec.purify, r2_thresholds=r2, delta_thresholds=delta)
        except StatisticsError as exc:
            notes.append(f"DIF of {c.id} by {spec.group} not computed: {exc}")
    return out


def _reverse_keyed(data: pd.DataFrame, instrument: Any, construct: Any) -> pd.DataFrame:
    """The construct's items with reverse keys applied (``min + max - x``), so that every
    item of an item response model points the same way."""
    X = data[list(construct.item_ids)].copy()
    if construct.kind == "binary":
        lo, hi = 0.0, 1.0
    else:
        sc = instrument.scale_of(construct)
        if sc is None:
            return X
        lo, hi = float(sc.min), float(sc.max)
    for it in construct.items:
        if it.reverse:
            X[it.id] = lo + hi - X[it.id]
    return X


def _psychometric_extra(dif: Mapping[str, Any], irt: Mapping[str, Any],
                        study: Study) -> pd.DataFrame | None:
    """The per-item DIF class and IRT item fit, as extra evidence of the joint display
    (read by rules R23-dif and R24-irt-misfit)."""
    frames = []
    if dif:
        d = pd.concat([r.items for r in dif.values()], ignore_index=True)
        frames.append(pd.DataFrame({
            "item_id": d["item_id"].astype(str), "dif_group": study.dif.group,  # type: ignore[union-attr]
            "dif_class": d["effect_class"], "dif_type": d["dif_type"],
            "dif_reason": d["reason"]}))
    if irt:
        rows = []
        for res in irt.values():
            for rec in res.items.to_dict(orient="records"):
                rows.append({"item_id": str(rec["item_id"]), "irt_model": res.model,
                             "irt_infit": rec.get("infit"), "irt_outfit": rec.get("outfit"),
                             "irt_p_adjusted": rec.get("p_adjusted")})
        frames.append(pd.DataFrame(rows))
    if not frames:
        return None
    out = frames[0]
    for f in frames[1:]:
        out = out.merge(f, on="item_id", how="outer")
    return out


def _between_groups(study: Study, dif: Mapping[str, Any], inv: Any) -> Any:
    """What the COSMIN cross-cultural validity row reads: the invariance levels and the
    items flagged for DIF (None when neither was analysed)."""
    if not dif and inv is None:
        return None
    groups = [s.group for s in (study.invariance, study.dif) if s is not None]
    out: dict[str, Any] = {"group": ", ".join(dict.fromkeys(groups))}
    if inv is not None:
        out["levels"] = inv.levels.to_dict(orient="records")
    if dif:
        out["dif_items"] = [i for r in dif.values() for i in r.flagged]
    return out


#: Likert items with at most this many categories are also analysed as ordinal (WLSMV CFA).
MAX_ORDINAL_CATEGORIES = 7


def _ordinal(instrument: Any, constructs: list[Any]) -> bool:
    """True when every item of the Likert ``constructs`` has 2..7 response categories."""
    for c in constructs:
        for it in c.items:
            n = len(instrument.allowed_values(it.id))
            if not 2 <= n <= MAX_ORDINAL_CATEGORIES:
                return False
    return bool(constructs)


_NEEDS_ROWS = ("not computed: the ratings were scanned by a columnar engine, which keeps "
               "counts only (read them with --engine pandas)")


def _engine_progress(msg: str) -> None:
    print(f"      {msg}", file=sys.stderr, flush=True)


def _relative_paths(study: Study) -> Callable[[str], str]:
    """A function writing the input files' absolute paths in a text as the study shows them
    (relative to the study file), so that reports do not depend on the folder they run in."""
    pairs: list[tuple[str, str]] = []
    for path in study.input_files().values():
        if is_url(path):
            continue
        p = Path(path)
        shown = study.display_path(p) or str(p)
        for form in {str(p), str(p.resolve()), p.as_posix(), p.resolve().as_posix()}:
            if form != shown:
                pairs.append((form, shown))
    base = str(study.base_dir.resolve())
    pairs.sort(key=lambda fs: -len(fs[0]))

    def rel(text: str) -> str:
        for form, shown in pairs:
            text = text.replace(form, shown)
        return text.replace(base + "/", "").replace(base + "\\", "")
    return rel


def _require_item_values(ratings: Any, study: Study) -> None:
    """Refuse an export in which no construct was presented (no item column matched, or
    every item is blank): nothing quantitative could be analysed, and a revised instrument
    would rest on no evidence."""
    from instrval.errors import RatingsError

    presented = ratings.summary().get("presented", {})
    if ratings.n_accepted and any(int(v) for v in presented.values()):
        return
    assert study.ratings is not None  # called for a study with ratings only
    where = study.display_path(study.ratings.file)
    expected = ", ".join(ratings.instrument.item_ids[:5])
    raise RatingsError(
        f"nothing usable in {where}: no rating presents any construct of "
        f"{ratings.instrument.label} (no column holds a value for an item such as "
        f"{expected}); map the export's columns to the item ids with a mapping file "
        "(ratings.mapping; see instrval ratings map-template)")


def _read_ratings(study: Study, instrument: Any, engine: str = "auto",
                  scheduler: str | None = None, progress: Any = None,
                  storage_options: dict[str, Any] | None = None) -> Any:
    from instrval.io.engine import read_ratings_any

    spec = study.ratings
    assert spec is not None  # called for a study with ratings only
    mapping = spec.mapping
    if isinstance(mapping, Path):
        mapping = str(mapping)
    if engine == "auto" and any(c.kind in ("likert", "binary") for c in instrument.constructs):
        engine = "pandas"  # reliability, EFA and CFA need the rows
    return read_ratings_any(spec.file, instrument, engine=engine, scheduler=scheduler,
                            format=spec.format, mapping=mapping,
                            dictionary=str(spec.dictionary) if spec.dictionary else None,
                            strict=spec.strict, storage_options=storage_options,
                            progress=progress)


def _url_input(url: str, storage_options: dict[str, Any] | None) -> dict[str, Any]:
    """Provenance of a URL input without downloading it: the digest of its parts' names
    and of the store's own fingerprint of each (fsspec ``ukey``: ETag, modification
    time), their total size and count."""
    from instrval.io.engine import ratings_parts, url_filesystem

    lines = []
    size = 0
    parts = ratings_parts(url, storage_options)
    for f in parts:
        fs, p = url_filesystem(f, storage_options)
        try:
            key, n = str(fs.ukey(p)), int(fs.size(p) or 0)
        except Exception:  # a store that does not say: the name alone
            key, n = "", 0
        lines.append(f"{f}:{key}\n")
        size += n
    return {"file": url, "sha256": hashlib.sha256("".join(lines).encode()).hexdigest(),
            "bytes": size, "parts": len(parts)}


def _inputs(study: Study, ratings: Any, panel: Any = None,
            storage_options: dict[str, Any] | None = None) -> dict[str, dict[str, Any]]:
    out: dict[str, dict[str, Any]] = {}
    for role, path in study.input_files().items():
        if is_url(path):  # object storage: no local file to digest
            u = _url_input(str(path), storage_options)
            if role == "ratings" and ratings is not None:
                u["rows_read"] = int(ratings.n_read)
                u["rows_accepted"] = int(ratings.n_accepted)
                u["rows_quarantined"] = int(ratings.n_quarantined)
            out[role] = u
            continue
        p = Path(path)
        if not p.exists():
            continue
        if p.is_dir():  # a folder of Parquet parts: digest of the parts' digests
            from instrval.io.engine import ratings_parts

            files = [Path(f) for f in ratings_parts(p)]
            digest = hashlib.sha256("".join(f"{f.name}:{sha256_file(f)}\n" for f in files)
                                    .encode()).hexdigest()
            d: dict[str, Any] = {"file": study.display_path(p), "sha256": digest,
                                 "bytes": sum(f.stat().st_size for f in files),
                                 "parts": len(files)}
        else:
            d = {"file": study.display_path(p), "sha256": sha256_file(p),
                 "bytes": p.stat().st_size}
        if role == "panel" and panel is not None:
            # rows of the file; ratings (long form: one per row, wide form: one per cell)
            d["rows_read"] = int(panel.source.get("rows_read", len(panel.data)))
            d["ratings_read"] = int(panel.source.get("ratings_read",
                                                     len(panel.data) + len(panel.quarantine)))
            d["ratings_accepted"] = int(len(panel.data))
            d["ratings_quarantined"] = int(len(panel.quarantine))
        if role == "ratings" and ratings is not None:
            d["rows_read"] = int(ratings.n_read)
            d["rows_accepted"] = int(ratings.n_accepted)
            d["rows_quarantined"] = int(ratings.n_quarantined)
        out[role] = d
    return out


def write_report(result: ValidationResult, out_dir: str | Path | None = None) -> dict[str, Path]:
    """Write the report folder.

    Files: ``report.html`` (self-contained), ``report.md``, ``results.json``,
    ``tables/*.csv``, ``tables.xlsx``, ``quarantine.csv`` and the revised instrument
    (``<id>-<version>.yaml``).

    Parameters
    ----------
    result : ValidationResult
    out_dir : path-like, optional
        Default: the study's ``output`` (or ``report`` next to the study file).

    Returns
    -------
    dict
        Path of each file written, by name.
    """
    from instrval.io.atomic import atomic_write_text
    from instrval.io.instrument import dumps_instrument
    from instrval.report.html import render_html
    from instrval.report.markdown import render_markdown
    from instrval.report.results_json import dumps_results
    from instrval.report.tables import report_tables, write_csv, write_csv_tables, write_xlsx

    if out_dir is None:
        out_dir = result.study.output or (result.study.base_dir / "report")
    out = Path(out_dir)
    out.parent.mkdir(parents=True, exist_ok=True)
    inst_name = f"{result.revised.id}-{result.revised.version}.yaml"
    # Everything is written into a temporary folder beside the report folder and moved
    # into place only once every file exists: a failure part-way leaves the old report
    # as it was, never a mix of old and new files.
    stage = Path(tempfile.mkdtemp(prefix=f".{out.name or 'report'}.tmp-", dir=out.parent))
    mask = os.umask(0o022)
    os.umask(mask)
    os.chmod(stage, 0o777 & ~mask)  # mkdtemp's 0700 would become the report folder's
    try:
        def inside(name: str) -> Path:
            return _inside(stage, name)

        staged: dict[str, Path] = {}
        staged["revised_instrument"] = atomic_write_text(inside(inst_name),
                                                         dumps_instrument(result.revised))
        tables = report_tables(result)
        staged.update(write_csv_tables(tables, inside("tables")))
        staged["quarantine"] = write_csv(tables["quarantine"], inside("quarantine.csv"))
        staged["xlsx"] = write_xlsx(tables, inside("tables.xlsx"), timestamp=result.timestamp)
        staged["results_json"] = atomic_write_text(inside("results.json"),
                                                   dumps_results(result, files=inst_name))
        staged["markdown"] = atomic_write_text(inside("report.md"), render_markdown(result))
        staged["html"] = atomic_write_text(inside("report.html"), render_html(result))
        written = _move_into_place(stage, out, staged)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
    return written


def _inside(folder: Path, name: str) -> Path:
    """``folder / name``, refusing a name that would resolve outside ``folder``."""
    base = folder.resolve()
    target = (folder / name).resolve()
    if target == base or base not in target.parents:
        raise StudyError(f"refusing to write {name!r}: it would leave the report folder",
                         [Problem("path_outside_output", "the file name leaves the report "
                                  "folder", value=name)])
    return folder / name


def _move_into_place(stage: Path, out: Path, staged: dict[str, Path]) -> dict[str, Path]:
    """Move the staged report into ``out``: one rename when ``out`` does not exist yet,
    else one atomic rename per file (files of ``out`` that the report does not write are
    left alone)."""
    final = {k: out / p.relative_to(stage) for k, p in staged.items()}
    if not out.exists():
        os.replace(stage, out)
        stage.mkdir()  # for the caller's cleanup
        return final
    if not out.is_dir():
        raise StudyError(f"the output {out} exists and is not a folder",
                         [Problem("not_a_file", "the output exists and is not a folder",
                                  file=str(out))])
    for p in staged.values():
        rel = str(p.relative_to(stage))
        dest = _inside(out, rel)
        dest.parent.mkdir(parents=True, exist_ok=True)
        os.replace(p, dest)
    return final

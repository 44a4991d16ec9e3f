"""A synthetic IAM rating export at the scale of the published 2012 study.

The Information Assessment Method (IAM) was content-validated on 234,196 ratings of
e-mailed clinical information by 5,596 physicians during 2012. This module generates a
*synthetic* export with that shape, for examples, tests and benchmarks:

* 234,196 ratings by 5,596 respondents, dated across 2012 (a leap year, 366 days);
  per-respondent rating counts are skewed (``1 + multinomial`` with log-normal weights,
  sigma 1.3): most clinicians rate a few dozen items, a few rate many hundreds;
* a ``specialty`` grouping column (family medicine, internal medicine, ...), fixed per
  respondent;
* the use gate (``use_gate``) open ("yes") in exactly 45,394 ratings (19.38 %); the
  benefit gate (``benefit_gate``) asked only then, and open in exactly 31,776 of them
  (70.0 %);
* every item selected in an **exact** number of the ratings that presented it
  (:data:`IAM_TARGETS`), never by Bernoulli draws, so every relevance ratio is known
  exactly. Two items reproduce the published non-relevant figures:
  ``ci_dissatisfied_harmful`` selected in 11,382 of 234,196 ratings (4.86 %) and
  ``use_decide_unsure`` in 1,380 of the 45,394 ratings with the use gate open (3.04 %).
  Every other item and clinical-relevance level is at or above 15 %;
* respondents who differ: ratings by one clinician resemble each other, so the relevance
  ratios have a design effect above 1 (see below).

With another ``n_ratings`` all counts are scaled by ``n_ratings / 234196`` and rounded
(:func:`iam_targets`); the published figures hold exactly at the default size.

Respondent heterogeneity
------------------------
Every respondent ``g`` has, for each item, a propensity weight
``w_g = exp(σ·z_g)``, ``z_g ~ N(0, 1)`` independent across respondents and items, with
``σ =`` :data:`PROPENSITY_SD` ``= 0.25``. The item's exact count ``k`` is then drawn among
the ratings that presented it (all ratings; for gated constructs those with the gate
open) **without replacement, with probability proportional to the weight of the rating's
respondent** (successive sampling), vectorised with exponential keys
(Efraimidis & Spirakis 2006): ``key_r = E_r / w_g(r)``, ``E_r ~ Exp(1)``, the ``k``
smallest keys are selected. R draws from the same distribution with
``sample(seq_len(n), k, prob = w[respondent])``. The gate options and the
clinical-relevance levels (exact counts of each option) are drawn the same way, one
option after the other among the ratings left (``yes`` first, ``no`` next, ``possibly``
takes the rest; ``cr_totally``, ``cr_partially``, then ``cr_not``), each option with its
own propensity; the benefit gate among the ratings with the use gate open. The number of
ratings per respondent, the dates and the specialties do not depend on the propensities
(same draws as without them).

Given the cut-off key ``τ⁻¹`` set by ``k``, a rating of respondent ``g`` is selected with
probability ``1 − exp(−τ·w_g)``: a complementary log-log random-intercept model,
``cloglog(π_g) = log τ + σ·z_g``, whose latent intraclass correlation is
``σ² / (σ² + π²/6) = 0.037`` for ``σ = 0.25``. For an item selected in 60 % of ratings,
respondents at ±2 SD select it in about 78 % and 43 % of their ratings. With the skewed
rating counts (``Σ m_g² / Σ m_g ≈ 250``) this gives, at the default size and seed, design
effects (delta method, :func:`instrval.stats.relevance.relevance_ratios`) of 2.9–9.8 for
the common ungated items, 1.5–3.1 for the gated ones (fewer ratings per respondent pass
the gate), 1.56 and 1.17 for the two non-relevant items, and 6.1 for the use gate.
Items are independent of one another given the respondent (no common factor).

Exactness and chunks: every random choice is made once for all ratings (:func:`_plan`);
each item's selection is kept as a bit mask (``n/8`` bytes), and :func:`iter_iam_chunks`
only slices it, so the counts are exact over all chunks together and the table does not
depend on ``chunk_size``.

Reference: Efraimidis PS, Spirakis PG (2006). Weighted random sampling with a reservoir.
*Information Processing Letters* 97(5):181–185.

The data are synthetic: only the marginal counts mirror the study.

Writers: :func:`write_iam_csv` (canonical wide CSV, ``.gz`` allowed),
:func:`write_iam_parquet` (streamed in chunks: 10 million ratings in bounded memory),
:func:`write_iam_redcap` (a REDCap record export with repeating rating instances and its
data dictionary).
"""

from __future__ import annotations

import csv
import io
import os
import re
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from instrval.io.atomic import atomic_write_bytes
from instrval.model.instrument import Instrument

__all__ = [
    "N_RATINGS",
    "N_RESPONDENTS",
    "N_USE_OPEN",
    "N_BENEFIT_OPEN",
    "PROPENSITY_SD",
    "IAM_TARGETS",
    "IAM_GATES",
    "SPECIALTIES",
    "iam_targets",
    "generate_iam_ratings",
    "iter_iam_chunks",
    "write_iam_csv",
    "write_iam_parquet",
    "write_iam_redcap",
    "redcap_dictionary",
    "redcap_export",
]

N_RATINGS = 234_196
N_RESPONDENTS = 5_596
#: Ratings with ``use_gate = yes`` (published: 45,394, i.e. 19.38 %).
N_USE_OPEN = 45_394
#: Ratings with ``benefit_gate = yes`` (asked only when ``use_gate = yes``; 70.0 % of them).
N_BENEFIT_OPEN = 31_776
#: Between-respondent SD of the log-propensity: each respondent has, per item (and per
#: gate option and clinical-relevance level), a weight ``exp(PROPENSITY_SD * z)``,
#: ``z ~ N(0, 1)``, and the item's exact number of selections is drawn among the ratings
#: presenting it with probability proportional to the weight of the rating's respondent.
PROPENSITY_SD = 0.25

#: Exact counts of each gate option at the published scale (``None``: not asked).
IAM_GATES: dict[str, dict[str, int]] = {
    "use_gate": {"yes": N_USE_OPEN, "no": 113_281, "possibly": 75_521},
    "benefit_gate": {"yes": N_BENEFIT_OPEN, "no": 4_540, "possibly": 9_078},
}

#: Per item: (ratings selecting it, ratings presenting its construct) at the published
#: scale. Multi-select items count ticked boxes; clinical-relevance levels count the
#: ratings choosing the level. Denominators: 234,196 for cognitive impact and clinical
#: relevance (always presented), 45,394 for intention to use (``use_gate`` yes), 31,776
#: for health benefits (``benefit_gate`` yes).
IAM_TARGETS: dict[str, tuple[int, int]] = {
    "ci_practice_improved": (58_549, N_RATINGS),          # 25.0 %
    "ci_learned_new": (140_518, N_RATINGS),               # 60.0 %
    "ci_motivated": (70_259, N_RATINGS),                  # 30.0 %
    "ci_confirmed": (98_362, N_RATINGS),                  # 42.0 %
    "ci_reassured": (81_969, N_RATINGS),                  # 35.0 %
    "ci_reminded": (105_388, N_RATINGS),                  # 45.0 %
    "ci_dissatisfied_presentation": (37_471, N_RATINGS),  # 16.0 %
    "ci_dissatisfied_disagree": (39_813, N_RATINGS),      # 17.0 %
    "ci_dissatisfied_harmful": (11_382, N_RATINGS),       # 4.86 % (published, non-relevant)
    "ci_dissatisfied_amount": (42_155, N_RATINGS),        # 18.0 %
    "cr_totally": (128_808, N_RATINGS),                   # 55.0 %
    "cr_partially": (65_575, N_RATINGS),                  # 28.0 %
    "cr_not": (39_813, N_RATINGS),                        # 17.0 %
    "use_manage_differently": (18_158, N_USE_OPEN),       # 40.0 %
    "use_justify_choice": (13_618, N_USE_OPEN),           # 30.0 %
    "use_more_certain": (22_697, N_USE_OPEN),             # 50.0 %
    "use_understand_better": (20_427, N_USE_OPEN),        # 45.0 %
    "use_discuss": (15_888, N_USE_OPEN),                  # 35.0 %
    "use_persuade": (9_079, N_USE_OPEN),                  # 20.0 %
    "use_decide_unsure": (1_380, N_USE_OPEN),             # 3.04 % (published, non-relevant)
    "hb_health_status": (17_477, N_BENEFIT_OPEN),         # 55.0 %
    "hb_prevention": (14_299, N_BENEFIT_OPEN),            # 45.0 %
    "hb_avoid_unnecessary": (11_122, N_BENEFIT_OPEN),     # 35.0 %
}

_CI = [k for k in IAM_TARGETS if k.startswith("ci_")]
_CR = ["cr_totally", "cr_partially", "cr_not"]
_USE = [k for k in IAM_TARGETS if k.startswith("use_")]
_HB = [k for k in IAM_TARGETS if k.startswith("hb_")]
_GATE_OPTIONS = ("yes", "no", "possibly")

#: Specialties of the synthetic respondents and their shares.
SPECIALTIES: dict[str, float] = {
    "family medicine": 0.55, "internal medicine": 0.15, "pediatrics": 0.10,
    "emergency medicine": 0.08, "psychiatry": 0.05, "other": 0.07,
}

#: Canonical column order of the generated table.
COLUMNS = ("rating_id", "respondent_id", "date", "specialty", *_CI, "clinical_relevance",
           "use_gate", *_USE, "benefit_gate", *_HB)


def _scale(k: int, n0: int, n: int) -> int:
    return int(round(k * n / n0)) if n != n0 else k


def _split(total: int, parts: Mapping[str, int]) -> dict[str, int]:
    """Scale counts to sum exactly to ``total`` (largest remainders)."""
    s = sum(parts.values())
    raw = {k: v * total / s for k, v in parts.items()}
    out = {k: int(np.floor(v)) for k, v in raw.items()}
    rest = total - sum(out.values())
    for k in sorted(raw, key=lambda k: raw[k] - out[k], reverse=True)[:rest]:
        out[k] += 1
    return out


def iam_targets(n_ratings: int = N_RATINGS) -> dict[str, Any]:
    """Exact counts the generator produces for ``n_ratings`` ratings.

    Returns ``{"gates": {gate: {option: n}}, "items": {item: (selected, presented)}}``;
    at the default size these are :data:`IAM_GATES` and :data:`IAM_TARGETS`.
    """
    n = int(n_ratings)
    if n == N_RATINGS:
        return {"gates": {g: dict(v) for g, v in IAM_GATES.items()},
                "items": dict(IAM_TARGETS)}
    use = _split(n, IAM_GATES["use_gate"])
    ben = _split(use["yes"], IAM_GATES["benefit_gate"])
    cr = _split(n, {k: IAM_TARGETS[k][0] for k in _CR})
    items: dict[str, tuple[int, int]] = {}
    for k in _CI:
        items[k] = (min(n, _scale(IAM_TARGETS[k][0], N_RATINGS, n)), n)
    for k in _CR:
        items[k] = (cr[k], n)
    for k in _USE:
        items[k] = (min(use["yes"], _scale(IAM_TARGETS[k][0], N_USE_OPEN, use["yes"])),
                    use["yes"])
    for k in _HB:
        items[k] = (min(ben["yes"], _scale(IAM_TARGETS[k][0], N_BENEFIT_OPEN, ben["yes"])),
                    ben["yes"])
    return {"gates": {"use_gate": use, "benefit_gate": ben}, "items": items}


def _pick(rng: np.random.Generator, w: np.ndarray, k: int) -> np.ndarray:
    """Positions (sorted) of exactly ``k`` of the ``len(w)`` rows, drawn without
    replacement with probability proportional to ``w`` (successive sampling).

    Efraimidis & Spirakis (2006) exponential keys: ``key_i = E_i / w_i`` with
    ``E_i ~ Exp(1)``; the ``k`` smallest keys are the sample (equivalently, Gumbel-top-k on
    ``log w``). Vectorised: one exponential draw and one :func:`numpy.argpartition`.
    """
    n = len(w)
    if k <= 0:
        return np.empty(0, dtype=np.int64)
    if k >= n:
        return np.arange(n, dtype=np.int64)
    keys = rng.standard_exponential(n) / w
    return np.sort(np.argpartition(keys, k - 1)[:k])


def _propensity(rng: np.random.Generator, n_resp: int) -> np.ndarray:
    """One respondent random effect: weights ``exp(PROPENSITY_SD * z)``, ``z ~ N(0, 1)``."""
    return np.exp(PROPENSITY_SD * rng.standard_normal(n_resp))


def _select(rng: np.random.Generator, resp: np.ndarray, n_resp: int, k: int
            ) -> np.ndarray:
    """Positions of exactly ``k`` of the rows whose respondents are ``resp`` (codes
    ``0..n_resp-1``), drawn with probability proportional to a fresh respondent propensity
    (:func:`_propensity`, :func:`_pick`)."""
    return _pick(rng, _propensity(rng, n_resp)[resp], k)


def _levels(rng: np.random.Generator, resp: np.ndarray, n_resp: int,
            counts: Mapping[str, int]) -> np.ndarray:
    """Option codes 0..m-1 for the rows whose respondents are ``resp``, with exact counts.

    Sequential: the rows of option 0 are drawn with :func:`_select` among all rows, those
    of option 1 among the rows left, ...; the last option takes the rows left over. Each
    option has its own respondent propensity.
    """
    n = len(resp)
    v = np.full(n, len(counts) - 1, dtype=np.int8)
    rest = np.arange(n)
    for code, k in enumerate(list(counts.values())[:-1]):
        sel = rest[_select(rng, resp[rest], n_resp, int(k))]
        v[sel] = code
        keep = np.ones(len(rest), dtype=bool)
        keep[np.searchsorted(rest, sel)] = False
        rest = rest[keep]
    return v


def _mask(n: int, pos: np.ndarray) -> np.ndarray:
    """Bit-packed 0/1 vector of length ``n`` with ones at ``pos`` (n/8 bytes)."""
    v = np.zeros(n, dtype=bool)
    v[pos] = True
    return np.packbits(v)


def _bits(packed: np.ndarray, a: int, b: int) -> np.ndarray:
    """Rows ``a:b`` of a bit-packed vector, as int8 0/1."""
    lo = a // 8
    bits = np.unpackbits(packed[lo:(b + 7) // 8])
    return bits[a - 8 * lo:b - 8 * lo].astype(np.int8)


def _plan(n: int, n_resp: int, seed: int) -> dict[str, Any]:
    """Every random choice, for all ratings at once: respondents, dates, specialties (as
    before the propensities were added: same draws, same values), then the gates, the
    clinical-relevance levels and each item's selections (bit masks over all ratings)."""
    if n < 1 or n_resp < 1 or n_resp > n:
        raise ValueError(f"need 1 <= n_respondents <= n_ratings, got {n_resp} and {n}")
    rng = np.random.default_rng(seed)
    tg = iam_targets(n)
    w = rng.lognormal(0.0, 1.3, n_resp)
    per = 1 + rng.multinomial(n - n_resp, w / w.sum())
    resp = rng.permutation(np.repeat(np.arange(n_resp, dtype=np.int32), per))
    days = np.sort(rng.integers(0, 366, n).astype(np.int16))
    spec_p = np.array(list(SPECIALTIES.values()))
    spec = rng.choice(len(SPECIALTIES), size=n_resp, p=spec_p / spec_p.sum()).astype(np.int8)
    # respondent heterogeneity from here on: exact counts drawn with propensities
    use = _levels(rng, resp, n_resp, tg["gates"]["use_gate"])  # 0 yes, 1 no, 2 possibly
    ben = np.full(n, -1, dtype=np.int8)
    use_pos = np.flatnonzero(use == 0)
    ben[use_pos] = _levels(rng, resp[use_pos], n_resp, tg["gates"]["benefit_gate"])
    cr = _levels(rng, resp, n_resp, {k: tg["items"][k][0] for k in _CR})
    ben_pos = np.flatnonzero(ben == 0)
    masks: dict[str, np.ndarray] = {}
    for k in (*_CI, *_USE, *_HB):
        cnt = int(tg["items"][k][0])
        if k.startswith("ci_"):                            # presented in every rating
            masks[k] = _mask(n, _select(rng, resp, n_resp, cnt))
        else:                                              # gated: presented when open
            elig = use_pos if k.startswith("use_") else ben_pos
            masks[k] = _mask(n, elig[_select(rng, resp[elig], n_resp, cnt)])
    return {"rng": rng, "targets": tg, "resp": resp, "days": days, "spec": spec, "use": use,
            "ben": ben, "cr": cr, "per": per, "masks": masks}


def _string_array(arr: Any) -> Any:
    """A pandas ``string`` array over a pyarrow string array (no copy when pandas stores
    strings in pyarrow, its default from pandas 3)."""
    dtype = pd.StringDtype()
    if dtype.storage == "pyarrow":
        return pd.arrays.ArrowStringArray(arr)
    return pd.array(arr.to_numpy(zero_copy_only=False), dtype=dtype)


def _ids(prefix: str, numbers: np.ndarray, width: int) -> Any:
    """``f"{prefix}{i:0{width}d}"`` for every ``i`` in ``numbers`` (non-negative, at most
    ``width`` digits), built as one fixed-width byte buffer rather than one Python string
    per row."""
    import pyarrow as pa

    m = len(numbers)
    step = len(prefix) + width
    buf = np.empty((m, step), dtype=np.uint8)
    buf[:, :len(prefix)] = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    rest = np.asarray(numbers, dtype=np.int64).copy()
    for j in range(step - 1, len(prefix) - 1, -1):
        buf[:, j] = 48 + rest % 10
        rest //= 10
    offsets = np.arange(0, (m + 1) * step, step, dtype=np.int64)
    return _string_array(pa.Array.from_buffers(
        pa.large_string(), m, [None, pa.py_buffer(offsets), pa.py_buffer(buf)]))


def _labels(names: Sequence[str], codes: np.ndarray) -> Any:
    """``names[code]`` for every code (a negative code is missing), as a ``string`` array."""
    import pyarrow as pa

    codes = np.asarray(codes)
    missing = codes < 0
    idx = pa.array(np.where(missing, 0, codes).astype(np.int32),
                   mask=missing if missing.any() else None)
    return _string_array(pa.array(list(names), type=pa.large_string()).take(idx))


def iter_iam_chunks(n_ratings: int = N_RATINGS, n_respondents: int = N_RESPONDENTS,
                    seed: int = 2012, *, chunk_size: int | None = None
                    ) -> Iterator[pd.DataFrame]:
    """Generate the ratings chunk by chunk (canonical wide layout, rows in date order).

    Every random choice is made once for all ratings (:func:`_plan`: the gates and
    clinical-relevance levels as small integer codes, each item's selections as a bit mask,
    ``n/8`` bytes per item); a chunk only formats its slice. So the exact counts hold over
    all chunks together, and the concatenated chunks are the same table for every
    ``chunk_size`` (10 million ratings: about 30 MB of masks, plus one chunk).
    """
    n = int(n_ratings)
    plan = _plan(n, int(n_respondents), int(seed))
    size = n if chunk_size is None else max(1, int(chunk_size))
    bounds = list(range(0, n, size)) + [n]
    spans = list(zip(bounds[:-1], bounds[1:], strict=True))
    use_open = plan["use"] == 0
    masks: dict[str, np.ndarray] = plan["masks"]
    wid_r = max(6, len(str(n)))
    wid_p = max(4, len(str(int(n_respondents))))
    specs = list(SPECIALTIES)
    crs = list(_CR)
    opts = list(_GATE_OPTIONS)
    start = np.datetime64("2012-01-01", "D")
    for a, b in spans:
        m = b - a
        idx = np.arange(a + 1, b + 1)
        r = plan["resp"][a:b]
        cols: dict[str, Any] = {
            "rating_id": _ids("R", idx, wid_r),
            "respondent_id": _ids("C", r.astype(np.int64) + 1, wid_p),
            "date": (start + plan["days"][a:b].astype("timedelta64[D]")).astype(
                "datetime64[us]"),
            "specialty": _labels(specs, plan["spec"][r]),
        }
        for k in _CI:
            cols[k] = pd.array(_bits(masks[k], a, b), dtype="Int64")
        cols["clinical_relevance"] = _labels(crs, plan["cr"][a:b])
        uo = use_open[a:b]
        cols["use_gate"] = _labels(opts, plan["use"][a:b])
        upos = np.flatnonzero(uo)
        for k in _USE:
            v = np.full(m, np.nan)
            v[upos] = _bits(masks[k], a, b)[upos]
            cols[k] = pd.array(v, dtype="Int64")
        bcode = plan["ben"][a:b]
        cols["benefit_gate"] = _labels(opts, bcode)
        bpos = np.flatnonzero(bcode == 0)
        for k in _HB:
            v = np.full(m, np.nan)
            v[bpos] = _bits(masks[k], a, b)[bpos]
            cols[k] = pd.array(v, dtype="Int64")
        yield pd.DataFrame(cols, columns=list(COLUMNS))


def generate_iam_ratings(n_ratings: int = N_RATINGS, n_respondents: int = N_RESPONDENTS,
                         seed: int = 2012) -> pd.DataFrame:
    """Generate the synthetic IAM ratings in the canonical wide layout.

    Parameters
    ----------
    n_ratings, n_respondents : int
        Size; every respondent rates at least once.
    seed : int
        Seed of :func:`numpy.random.default_rng`; the same seed gives the same table.

    Returns
    -------
    DataFrame
        ``rating_id``, ``respondent_id``, ``date``, ``specialty``, then the IAM answer
        columns, exactly as :func:`instrval.io.ratings.read_ratings` returns them
        (``Int64`` items, ``string`` levels and gate options). Every item's and gate
        option's count is exact (:func:`iam_targets`); selections are drawn with
        respondent propensities (module docstring: "Respondent heterogeneity"), so
        ratings of one respondent are alike and the relevance ratios have a design
        effect above 1.

    Examples
    --------
    >>> from instrval.datasets.iam import generate_iam_ratings
    >>> df = generate_iam_ratings(2000, 100, seed=1)
    >>> int((df["use_gate"] == "yes").sum())
    388
    """
    return pd.concat(list(iter_iam_chunks(n_ratings, n_respondents, seed)),
                     ignore_index=True)


# ---------------------------------------------------------------------- writers
def _csv_text(df: pd.DataFrame, *, header: bool = True) -> str:
    out = df.copy()
    if "date" in out.columns:
        out["date"] = out["date"].dt.strftime("%Y-%m-%d")
    return out.to_csv(index=False, header=header, lineterminator="\n", na_rep="")


def write_iam_csv(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write the canonical wide CSV (gzip-compressed when ``path`` ends in ``.gz``)."""
    data = _csv_text(df).encode("utf-8")
    if str(path).endswith(".gz"):
        import gzip
        data = gzip.compress(data, compresslevel=6, mtime=0)
    return atomic_write_bytes(path, data)


def write_iam_parquet(path: str | os.PathLike[str], n_ratings: int = N_RATINGS,
                      n_respondents: int = N_RESPONDENTS, seed: int = 2012, *,
                      chunk_size: int = 1_000_000) -> Path:
    """Generate and write ratings to Parquet chunk by chunk (one row group per chunk),
    so that 10 million ratings need only one chunk in memory."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.tmp")
    writer = None
    try:
        for chunk in iter_iam_chunks(n_ratings, n_respondents, seed, chunk_size=chunk_size):
            table = pa.Table.from_pandas(chunk, preserve_index=False)
            if writer is None:
                writer = pq.ParquetWriter(tmp, table.schema, compression="zstd")
            writer.write_table(table)
    finally:
        if writer is not None:
            writer.close()
    os.replace(tmp, p)
    return p


#: Branching logic of gate fields in the IAM's REDCap form: the health-benefit question
#: is asked only of clinicians who will use the information for a patient.
IAM_GATE_LOGIC = {"benefit_gate": "[use_gate] = '1'"}


def redcap_dictionary(instrument: Instrument, *, form: str = "iam_rating",
                      record_form: str = "clinician",
                      record_fields: Mapping[str, str] | None = None,
                      rating_fields: Mapping[str, str] | None = None,
                      gate_logic: Mapping[str, str] | None = None) -> pd.DataFrame:
    """A REDCap data dictionary for an instrument, as a rating project holds it.

    The instrument's fields are those of :func:`instrval.io.exports.redcap.redcap_dictionary`
    (one writer of data dictionaries), on the repeating ``form``; ``record_id`` and
    ``record_fields`` (text fields) go on the non-repeating ``record_form``, and
    ``rating_fields`` (text; ``date`` validated as a date) start ``form``.
    ``gate_logic`` gives gate fields their own branching logic (``{gate id: logic}``),
    e.g. :data:`IAM_GATE_LOGIC`.
    """
    from instrval.io.exports.redcap import REDCAP_COLUMNS, redcap_field_map
    from instrval.io.exports.redcap import redcap_dictionary as instrument_fields

    rows = instrument_fields(instrument)
    gates = {v["field"]: k for k, v in redcap_field_map(instrument)["gates"].items()}
    fields = {r["Variable / Field Name"] for r in rows}
    # logic that names a field the instrument does not have (a revised instrument without
    # that gate) is left out
    gate_logic = {g: lg for g, lg in (gate_logic or {}).items()
                  if all(f.lower() in fields for f in re.findall(r"\[([^\]()]+)", lg))}

    def add(name: str, frm: str, label: str, validation: str = "") -> dict[str, str]:
        return {**dict.fromkeys(REDCAP_COLUMNS, ""), "Variable / Field Name": name.lower(),
                "Form Name": frm, "Field Type": "text", "Field Label": label,
                "Text Validation Type OR Show Slider Number": validation}

    out = [{**rows[0], "Form Name": record_form}]  # record_id
    out += [add(f, record_form, lab) for f, lab in (record_fields or {}).items()]
    out += [add(f, form, lab, "date_ymd" if f == "date" else "")
            for f, lab in (rating_fields or {}).items()]
    for r in rows[1:]:
        r = {**r, "Form Name": form}
        gid = gates.get(r["Variable / Field Name"])
        if gid is not None and gate_logic and gid in gate_logic:
            r["Branching Logic (Show field only if...)"] = gate_logic[gid]
        out.append(r)
    return pd.DataFrame(out, columns=list(REDCAP_COLUMNS))


def redcap_export(df: pd.DataFrame, instrument: Instrument, *, form: str = "iam_rating",
                  record_form: str = "clinician", record_fields: tuple[str, ...] = (
                      "specialty",)) -> pd.DataFrame:
    """Turn canonical ratings into a REDCap raw record export.

    One record per respondent (``record_id`` = respondent id): a record-level row with
    ``record_fields`` and ``<record_form>_complete``, then one repeating instance of
    ``form`` per rating (``rating_id``, ``date``, the answers as codes; every check box
    0/1, also when hidden by branching logic, as REDCap writes them).
    """
    n = len(df)
    out: dict[str, Any] = {}
    resp = df["respondent_id"].astype(str).to_numpy()
    order = np.argsort(resp, kind="stable")
    d = df.iloc[order].reset_index(drop=True)
    inst_no = d.groupby("respondent_id", sort=False).cumcount().to_numpy() + 1
    out["record_id"] = d["respondent_id"].astype(str).to_numpy(dtype=object)
    out["redcap_repeat_instrument"] = np.full(n, form, dtype=object)
    out["redcap_repeat_instance"] = inst_no.astype(object)
    for f in record_fields:
        out[f] = np.full(n, "", dtype=object)
    out["rating_id"] = d["rating_id"].astype(str).to_numpy(dtype=object)
    out["date"] = d["date"].dt.strftime("%Y-%m-%d").fillna("").to_numpy(dtype=object)
    for c in instrument.constructs:
        if c.gate is not None:
            g = c.gate
            code = {o: str(g.option_code(o)) for o in g.options}
            out[g.id.lower()] = d[g.id].map(code).fillna("").to_numpy(dtype=object)
        if c.kind == "multi_select":
            for it in c.items:
                v = d[it.id].fillna(0).astype("int64").astype(str)
                out[f"{c.id.lower()}___{c.item_code(it.id)}"] = v.to_numpy(dtype=object)
        elif c.kind == "single_choice":
            code = {i: str(c.item_code(i)) for i in c.item_ids}
            out[c.id.lower()] = d[c.id].map(code).fillna("").to_numpy(dtype=object)
        else:
            for it in c.items:
                out[it.id.lower()] = d[it.id].astype("string").fillna("").to_numpy(
                    dtype=object)
    out[f"{form}_complete"] = np.full(n, "2", dtype=object)
    out[f"{record_form}_complete"] = np.full(n, "", dtype=object)
    reps = pd.DataFrame(out)
    first = d.drop_duplicates("respondent_id")
    base = pd.DataFrame({c: np.full(len(first), "", dtype=object) for c in reps.columns})
    base["record_id"] = first["respondent_id"].astype(str).to_numpy(dtype=object)
    for f in record_fields:
        base[f] = first[f].astype("string").fillna("").to_numpy(dtype=object)
    base[f"{record_form}_complete"] = "2"
    base["_k"] = 0
    reps["_k"] = 1
    base["_o"] = np.arange(len(base))
    rec_order = {r: i for i, r in enumerate(base["record_id"])}
    reps["_o"] = reps["record_id"].map(rec_order)
    allrows = pd.concat([base, reps], ignore_index=True)
    allrows = allrows.sort_values(["_o", "_k"], kind="stable").drop(columns=["_k", "_o"])
    cols = ["record_id", "redcap_repeat_instrument", "redcap_repeat_instance",
            *record_fields, f"{record_form}_complete",
            *[c for c in reps.columns if c not in ("record_id", "redcap_repeat_instrument",
                                                   "redcap_repeat_instance", "_k", "_o",
                                                   f"{record_form}_complete", *record_fields)]]
    return allrows[cols].reset_index(drop=True)


def write_iam_redcap(df: pd.DataFrame, instrument: Instrument,
                     export_path: str | os.PathLike[str],
                     dictionary_path: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ratings as a REDCap record export and its data dictionary (CSV)."""
    dd = redcap_dictionary(instrument, record_fields={"specialty": "Specialty"},
                           rating_fields={"rating_id": "Rating ID", "date": "Date of rating"},
                           gate_logic=IAM_GATE_LOGIC)
    buf = io.StringIO()
    dd.to_csv(buf, index=False, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    p2 = atomic_write_bytes(dictionary_path, buf.getvalue().encode("utf-8"))
    ex = redcap_export(df, instrument)
    text = ex.to_csv(index=False, lineterminator="\n")
    data = text.encode("utf-8")
    if str(export_path).endswith(".gz"):
        import gzip
        data = gzip.compress(data, compresslevel=6, mtime=0)
    p1 = atomic_write_bytes(export_path, data)
    return p1, p2

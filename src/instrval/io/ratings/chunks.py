"""Reading an export chunk by chunk (:func:`iter_ratings`) and adding up the chunks'
counts (:class:`RatingCounts`, :func:`count_ratings`)."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import Problem, RatingsError
from instrval.io.files import check_input_file, check_parquet, read_input_bytes
from instrval.io.ratings.detect import container_of
from instrval.io.ratings.long import LONG_COLUMNS
from instrval.io.ratings.raw import frame_table
from instrval.io.ratings.read import (
    ProgressFn,
    check_format,
    finish,
    inspect_ratings,
    resolve_mapping,
)
from instrval.model.instrument import Instrument
from instrval.model.ratings import RatingData

__all__ = ["iter_ratings", "RatingCounts", "count_ratings"]


def iter_ratings(path: str | os.PathLike[str], instrument: Instrument, *,
                 chunksize: int = 500_000, format: str | None = None, mapping: Any = None,
                 progress: ProgressFn | None = None) -> Iterator[RatingData]:
    """Read and check an export chunk by chunk, yielding one :class:`RatingData` each.

    Parquet files are streamed with ``pyarrow.parquet.ParquetFile.iter_batches`` so that
    memory stays bounded by the chunk size; other files are read whole and yielded as
    one chunk. Row numbers continue across chunks. A rating id seen in an earlier chunk
    puts the later row in the quarantine (``duplicate_id``); the earlier, already
    yielded row stays accepted (ids are compared through 64-bit hashes). Use
    :class:`RatingCounts` to add up the chunks.

    A file that is missing or cannot be opened raises :class:`~instrval.errors.RatingsError`
    (``file_not_found``, ``not_a_file``...) at the call, as :func:`read_ratings` does, not
    at the first chunk.
    """
    check_format(format)
    p = Path(path)
    head = read_input_bytes(p, error=RatingsError, what="rating export", limit=8)
    return _iter_chunks(p, head, instrument, chunksize=chunksize, format=format,
                        mapping=mapping, progress=progress)


def _iter_chunks(p: Path, head: bytes, instrument: Instrument, *, chunksize: int,
                 format: str | None, mapping: Any, progress: ProgressFn | None
                 ) -> Iterator[RatingData]:
    if container_of(p, head) != "parquet":
        yield inspect_ratings(p, instrument, format=format, mapping=mapping,
                              progress=progress)
        return
    import pyarrow.parquet as pq

    cmap = resolve_mapping(mapping, instrument)
    size = check_input_file(p, error=RatingsError, what="rating export", max_bytes=0)
    try:
        pf = pq.ParquetFile(p)
    except Exception as exc:  # pyarrow.ArrowInvalid, OSError
        raise RatingsError(f"{p}: cannot read the Parquet file: {exc}",
                           [Problem("unreadable", str(exc), file=str(p))]) from None
    check_parquet(pf.metadata, file=str(p), error=RatingsError, what="rating export",
                  whole=False, file_bytes=size)
    total = pf.metadata.num_rows
    offset = 0
    seen: list[np.ndarray] = []
    fmt = format
    for batch in pf.iter_batches(batch_size=chunksize):
        df = batch.to_pandas()
        if fmt is None:
            fmt = "long" if {str(c).lower() for c in df.columns} >= LONG_COLUMNS else "wide"
        raw = frame_table(df, file=str(p), fmt=fmt, first_row=offset + 2)
        rd = finish(raw, instrument, fmt=fmt, mapping=cmap, ddict=None, digest=None,
                    extra_source={"chunk_offset": offset})
        rd = _cross_chunk_duplicates(rd, seen)
        offset += len(df)
        if progress is not None:
            progress(offset, total)
        yield rd


def _cross_chunk_duplicates(rd: RatingData, seen: list[np.ndarray]) -> RatingData:
    ids = rd.data["rating_id"].to_numpy(dtype=object)
    h = pd.util.hash_array(ids)
    dup = np.zeros(len(h), dtype=bool)
    for s in seen:
        i = np.searchsorted(s, h)
        i[i == len(s)] = 0
        dup |= s[i] == h
    seen.append(np.sort(h))
    if not dup.any():
        return rd
    pos = np.flatnonzero(dup)
    bad = rd.data.iloc[pos]
    msg = "rating id also appears in an earlier chunk; this copy is quarantined"
    probs = [Problem("duplicate_id", f"rating id {r!r}: {msg}", file=rd.source.get("file"),
                     column="rating_id", value=r) for r in bad["rating_id"]]
    cells = bad.astype("string").reset_index(drop=True)
    q = pd.concat([pd.DataFrame({"row": pd.array([pd.NA] * len(pos), dtype="Int64"),
                                 "reason": "duplicate_id", "message": msg}), cells], axis=1)
    quarantine = pd.concat([rd.quarantine, q], ignore_index=True)
    data = rd.data.drop(index=rd.data.index[pos]).reset_index(drop=True)
    return RatingData(instrument=rd.instrument, data=data, quarantine=quarantine,
                      problems=rd.problems + tuple(probs), source=rd.source)


@dataclass
class RatingCounts:
    """Counts added up over chunks of checked ratings (see :func:`iter_ratings`).

    ``selected[item]`` counts ratings presenting the item's construct in which the item
    was selected (cell = 1) - the numerator of a relevance ratio whose denominator is
    ``presented[construct]``; single-choice levels count the ratings choosing them.
    """

    instrument: Instrument
    read: int = 0
    accepted: int = 0
    quarantined: int = 0
    respondent_ids: set[str] = field(default_factory=set)
    presented: dict[str, int] = field(default_factory=dict)
    gates_open: dict[str, int] = field(default_factory=dict)
    selected: dict[str, int] = field(default_factory=dict)
    reasons: dict[str, int] = field(default_factory=dict)
    date_min: pd.Timestamp | None = None
    date_max: pd.Timestamp | None = None
    chunks: int = 0

    def add(self, rd: RatingData) -> RatingCounts:
        """Add one chunk's counts; returns self."""
        self.chunks += 1
        self.read += rd.n_read
        self.accepted += rd.n_accepted
        self.quarantined += rd.n_quarantined
        self.respondent_ids.update(rd.data["respondent_id"].dropna().unique().tolist())
        for c in self.instrument.constructs:
            pres = rd.presented(c)
            self.presented[c.id] = self.presented.get(c.id, 0) + int(pres.sum())
            if c.kind == "single_choice":
                vc = rd.data.loc[pres.to_numpy(), c.id].value_counts()
                for it in c.item_ids:
                    self.selected[it] = self.selected.get(it, 0) + int(vc.get(it, 0))
            else:
                for it in c.item_ids:
                    v = rd.data[it].to_numpy(dtype="float64", na_value=np.nan)
                    k = int(((v == 1) & pres.to_numpy()).sum())
                    self.selected[it] = self.selected.get(it, 0) + k
        for g in self.instrument.gates:
            self.gates_open[g.id] = self.gates_open.get(g.id, 0) + int(rd.gate_open(g.id).sum())
        for p in rd.problems:
            self.reasons[p.reason] = self.reasons.get(p.reason, 0) + 1
        dr = rd.date_range()
        if dr is not None:
            self.date_min = dr[0] if self.date_min is None else min(self.date_min, dr[0])
            self.date_max = dr[1] if self.date_max is None else max(self.date_max, dr[1])
        return self

    @property
    def respondents(self) -> int:
        return len(self.respondent_ids)

    def to_dict(self) -> dict[str, Any]:
        return {"read": self.read, "accepted": self.accepted,
                "quarantined": self.quarantined, "respondents": self.respondents,
                "date_min": self.date_min.date().isoformat() if self.date_min is not None
                else None,
                "date_max": self.date_max.date().isoformat() if self.date_max is not None
                else None,
                "presented": dict(self.presented), "gates_open": dict(self.gates_open),
                "selected": dict(self.selected), "problems_by_reason": dict(self.reasons),
                "chunks": self.chunks}


def count_ratings(chunks: Iterable[RatingData], instrument: Instrument) -> RatingCounts:
    """Add up the counts of chunks from :func:`iter_ratings`."""
    total = RatingCounts(instrument=instrument)
    for rd in chunks:
        total.add(rd)
    return total

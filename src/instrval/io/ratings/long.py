"""Long rating tables (one line per answer) pivoted to one record per rating."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from instrval.errors import Problem, RatingsError
from instrval.io.ratings.raw import RawTable
from instrval.model.instrument import Instrument
from instrval.validate.ratings import as_text

__all__ = ["LONG_COLUMNS", "pivot_long"]

#: The columns that make a table long.
LONG_COLUMNS = {"rating_id", "respondent_id", "item_id", "value"}


def pivot_long(raw: RawTable, instrument: Instrument) -> RawTable:
    """Turn a long table (one line per answer) into one record per rating."""
    df = raw.frame
    cols = {c.lower(): c for c in df.columns}
    missing = [c for c in ("rating_id", "respondent_id", "item_id", "value") if c not in cols]
    if missing:
        raise RatingsError.from_problems(
            [Problem("missing_id_column", f"a long table needs a {c!r} column", file=raw.file,
                     column=c) for c in missing], raw.file or "the long table")
    rid = as_text(df[cols["rating_id"]])
    resp = as_text(df[cols["respondent_id"]])
    item = as_text(df[cols["item_id"]])
    value = as_text(df[cols["value"]])
    extra = [c for c in df.columns if c.lower() not in LONG_COLUMNS]
    rows = raw.rows
    levels = {it.id.lower(): (c.id, it.id) for c in instrument.constructs
              if c.kind == "single_choice" for it in c.items}
    targets = {x.lower(): x for x in (*(c.id for c in instrument.constructs
                                        if c.kind == "single_choice"),
                                      *(g.id for g in instrument.gates),
                                      *(it.id for c in instrument.constructs
                                        if c.kind != "single_choice" for it in c.items))}
    n = len(df)
    col_t = np.empty(n, dtype=object)
    val_t = value.to_numpy(dtype=object).copy()
    err: dict[int, list[tuple[str, str, str | None]]] = {}
    drop = np.zeros(n, dtype=bool)
    item_l = item.str.lower().to_numpy(dtype=object)
    for i in range(n):  # one pass over lines: long files are modest
        k = item_l[i]
        if k is pd.NA or k is None:
            err.setdefault(i, []).append(("unknown_item", "the item_id is blank", None))
            continue
        if k in levels:
            cid, lid = levels[k]
            v = val_t[i]
            if v in ("1", "1.0", "true", "TRUE", "True"):
                col_t[i], val_t[i] = cid, lid
            elif v in ("0", "0.0", "false", "FALSE", "False") or v is pd.NA:
                drop[i] = True
            else:
                err.setdefault(i, []).append((
                    "invalid_level", f"{v!r} for level {lid} (write 1 for the chosen level)",
                    "value"))
            continue
        t = targets.get(k)
        if t is None:
            err.setdefault(i, []).append((
                "unknown_item", f"{item.iat[i]!r} is not an item, single-choice construct "
                f"or gate of {instrument.label}", "item_id"))
            continue
        col_t[i] = t
    keyed = pd.DataFrame({"rating_id": rid, "col": col_t, "pos": np.arange(n)})
    rid_blank = rid.isna().to_numpy()
    valid = ~rid_blank & ~drop & pd.notna(col_t)
    dups = keyed[valid].duplicated(["rating_id", "col"], keep=False)
    for p in keyed[valid].loc[dups.to_numpy(), "pos"]:
        err.setdefault(int(p), []).append((
            "duplicate_entry", f"rating {rid.iat[p]!r} answers {col_t[p]} on more than one "
            "line", "item_id"))
    first_resp = resp.groupby(rid, sort=False).transform("first")
    incons = (~rid_blank & resp.notna().to_numpy() & first_resp.notna().to_numpy()
              & (resp.fillna("") != first_resp.fillna("")).to_numpy())
    for p in np.flatnonzero(incons):
        err.setdefault(int(p), []).append((
            "inconsistent_respondent", f"rating {rid.iat[p]!r} has respondent "
            f"{resp.iat[p]!r} here and {first_resp.iat[p]!r} on its first line",
            "respondent_id"))
    # ratings to quarantine whole
    bad_ratings = {rid.iat[p] for p in err if rid.iat[p] is not pd.NA}
    qrecs: list[dict[str, Any]] = []
    problems = list(raw.problems)
    for p in np.flatnonzero(rid_blank):
        qrecs.append({"row": int(rows[p]), "reason": "blank_id",
                      "message": "the rating id is blank", "rating_id": "",
                      "respondent_id": resp.iat[p] if resp.iat[p] is not pd.NA else "",
                      "rows": str(int(rows[p])),
                      "cells": f"{item.iat[p]}={value.iat[p]}"})
        problems.append(Problem("blank_id", "the rating id is blank", file=raw.file,
                                row=int(rows[p]), column="rating_id"))
    for p in sorted(err):
        for reason, msg, column in err[p]:
            problems.append(Problem(reason, msg, file=raw.file, row=int(rows[p]),
                                    column=column, value=value.iat[p] if column == "value"
                                    else (item.iat[p] if column == "item_id" else None)))
    in_bad = rid.isin(bad_ratings).fillna(False).to_numpy(dtype=bool) & ~rid_blank
    if in_bad.any():
        sub = pd.DataFrame({"rating_id": rid[in_bad], "respondent_id": resp[in_bad],
                            "row": rows[in_bad], "cell": (item[in_bad].fillna("") + "=" +
                                                          value[in_bad].fillna("")),
                            "pos": np.flatnonzero(in_bad)})
        for r_id, g in sub.groupby("rating_id", sort=False):
            reasons: list[str] = []
            msgs: list[str] = []
            for p in g["pos"]:
                for reason, msg, _ in err.get(int(p), []):
                    if reason not in reasons:
                        reasons.append(reason)
                    msgs.append(f"row {int(rows[p])}: {msg}")
            qrecs.append({"row": int(g["row"].iloc[0]), "reason": ";".join(reasons),
                          "message": "; ".join(msgs), "rating_id": r_id,
                          "respondent_id": g["respondent_id"].iloc[0],
                          "rows": ",".join(str(int(x)) for x in g["row"]),
                          "cells": "; ".join(g["cell"].astype(str))})
    q = pd.DataFrame(qrecs, columns=["row", "reason", "message", "rating_id",
                                     "respondent_id", "rows", "cells"])
    q = pd.concat([raw.quarantine, q], ignore_index=True) if len(raw.quarantine) else q
    ok = valid & ~in_bad
    good = pd.DataFrame({"rating_id": rid[ok], "col": col_t[ok], "value": val_t[ok],
                         "row": rows[ok]})
    # ratings with no usable line at all (every line dropped as "level not chosen")
    all_r = rid[~rid_blank & ~in_bad]
    order = pd.unique(all_r.to_numpy(dtype=object))
    wide = good.pivot(index="rating_id", columns="col", values="value") if len(good) else \
        pd.DataFrame(index=pd.Index([], name="rating_id"))
    wide = wide.reindex(order)
    first = pd.DataFrame({"rating_id": rid, "row": rows, "resp": resp})[~rid_blank & ~in_bad]
    first = first.drop_duplicates("rating_id").set_index("rating_id").reindex(order)
    out = pd.DataFrame({"rating_id": pd.array(order, dtype="string"),
                        "respondent_id": first["resp"].to_numpy(dtype=object)})
    for c in extra:
        firstval = as_text(df[c])[~rid_blank & ~in_bad].groupby(
            rid[~rid_blank & ~in_bad], sort=False).first()
        out[c] = firstval.reindex(order).to_numpy(dtype=object)
    for c in wide.columns:
        out[str(c)] = wide[c].to_numpy(dtype=object)
    line_rows = pd.DataFrame({"rating_id": rid, "row": rows})[~rid_blank & ~in_bad]
    rows_of = line_rows.groupby("rating_id", sort=False)["row"].agg(
        lambda s: ",".join(map(str, s))).reindex(order)
    cells_tbl = pd.DataFrame({"rating_id": rid, "cell": item.fillna("") + "=" +
                              value.fillna("")})[~rid_blank & ~in_bad]
    cells_of = cells_tbl.groupby("rating_id", sort=False)["cell"].agg("; ".join).reindex(
        order)

    def rawfn(positions: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame({
            "rating_id": out["rating_id"].iloc[positions].fillna("").to_numpy(dtype=object),
            "respondent_id": out["respondent_id"].iloc[positions].fillna("").to_numpy(
                dtype=object),
            "rows": rows_of.iloc[positions].to_numpy(dtype=object),
            "cells": cells_of.iloc[positions].to_numpy(dtype=object)}).astype("string")

    res = RawTable(frame=out, rows=first["row"].to_numpy(dtype=np.int64), file=raw.file,
                   format="long", quarantine=q, problems=problems, raw=rawfn,
                   details=dict(raw.details, lines=n))
    return res


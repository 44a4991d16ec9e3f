"""Generate the synthetic IAM example data (see instrval.datasets.iam).

Run from the repository root:

    python examples/iam/generate.py            # sample files + full CSV.gz
    python examples/iam/generate.py --full     # also the uncompressed 234,196-row CSV,
                                               # the full REDCap export and Parquet

Equivalent command: ``instrval ratings generate-iam --out examples/iam/data``.
Exact published counts; respondents differ (a propensity per respondent and item, SD 0.25
on the log scale), so the relevance ratios have design effects of about 1.5-10.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from instrval import read_instrument
from instrval.datasets.iam import (
    generate_iam_ratings,
    write_iam_csv,
    write_iam_parquet,
    write_iam_redcap,
)

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
SAMPLE_N, SAMPLE_RESPONDENTS, SEED = 3000, 72, 2012


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=HERE / "data")
    ap.add_argument("--full", action="store_true",
                    help="also write the uncompressed full CSV, REDCap export and Parquet")
    args = ap.parse_args()
    out: Path = args.out
    iam = read_instrument(ROOT / "instruments" / "iam" / "iam-2011.yaml")
    sample = generate_iam_ratings(SAMPLE_N, SAMPLE_RESPONDENTS, seed=SEED)
    write_iam_csv(sample, out / "iam-sample.csv")
    write_iam_redcap(sample, iam, out / "iam-sample-redcap.csv",
                     out / "iam-redcap-dictionary.csv")
    full = generate_iam_ratings(seed=SEED)
    write_iam_csv(full, out / "iam-ratings-2012.csv.gz")
    if args.full:
        write_iam_csv(full, out / "iam-ratings-2012.csv")
        write_iam_redcap(full, iam, out / "iam-redcap.csv.gz",
                         out / "iam-redcap-dictionary.csv")
        write_iam_parquet(out / "iam-ratings-2012.parquet", seed=SEED)
    print(f"wrote the IAM example data to {out}")


if __name__ == "__main__":
    main()

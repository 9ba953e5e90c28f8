"""INIT priors: the previous priors against the lambda-perf fit, both checked on the held-out 2025 months.

Reads the bundled lambda-perf per-sample table (``data/measurements/lambda-perf-2022-2025``) and checks the
bundled priors file (fitted on the months before 2025) on the 2025 months, printing side by side for the old
priors and the new ones, over every runtime x architecture x package group measured in 2025:

1. the share of groups whose prior median is within +-30% of the group's 2025 measured median (overall, by
   package type, by family, by architecture; SnapStart restores apart) and the band's coverage of single 2025
   cold starts;
2. the recency half-life: the inner check that chose it (fit before 2024-07, check on 2024-07..12) and what each
   candidate would have scored on 2025;
3. the worst groups of each.

Run: ``.venv/bin/python benchmarks/bench_init_priors.py``.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pandas as pd

from lambda_workbook import initfit, initpriors
from lambda_workbook.memory import runtime_family

TABLE = (Path(__file__).resolve().parents[1] / "data" / "measurements" / "lambda-perf-2022-2025"
         / "lambda_perf_init_samples.csv.gz")
HELD_OUT = "2025"
# The priors before this change (data/coldstarts/init_priors.json, schema init-priors/1): a figure per runtime
# family for zip packages (cebert 2025 medians for Python/Node.js/Rust-on-provided, Shilkov's 2021 end-to-end
# medians elsewhere, x0.5/x2 where no band was published) and one figure for every container image.
OLD_ZIP = {"python": (123.5, 88.1, 477.6), "nodejs": (154.3, 128.9, 347.1), "java": (370.0, 280.0, 690.0),
           "dotnet": (520.0, 260.0, 1040.0), "ruby": (280.0, 140.0, 560.0), "go": (310.0, 155.0, 620.0),
           "provided": (21.4, 16.2, 97.3)}
OLD_IMAGE = (790.0, 620.0, 1400.0)


def old_check(samples: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for (runtime, arch, package, snap), part in samples.groupby(["runtime", "arch", "package_type", "snapstart"]):
        mid, lo, hi = OLD_IMAGE if package == "image" else OLD_ZIP[runtime_family(runtime)]
        values = part["init_ms"].to_numpy()
        measured = float(np.median(values))
        rows.append({"runtime": runtime, "arch": arch, "package_type": package, "snapstart": bool(snap),
                     "family": runtime_family(runtime), "n": len(values), "measured_ms": measured, "prior_ms": mid,
                     "low_ms": lo, "high_ms": hi, "ratio": mid / measured, "level": "family",
                     "within": abs(mid / measured - 1) <= 0.3,
                     "coverage": float(np.mean((values >= lo) & (values <= hi)))})
    return pd.DataFrame(rows)


def _share(result: pd.DataFrame, by: str | None = None) -> pd.Series:
    if by is None:
        return pd.Series({"all": result["within"].mean()})
    return result.groupby(by)["within"].mean()


def side_by_side(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for label, by in (("overall", None), ("package", "package_type"), ("family", "family"), ("arch", "arch")):
        o, n = _share(old, by), _share(new, by)
        counts = new.groupby(by).size() if by else pd.Series({"all": len(new)})
        for key in n.index:
            rows.append({"cut": label, "group": key, "groups": int(counts[key]), "old within 30%": f"{o[key]:.0%}",
                         "new within 30%": f"{n[key]:.0%}"})
    rows.append({"cut": "band", "group": "coverage of single cold starts", "groups": len(new),
                 "old within 30%": f"{initfit.summary(old)['band_coverage']:.0%}",
                 "new within 30%": f"{initfit.summary(new)['band_coverage']:.0%}"})
    return pd.DataFrame(rows)


def worst(result: pd.DataFrame, k: int = 8) -> pd.DataFrame:
    out = result.assign(err=np.abs(np.log(result["ratio"]))).sort_values("err", ascending=False).head(k)
    return out[["runtime", "arch", "package_type", "measured_ms", "prior_ms", "ratio", "level", "coverage"]].round(2)


def half_life_table(train: pd.DataFrame, test: pd.DataFrame) -> pd.DataFrame:
    chosen, inner = initfit.choose_half_life(train)
    rows = []
    for h, row in zip(initfit.HALF_LIVES, inner.itertuples(), strict=True):
        res = initfit.check(initfit.fit(train, half_life_months=h), test)
        plain = res[~res["snapstart"]]
        rows.append({"half-life (months)": h or "none", "chosen": "<-" if h == chosen else "",
                     "inner |log ratio|": round(row.mean_abs_log_ratio, 3), "inner within 30%": f"{row.within_30:.0%}",
                     "2025 |log ratio|": round(float(np.mean(np.abs(np.log(plain["ratio"])))), 3),
                     "2025 within 30%": f"{plain['within'].mean():.0%}",
                     "2025 band coverage": f"{initfit.summary(plain)['band_coverage']:.0%}"})
    return pd.DataFrame(rows)


def main() -> None:
    start = time.perf_counter()
    samples = initfit.samples_from_table(pd.read_csv(TABLE))[0]
    train, test = samples[samples["month"] < HELD_OUT], samples[samples["month"] >= HELD_OUT]
    doc = initpriors.priors()      # the bundled file, fitted before the held-out months
    if doc["fitted_on"]["to"] >= HELD_OUT:
        raise SystemExit(f"the bundled priors were fitted up to {doc['fitted_on']['to']}: not a held-out check")
    new_all, old_all = initfit.check(doc, test), old_check(test)
    new, old = new_all[~new_all["snapstart"]], old_all[~old_all["snapstart"]]
    pd.set_option("display.width", 200)
    print(f"lambda-perf samples: {len(train):,} before {HELD_OUT} (fit), {len(test):,} in {HELD_OUT} (held out); "
          f"new priors fitted on {doc['fitted_on']['from']}..{doc['fitted_on']['to']}, half-life "
          f"{doc['method']['half_life_months']} months")
    print(f"\n1. groups within +-30% of the {HELD_OUT} median (prior median vs measured median)")
    print(side_by_side(old, new).to_string(index=False))
    snap_new, snap_old = new_all[new_all["snapstart"]], old_all[old_all["snapstart"]]
    print(f"SnapStart restores ({len(snap_new)} groups): old (Java INIT figure) {snap_old['within'].mean():.0%}, "
          f"new {snap_new['within'].mean():.0%} within 30%; new band coverage "
          f"{initfit.summary(snap_new)['band_coverage']:.0%}")
    levels = new["level"].value_counts().to_dict()
    print(f"new lookups by level: {levels}; fallbacks within 30%: "
          f"{new.loc[new['level'] != 'exact', 'within'].mean():.0%}")
    print("\n2. recency half-life: inner check (fit < 2024-07, check 2024-07..12) and the 2025 result of each")
    print(half_life_table(train, test[~test["snapstart"]]).to_string(index=False))
    print("\n3a. worst groups, old priors")
    print(worst(old).to_string(index=False))
    print("\n3b. worst groups, new priors")
    print(worst(new).to_string(index=False))
    print(f"\n({time.perf_counter() - start:.1f} s)")


if __name__ == "__main__":
    main()

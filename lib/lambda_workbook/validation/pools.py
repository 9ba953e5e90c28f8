"""What was measured for one curve at one memory size, as a pool REPORT lines are drawn from.

A :class:`Pool` holds, for one (data set, curve, size), the durations warm lines take, the durations and Init
Durations cold lines take, and Max Memory Used. Two kinds:

* **per-invocation** sets (s3-put-io-2023, arm-vs-x86-node-2023, faasdom-2020, the demystifying-costs-2025 2%
  sample): lines resample the measured invocations at that size. faasdom-2020 published handler timings, not
  REPORT lines: they are used as Duration (no runtime overhead in them). s3-put-io-2023 measured cold starts
  only (Duration excludes INIT): its rows serve as warm lines, and as cold lines together with their own Init
  Duration.
* **summary** sets (cebert-2025, powertuning-unfaasener-2022) publish means only: lines come from a log-normal
  with that mean, its spread from the published p99 (cebert) or :data:`POWERTUNING_SIGMA` (an assumption).
  cebert-2025 also measured cold starts (handler mean and p99 of the cold invocation, mean Init Duration), and
  its cold lines come from those rows.

Where a set has no cold starts, a cold line is a warm draw plus an INIT resampled from the lambda-perf
hello-world cold starts of the same runtime (Maxime David, *lambda-perf*, https://github.com/maxday/lambda-perf;
``data/measurements/lambda-perf-2022-2025``): a floor, since a real package adds to it.
Billed Duration follows today's rule (``ceil(duration + INIT)``, INIT billed since 2025-08-01) rather than the
set's own column, which equals it on warm lines.

:meth:`Pool.expect` gives the exact expectation of that line-drawing process at a cold-start share: the
*truth* a memory recommendation is scored against.
"""

from __future__ import annotations

import math
import zlib
from dataclasses import dataclass
from functools import lru_cache
from statistics import NormalDist

import numpy as np
import pandas as pd

from .. import billing
from ..memory import runtime_family
from . import datasets

SETS = ("cebert-2025", "powertuning-unfaasener-2022", "s3-put-io-2023", "arm-vs-x86-node-2023", "faasdom-2020",
        "demystifying-costs-2025")
SUMMARY_SETS = ("cebert-2025", "powertuning-unfaasener-2022")
POWERTUNING_SIGMA = 0.25      # assumption: log-sd of single invocations (the set publishes trimmed means only)
CODE_SIZE_BYTES = 512 * 1024  # assumption: a small zip package (configuration only)
USED_JITTER_SD = 0.03         # assumption: log-sd of Max Memory Used between invocations (summary sets)
GRID = 1000                   # quantile points standing for a log-normal in the expectations
INIT_GRID = 200
_Z99 = NormalDist().inv_cdf(0.99)

# runtime ids where the set's own name is not one: cebert names languages, two sets name none
_CEBERT_RUNTIMES = {"nodejs20": "nodejs20.x", "nodejs22": "nodejs22.x", "rust": "provided.al2023"}
ASSUMED_RUNTIMES = {
    "powertuning-unfaasener-2022": "python3.9",     # the set says Python only; 3.9 assumed (Sep 2022)
    "demystifying-costs-2025": "python3.12",        # the artefact does not publish the runtime; assumed
}


def runtime_id(dataset: str, runtime: str) -> str:
    """The Lambda runtime id a deployed copy of a curve gets (see :data:`ASSUMED_RUNTIMES`)."""
    if dataset in ASSUMED_RUNTIMES:
        return ASSUMED_RUNTIMES[dataset]
    if dataset == "cebert-2025":
        return _CEBERT_RUNTIMES.get(runtime, runtime)
    if not runtime:
        raise ValueError(f"{dataset}: a curve without a runtime and no assumed runtime for the set")
    return runtime


def pair_key(curve: str, arch: str) -> str:
    """The curve's name without its architecture: curves that differ only by arch share it."""
    suffix = "/" + arch
    return curve[: -len(suffix)] if curve.endswith(suffix) else curve


def lognormal_sigma(mean: float, p99: float) -> float:
    """Log-sd of a log-normal with this mean and p99 (the smaller root; capped where none exists)."""
    r = math.log(max(p99, mean * 1.0001) / mean)
    disc = _Z99 ** 2 - 2.0 * r
    return _Z99 - math.sqrt(disc) if disc > 0 else _Z99


@lru_cache(maxsize=8)
def _z(k: int) -> np.ndarray:
    nd = NormalDist()
    return np.array([nd.inv_cdf((i + 0.5) / k) for i in range(k)])


def lognormal_grid(mean: float, sigma: float, k: int = GRID) -> np.ndarray:
    """``k`` quantiles of a log-normal, scaled so that their average is exactly ``mean``."""
    x = np.exp(sigma * _z(k))
    return x * (mean / x.mean())


@dataclass
class Pool:
    """Measurements of one curve at one size and how lines are drawn from them (see the module doc)."""

    dataset: str
    curve: str
    arch: str
    runtime: str
    memory_mb: float
    source: str
    warm_ms: np.ndarray                   # per-invocation durations, or a log-normal's quantile grid
    warm_used: np.ndarray
    cold_ms: np.ndarray
    cold_used: np.ndarray
    cold_init: np.ndarray | None = None   # Init Duration paired with cold_ms (measured on the same rows)
    init_grid: np.ndarray | None = None   # INIT drawn independently of the cold duration
    warm_logn: tuple[float, float] | None = None   # (mean, sigma): warm lines drawn from this log-normal
    cold_logn: tuple[float, float] | None = None
    mean_ms: float | None = None          # published mean when it is better than the rows' (demystifying)
    billed_ms: float | None = None
    cold_is_warm: bool = False            # no cold measurements: cold lines reuse the warm ones

    def expect(self, cold_share: float) -> dict[str, float]:
        """Expected Duration, Billed Duration (INIT included on cold lines) and INIT at ``cold_share``."""
        s = float(cold_share)
        e_w = float(self.warm_ms.mean()) if self.mean_ms is None else self.mean_ms
        b_w = float(billing.billed_ms(self.warm_ms).mean()) if self.billed_ms is None else self.billed_ms
        if self.cold_init is not None:
            b_c_raw = billing.billed_ms(self.cold_ms, self.cold_init).mean()
            init = float(self.cold_init.mean())
        else:
            b_c_raw = billing.billed_ms(self.cold_ms[:, None], self.init_grid[None, :]).mean()
            init = float(self.init_grid.mean())
        if self.cold_is_warm:
            e_c = e_w
            b_c = b_w + float(b_c_raw - billing.billed_ms(self.cold_ms).mean())
        else:
            e_c, b_c = float(self.cold_ms.mean()), float(b_c_raw)
        return {"mean_ms": (1 - s) * e_w + s * e_c, "billed_ms": (1 - s) * b_w + s * b_c, "init_ms": init,
                "max_ms": float(max(self.warm_ms.max(), self.cold_ms.max()) + init)}

    def draw(self, n_warm: int, n_cold: int, rng: np.random.Generator):
        """``n_warm`` warm then ``n_cold`` cold lines: (duration, init (NaN when warm), max memory used)."""
        if self.warm_logn:
            m, sg = self.warm_logn
            d_w = m * rng.lognormal(-sg ** 2 / 2, sg, n_warm)
            u_w = self.warm_used[rng.integers(0, self.warm_used.size, n_warm)]
        else:
            i = rng.integers(0, self.warm_ms.size, n_warm)
            d_w, u_w = self.warm_ms[i], self.warm_used[i]
        if self.cold_logn:
            m, sg = self.cold_logn
            d_c = m * rng.lognormal(-sg ** 2 / 2, sg, n_cold)
            u_c = self.cold_used[rng.integers(0, self.cold_used.size, n_cold)]
        else:
            j = rng.integers(0, self.cold_ms.size, n_cold)
            d_c, u_c = self.cold_ms[j], self.cold_used[j]
        if self.cold_init is not None and not self.cold_logn:
            i_c = self.cold_init[j]
        elif self.cold_init is not None:
            i_c = self.cold_init[rng.integers(0, self.cold_init.size, n_cold)]
        else:
            i_c = self.init_grid[rng.integers(0, self.init_grid.size, n_cold)]
        used = np.minimum(np.concatenate([u_w, u_c]), self.memory_mb)
        return (np.concatenate([d_w, d_c]), np.concatenate([np.full(n_warm, np.nan), i_c]), used)


def _rng(*parts) -> np.random.Generator:
    return np.random.default_rng([zlib.crc32("/".join(map(str, parts)).encode())])


@lru_cache(maxsize=1)
def used_baselines() -> dict[str, float]:
    """Median Max Memory Used by runtime family in the per-invocation sets that publish it."""
    inv = datasets.invocations()
    inv = inv[inv["max_memory_used_mb"].notna()]
    fam = inv["runtime"].map(runtime_family)
    out = inv.groupby(fam)["max_memory_used_mb"].median().to_dict()
    out.pop("unknown", None)
    return {k: float(v) for k, v in out.items()}


def _used_base(runtime: str, smallest_mb: float) -> float:
    base = used_baselines()
    fam = runtime_family(runtime)
    fam = {"go": "provided", "rust": "provided"}.get(fam, fam)  # compiled binaries: the custom-runtime median
    value = base.get(fam, float(np.median(list(base.values()))))
    return min(value, 0.9 * smallest_mb)   # it ran at the smallest size, so it fits there


@lru_cache(maxsize=1)
def init_sigma() -> float:
    """Log-sd of Init Duration at one size: the median over s3-put-io-2023's sizes (measured)."""
    s3 = datasets.invocations("s3-put-io-2023")
    cv = s3.groupby(["curve", "memory_mb"])["init_duration_ms"].agg(lambda x: x.std(ddof=1) / x.mean())
    return float(math.sqrt(math.log1p(float(cv.median()) ** 2)))


@lru_cache(maxsize=1)
def _hello_world_inits() -> pd.DataFrame:
    d = pd.read_csv(datasets.measurements_dir() / "lambda-perf-2022-2025" / "lambda_perf_init_samples.csv.gz",
                    usecols=["runtime", "arch", "package_type", "snapstart", "init_duration_ms"])
    d = d[(d["package_type"] == "zip") & (d["snapstart"] == 0) & (d["init_duration_ms"] > 0)]
    return d.assign(family=d["runtime"].map(runtime_family))


@lru_cache(maxsize=64)
def measured_init_grid(runtime: str, arch: str) -> tuple[np.ndarray, str]:
    """INIT quantiles for a set without cold starts: lambda-perf's hello-world cold starts of the same runtime
    (and arch when measured), else of its runtime family. A floor: a real package adds to it."""
    d = _hello_world_inits()
    fam = runtime_family(runtime)
    for mask, what in (((d["runtime"] == runtime) & (d["arch"] == arch), runtime),
                       (d["runtime"] == runtime, runtime),
                       ((d["family"] == fam) & (d["arch"] == arch), f"{fam} runtimes"),
                       (d["family"] == fam, f"{fam} runtimes")):
        values = d.loc[mask, "init_duration_ms"].to_numpy(float)
        if values.size >= 20:
            q = (np.arange(INIT_GRID) + 0.5) / INIT_GRID
            return np.quantile(values, q), f"INIT resampled from lambda-perf hello-world cold starts ({what})"
    raise ValueError(f"no lambda-perf INIT measurements for runtime {runtime!r} or its family {fam!r}")


def _cebert_cold() -> pd.DataFrame:
    d = pd.read_csv(datasets.measurements_dir() / "cebert-2025" / "cebert_lambda_benchmarks_tidy.csv")
    d = d[d["start_type"] == "cold"]
    return pd.DataFrame({"curve": d["run"] + "/" + d["workload"] + "/" + d["runtime"] + "/" + d["arch"],
                         "memory_mb": d["memory_mb"].astype(float), "cold_mean_ms": d["mean_duration_ms"],
                         "cold_p99_ms": d["p99_duration_ms"], "init_mean_ms": d["mean_init_ms"]})


def _demystifying_billed() -> pd.Series:
    d = pd.read_csv(datasets.measurements_dir() / "demystifying-costs-2025" / "cpu_overallocation_summary_by_memory.csv")
    return d.set_index(d["memory_mb"].astype(float))["mean_billed_duration_ms"].astype(float)


def _summary_pools(c: pd.DataFrame, cold: pd.DataFrame) -> list[Pool]:
    out = []
    cold = cold.set_index(["curve", "memory_mb"])
    for (ds, curve), g in c.groupby(["dataset", "curve"], sort=True):
        runtime = runtime_id(ds, g["runtime"].iloc[0])
        arch = g["arch"].iloc[0]
        base = _used_base(runtime, float(g["memory_mb"].min()))
        rng = _rng(ds, curve, "used")
        used = np.round(base * np.exp(USED_JITTER_SD * rng.standard_normal(GRID)))
        init, init_note = measured_init_grid(runtime, arch)
        for r in g.itertuples():
            if ds == "cebert-2025":
                sw = lognormal_sigma(r.mean_ms, r.p99_ms)
                source = "log-normal from the published mean and p99"
            else:
                sw = POWERTUNING_SIGMA
                source = f"log-normal around the published (trimmed) mean, log-sd {POWERTUNING_SIGMA} assumed"
            pool = Pool(ds, curve, arch, runtime, float(r.memory_mb), source, lognormal_grid(r.mean_ms, sw), used,
                        lognormal_grid(r.mean_ms, sw), used, warm_logn=(float(r.mean_ms), sw),
                        cold_logn=(float(r.mean_ms), sw), init_grid=init, mean_ms=float(r.mean_ms), cold_is_warm=True)
            pool.source += "; " + init_note
            if (curve, r.memory_mb) in cold.index:
                k = cold.loc[(curve, r.memory_mb)]
                sc = lognormal_sigma(k["cold_mean_ms"], k["cold_p99_ms"])
                pool.cold_ms = lognormal_grid(k["cold_mean_ms"], sc)
                pool.cold_logn = (float(k["cold_mean_ms"]), sc)
                pool.init_grid = lognormal_grid(k["init_mean_ms"], init_sigma(), INIT_GRID)
                pool.cold_is_warm = False
                pool.source = (f"log-normal from the published mean and p99; cold lines from the published cold-start "
                               f"rows (handler mean and p99, mean INIT with a log-sd of {init_sigma():.3f})")
            out.append(pool)
    return out


def _invocation_pools(inv: pd.DataFrame, c: pd.DataFrame) -> list[Pool]:
    out = []
    means = c.set_index(["dataset", "curve", "memory_mb"])["mean_ms"]
    dm_billed = None
    for (ds, curve, mem), g in inv.groupby(["dataset", "curve", "memory_mb"], sort=True):
        runtime = runtime_id(ds, g["runtime"].iloc[0])
        arch = g["arch"].iloc[0]
        d = g["duration_ms"].to_numpy(float)
        used = g["max_memory_used_mb"].to_numpy(float)
        if np.isnan(used).all():
            smallest = float(inv.loc[(inv["dataset"] == ds) & (inv["curve"] == curve), "memory_mb"].min())
            base = _used_base(runtime, smallest)
            used = np.round(base * np.exp(USED_JITTER_SD * _rng(ds, curve, mem, "used").standard_normal(d.size)))
        source = {"faasdom-2020": "per-invocation handler timings used as Duration (no REPORT lines published)",
                  "s3-put-io-2023": "per-invocation REPORT lines (cold starts; Duration excludes INIT)"}.get(
            ds, "per-invocation REPORT lines")
        pool = Pool(ds, curve, arch, runtime, float(mem), source, d, used, d, used)
        if g["cold"].all() and g["init_duration_ms"].notna().all():
            pool.cold_init = g["init_duration_ms"].to_numpy(float)
        else:
            pool.init_grid, init_note = measured_init_grid(runtime, arch)
            pool.source += "; " + init_note
            pool.cold_is_warm = True
        if ds == "demystifying-costs-2025":
            dm_billed = _demystifying_billed() if dm_billed is None else dm_billed
            pool.mean_ms = float(means[(ds, curve, mem)])
            pool.billed_ms = float(dm_billed[mem])
            pool.source = "per-invocation REPORT lines (2% sample); truth from the summary of all 5,000 per size"
        out.append(pool)
    return out


def pools(sets=None) -> dict[tuple[str, str], list[Pool]]:
    """Every measured (data set, curve) with its pools, smallest size first (curves with one size left out)."""
    wanted = list(SETS) if sets is None else ([sets] if isinstance(sets, str) else list(sets))
    unknown = sorted(set(wanted) - set(SETS))
    if unknown:
        raise ValueError(f"unknown data set {unknown[0]!r}: the account is built from {', '.join(SETS)}")
    c = datasets.curves([w for w in wanted])
    out: list[Pool] = []
    summary = [w for w in wanted if w in SUMMARY_SETS]
    if summary:
        out += _summary_pools(c[c["dataset"].isin(summary)], _cebert_cold() if "cebert-2025" in summary
                              else pd.DataFrame(columns=["curve", "memory_mb"]))
    per_inv = [w for w in wanted if w not in SUMMARY_SETS]
    if per_inv:
        inv = datasets.invocations()
        out += _invocation_pools(inv[inv["dataset"].isin(per_inv)], c)
    grouped: dict[tuple[str, str], list[Pool]] = {}
    for p in out:
        grouped.setdefault((p.dataset, p.curve), []).append(p)
    return {k: sorted(v, key=lambda p: p.memory_mb) for k, v in sorted(grouped.items()) if len(v) >= 2}

"""What to do about a function's memory, decided once and rendered everywhere from the same object (pure).

A :class:`Decision` compares today's size with every other size in the same posterior draws of the model (so
uncertainty both share cancels) and makes one of four calls:

* ``decrease`` (finding ``memory-overprovisioned``): a smaller size saves at least ``min_savings_share`` of today's
  cost *and* is at most ``max_slowdown`` slower, with probability at least ``confidence``;
* ``increase`` (``memory-underprovisioned``): a larger size is at least ``min_speedup`` faster for at most
  ``cost_tolerance`` more, with that probability;
* ``measure`` (``memory-measure``): neither is that likely, but one of them is plausible and worth money — the
  evidence cannot decide, so the finding gives the saving's plausible range, the ``lambda-workbook tune`` command
  that would decide it and what that measurement costs; it ranks by the expected saving a measurement unlocks
  (the expected value of perfect information about the curve);
* ``keep``.

The same draws decide ``arm64-candidate`` for x86_64 functions: the switch *at today's size* saves at least
``min_savings_share`` and is at most ``max_slowdown`` slower, with probability ``confidence``; the dollars quoted
are that same switch. Title, evidence, note and recommendation are all rendered here, so the review's finding,
the notebook and the explorer cannot disagree.

Every band is stated at the decision's own probability, from the same draws that decide (:func:`bounds`): its low end
is the figure the change beats with probability ``confidence``, its high end the figure it stays under with that
probability (for ``confidence`` 0.9: "at least $X with 90% probability, at most $Y with 90%"). A decrease or an
arm64 switch is only made when the policy's test holds in ``confidence`` of the draws, and the test includes a
saving, so such a finding's band never starts below zero; an increase's band may, by at most ``cost_tolerance``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .costing import monthly_cost
from .model import MIN_MB, DurationModel

ACTIONS = ("decrease", "increase", "measure", "keep")
FINDINGS = {"decrease": "memory-overprovisioned", "increase": "memory-underprovisioned", "measure": "memory-measure",
            "keep": None}
LADDER_MB = (128, 256, 512, 768, 1024, 1536, 1769, 2048, 3008, 4096, 6144, 8192, 10240)
TUNE_INVOCATIONS_PER_SIZE = 4       # what the tuner typically spends per size offered (a planning figure)


@dataclass(frozen=True)
class Policy:
    """When a memory change is worth a finding (the review's defaults)."""

    min_savings_share: float = 0.10
    max_slowdown: float = 0.10
    min_speedup: float = 0.25
    cost_tolerance: float = 0.10
    confidence: float = 0.90
    headroom: float = 0.20
    plausible: float = 0.20          # below this probability an opportunity is not worth measuring
    min_measure_usd: float = 5.0     # expected monthly saving below which measuring is not worth a finding

    def __post_init__(self) -> None:
        checks = {"min_savings_share": (0, 1), "max_slowdown": (0, 10), "min_speedup": (0, 1), "cost_tolerance": (0, 10),
                  "confidence": (0, 1), "headroom": (0, 10), "plausible": (0, 1), "min_measure_usd": (0, math.inf)}
        for name, (lo, hi) in checks.items():
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and lo <= v < hi) or (name == "confidence" and v == 0):
                raise ValueError(f"{name} must be a number in [{lo}, {hi}), got {v!r}")

    def test(self, action: str) -> str:
        """What a change must do, in words: ``"decrease"`` (also the arm64 switch) or ``"increase"``."""
        if action in ("decrease", "arm64"):
            return (f"saves at least {self.min_savings_share:.0%} and is at most {self.max_slowdown:.0%} slower")
        if action == "increase":
            return f"is at least {self.min_speedup:.0%} faster for at most {self.cost_tolerance:.0%} more"
        raise ValueError(f"action must be 'decrease', 'arm64' or 'increase', got {action!r}")

    def rule(self, action: str = "") -> str:
        """The rule behind a pick, with its probability (``action`` as in :meth:`test`; empty for all of them)."""
        p = f"with probability ≥ {self.confidence:.0%}"
        if action:
            return f"{self.test(action)}, {p}"
        return (f"a smaller size {self.test('decrease')}, or a larger size {self.test('increase')}, {p}; "
                f"arm64 at today's size: the smaller-size test")

    def meets(self, cost_now, cost, ms_now, ms):
        """``(decrease, increase)``: whether going from today's cost and duration to ``cost`` and ``ms`` passes the
        decrease test and the increase test (arrays broadcast; which sizes are smaller or larger is the caller's)."""
        dec = (cost_now - cost >= self.min_savings_share * cost_now) & (ms <= (1 + self.max_slowdown) * ms_now)
        inc = (ms <= (1 - self.min_speedup) * ms_now) & (cost <= (1 + self.cost_tolerance) * cost_now)
        return dec, inc


@dataclass
class Option:
    """One candidate change in the decision's draws: probability that its claims hold, and its figures."""

    memory_mb: float
    arch: str
    probability: float
    duration_ms: float
    duration_band: tuple[float, float]
    monthly_usd: float
    saving_usd: float
    saving_band: tuple[float, float]
    speedup: float


@dataclass
class Measurement:
    """The tuning run that would settle an undecided function."""

    sizes: list[int]
    command: str
    invocations: int
    cost_usd: float
    expected_value_usd: float
    saving_range: tuple[float, float]
    p_decrease: float
    p_increase: float
    p_single: float = float("nan")   # the best single size's probability of meeting the policy


@dataclass
class Decision:
    function: dict[str, Any]
    policy: Policy
    action: str
    current_monthly_usd: float
    current_duration_ms: float
    floor_mb: float
    option: Option | None = None
    measurement: Measurement | None = None
    other_arch: Option | None = None
    arm64: Option | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def finding(self) -> str | None:
        return FINDINGS[self.action]

    @property
    def arm64_candidate(self) -> bool:
        return self.arm64 is not None

    # -- rendering -------------------------------------------------------------------------------------
    def _basis(self) -> str:
        f = self.function
        cpu = f" , CPU time {f['cpu_fraction']:.0%} of the duration (Lambda Insights)".replace(" ,", ",") \
            if f.get("cpu_fraction") else ""
        used = f.get("max_memory_used_p99_mb")
        used_text = f", Max Memory Used p99 {used:,.0f} MB" if used == used and used else ""
        return (f"mean {f['duration_mean_ms']:,.0f} ms at {f['memory_mb']:,.0f} MB ({f['arch']}){used_text}{cpu}, "
                f"{f['invocations_per_month']:,.0f} invocations/month, {_usd(self.current_monthly_usd)}/month today")

    def _level(self) -> str:
        return f"{self.policy.confidence:.0%}"

    def _saving_text(self, o: Option) -> str:
        """The saving and its band, saying what the band is (see the module doc)."""
        c, (lo, hi) = self._level(), o.saving_band
        if o.saving_usd >= 0:
            return (f"it saves {_usd(o.saving_usd)}/month on average: at least {_usd(lo)} with {c} probability, at most "
                    f"{_usd(hi)} with {c}")
        best = f"at best it saves {_usd(hi)}" if hi > 0 else f"at least {_usd(-hi)} more with {c}"
        return (f"it costs {_usd(-o.saving_usd)}/month more on average: at most {_usd(-lo)} more with {c} probability, "
                f"{best}")

    def band_meaning(self, kind: str = "") -> str:
        """What the saving's low and high are (``kind`` ``"arm64"`` for the arm64 switch's band)."""
        c = self._level()
        what = "what a measurement would lead to" if self.action == "measure" and kind != "arm64" else "the change"
        return (f"{what} saves at least the low end with {c} probability and at most the high end with {c} "
                "(bounds counted in the duration model's draws)")

    def _duration_text(self, o: Option) -> str:
        return f"{o.duration_ms:,.0f} ms (at most {o.duration_band[1]:,.0f} ms with {self._level()} probability)"

    def title(self) -> str:
        f, o = self.function, self.option
        if self.action == "decrease":
            return f"{f['memory_mb']:,.0f} MB → {o.memory_mb:,.0f} MB saves {_usd(o.saving_usd)}/month"
        if self.action == "increase":
            cost = (f"saves {_usd(o.saving_usd)}/month" if o.saving_usd >= 0 else f"{_usd(-o.saving_usd)}/month more")
            return f"{f['memory_mb']:,.0f} MB → {o.memory_mb:,.0f} MB: {o.speedup:.0%} faster, {cost}"
        if self.action == "measure":
            m = self.measurement
            return (f"measure {f['memory_mb']:,.0f} MB against {_sizes(m.sizes, f['memory_mb'])}: a change could save "
                    f"{_usd(m.expected_value_usd)}/month on average (at most {_usd(m.saving_range[1])})")
        return f"keep {f['memory_mb']:,.0f} MB"

    def evidence(self) -> str:
        o, c = self.option, self._level()
        text = self._basis() + "."
        if self.action in ("decrease", "increase"):
            text += (f" At {o.memory_mb:,.0f} MB the model expects {self._duration_text(o)} and "
                     f"{_usd(o.monthly_usd)}/month; {self._saving_text(o)}. Memory floor {self.floor_mb:,.0f} MB.")
        elif self.action == "measure":
            m = self.measurement
            lo, hi = m.saving_range
            text += (f" From what was measured the curve could go either way: in {m.p_decrease:.0%} of the model's "
                     f"draws at least one smaller size meets the policy (a larger one in {m.p_increase:.0%}), but which "
                     f"one differs from draw to draw: the likeliest single size meets it in "
                     f"{percent(m.p_single, self.policy.confidence)} of them, below the {c} a change needs. A "
                     f"measurement is worth {_usd(m.expected_value_usd)}/month on average (the saving of the size the "
                     f"policy would then pick, nothing where that costs more): at least {_usd(lo)} with {c} "
                     f"probability, at most {_usd(hi)} with {c}.")
        return text

    def note(self) -> str:
        p = self.policy
        if self.action in ("decrease", "increase"):
            claim = (f"{p.test(self.action)} with probability {self.option.probability:.0%} "
                     f"(threshold {p.confidence:.0%})")
        elif self.action == "measure":
            claim = (f"no single change reaches {p.confidence:.0%} probability; measuring costs about "
                     f"{self.measurement.invocations} invocations (≈ {_usd(self.measurement.cost_usd, 4)})")
        else:
            claim = "no change is both material and likely, nor worth measuring"
        extra = [n for n in self.notes if n]
        return "; ".join([claim, *extra])

    def recommendation(self) -> str:
        o = self.option
        if self.action == "decrease":
            return (f"Set MemorySize to {o.memory_mb:,.0f} MB (the extra CPU above it is not used); watch the duration "
                    "for a day after the change.")
        if self.action == "increase":
            return (f"Set MemorySize to {o.memory_mb:,.0f} MB (memory buys CPU, and this function is waiting for it); "
                    "watch the duration and cost for a day after the change.")
        if self.action == "measure":
            m = self.measurement
            return (f"Measure before changing: `{m.command}` (about {m.invocations} invocations, ≈ "
                    f"{_usd(m.cost_usd, 4)}; it tunes a temporary copy and removes it).")
        return f"Keep {self.function['memory_mb']:,.0f} MB."

    def arm64_title(self) -> str:
        return f"x86_64 → arm64 at today's {self.arm64.memory_mb:,.0f} MB saves {_usd(self.arm64.saving_usd)}/month"

    def arm64_evidence(self) -> str:
        a, p = self.arm64, self.policy
        return (f"{self._basis()}. On arm64 at the same {a.memory_mb:,.0f} MB the model expects {self._duration_text(a)} "
                f"and {_usd(a.monthly_usd)}/month; {self._saving_text(a)}. Probability {a.probability:.0%} that it "
                f"{p.test('arm64')} (threshold {p.confidence:.0%}).")

    def arm64_recommendation(self) -> str:
        mem = f"{self.arm64.memory_mb:,.0f} MB"
        if self.action in ("decrease", "increase"):
            size = (f"; this saving is judged at today's {mem}: after the memory change to "
                    f"{self.option.memory_mb:,.0f} MB, compare arm64 there again")
        elif self.action == "measure":
            size = f"; this saving is judged at today's {mem}: if the measurement moves the size, compare arm64 there again"
        else:
            size = ""
        return (f"Switch Architectures to arm64 and keep MemorySize at {mem}{size}. Rebuild native dependencies and "
                "container images for arm64 and compare a canary's duration before moving all traffic.")


def percent(p: float, threshold: float) -> str:
    """``p`` as a whole percentage, with a decimal where rounding would hide which side of ``threshold`` it is on
    (0.8996 against 0.9 reads 89.9%, not 90%)."""
    text = f"{p:.0%}"
    if (p < threshold) != (round(p * 100) < round(threshold * 100)):
        text = f"{math.floor(p * 1000) / 10:.1f}%" if p < threshold else f"{math.ceil(p * 1000) / 10:.1f}%"
    return text


def _usd(x: float, digits: int = 2) -> str:
    return f"-${-x:,.{digits}f}" if x < 0 else f"${x:,.{digits}f}"


def _sizes(sizes: list[int], current: float) -> str:
    others = [s for s in sizes if s != int(current)]
    return ", ".join(f"{s:,}" for s in others) + " MB"


def bounds(x, level: float) -> tuple:
    """``(low, high)`` of draws ``x`` (along the first axis) at probability ``level``: at least ``level`` of the
    draws are ``>= low`` and at least ``level`` are ``<= high``, counted exactly (no interpolation), so "at least
    low with probability level" holds in the very draws a decision counted."""
    x = np.asarray(x, dtype=float)
    n = x.shape[0]
    k = min(int(math.floor(n * (1.0 - level) + 1e-9)), n - 1)
    j = max(int(math.ceil(n * level - 1e-9)) - 1, 0)
    s = np.partition(x, sorted({k, j}), axis=0)   # the two order statistics, as a full sort has them
    return s[k], s[j]


def _around(x: np.ndarray, level: float) -> tuple[float, float]:
    """:func:`bounds` widened, if need be, to hold the mean (a skewed draw can put the mean beyond one of them):
    a lower low end is still beaten with probability ``level``, a higher high end still not exceeded."""
    lo, hi = bounds(x, level)
    mean = float(np.mean(x))
    return min(float(lo), mean), max(float(hi), mean)


def _option(mem: float, arch: str, p: float, d: np.ndarray, c: np.ndarray, c0: np.ndarray, d0: np.ndarray,
            level: float) -> Option:
    save = c0 - c
    dlo, dhi = bounds(d, level)
    return Option(memory_mb=float(mem), arch=arch, probability=float(p), duration_ms=float(np.median(d)),
                  duration_band=(float(dlo), float(dhi)),
                  monthly_usd=float(np.mean(c)), saving_usd=float(np.mean(save)),
                  saving_band=_around(save, level),
                  speedup=float(1.0 - np.median(d / d0)))


def grid_sizes(current: float, floor: float) -> np.ndarray:
    lo = max(float(MIN_MB), math.ceil(floor / 64.0) * 64.0)
    fine = np.arange(MIN_MB, 3072 + 1, 64.0)
    coarse = np.arange(3072, 10240 + 1, 256.0)
    g = np.unique(np.concatenate([fine, coarse, [10240.0, float(current)]]))
    return g[(g >= lo) | (g == current)]


def decide(model: DurationModel, function: dict[str, Any], policy: Policy, cost_kw: dict[str, Any], *,
           n: int = 2000, _draws: dict | None = None) -> Decision:
    """The decision for one function. ``function`` has the keys of ``snapshot.function_observations``;
    ``cost_kw`` the keyword arguments of :func:`monthly_cost` (traffic, INIT, provisioned concurrency, book).
    ``_draws``: a dict shared by decisions on the same model and function that differ in prices only (the duration
    draws do not depend on them; they are kept there, read-only, and drawn once)."""
    cur = float(function["memory_mb"])
    floor = model.memory_floor(policy.headroom)
    grid = grid_sizes(cur, floor)
    j0 = int(np.flatnonzero(grid == cur)[0])
    d = _drawn(_draws, ("grid", n, grid.tobytes()), lambda: model.samples(grid, n=n))
    kw = {**cost_kw, "arch": model.arch, "cv": model.cv}
    c = monthly_cost(d, grid[None, :], **kw)
    d0, c0 = d[:, j0], c[:, j0]
    current_cost = float(np.mean(c0))
    out = Decision(function=function, policy=policy, action="keep", current_monthly_usd=current_cost,
                   current_duration_ms=float(np.median(d0)), floor_mb=floor)
    if cur < floor:
        out.notes.append(f"today's {cur:,.0f} MB is below the memory floor {floor:,.0f} MB (Max Memory Used p99 + "
                         f"{policy.headroom:.0%})")
    save = c0[:, None] - c
    # policy.meets over the grid, with today's cost minus each size's taken from ``save`` (the same numbers): the
    # decrease test on the smaller sizes only (the grid is sorted, today's size in it once), the increase test on
    # the larger ones; every other size passes neither
    c_now, d_now = c0[:, None], d0[:, None]
    smaller, larger = slice(0, j0), slice(j0 + 1, grid.size)
    dec_ok = np.zeros(d.shape, dtype=bool)
    inc_ok = np.zeros(d.shape, dtype=bool)
    np.logical_and(save[:, smaller] >= policy.min_savings_share * c_now,
                   d[:, smaller] <= (1 + policy.max_slowdown) * d_now, out=dec_ok[:, smaller])
    np.logical_and(d[:, larger] <= (1 - policy.min_speedup) * d_now,
                   c[:, larger] <= (1 + policy.cost_tolerance) * c_now, out=inc_ok[:, larger])
    p_dec, p_inc = np.zeros(grid.size), np.zeros(grid.size)
    p_dec[smaller], p_inc[larger] = dec_ok[:, smaller].mean(0), inc_ok[:, larger].mean(0)
    sure_dec = np.flatnonzero(p_dec >= policy.confidence)
    sure_inc = np.flatnonzero(p_inc >= policy.confidence)
    level = policy.confidence
    if sure_dec.size:  # the size whose band starts highest: the largest saving at the stated probability
        j = sure_dec[np.argmax(bounds(save[:, sure_dec], level)[0])]
        out.action = "decrease"
        out.option = _option(grid[j], model.arch, p_dec[j], d[:, j], c[:, j], c0, d0, level)
    elif sure_inc.size:
        j = sure_inc[np.argmax((1 - d[:, sure_inc] / d0[:, None]).mean(0))]
        out.action = "increase"
        out.option = _option(grid[j], model.arch, p_inc[j], d[:, j], c[:, j], c0, d0, level)
    else:
        # what measuring would lead to: in each draw, the size the policy would then pick among the sizes a
        # tuning run measures (the cheapest within the cost tolerance that is at most max_slowdown slower,
        # the fastest of those), and its saving against today
        best = _policy_saving(grid, cur, save, c, d, d0, policy)
        any_dec, any_inc = float(dec_ok.any(1).mean()), float(inc_ok.any(1).mean())
        value = float(np.maximum(best, 0.0).mean())
        if value >= policy.min_measure_usd and max(any_dec, float((best > 0).mean())) >= policy.plausible:
            out.action = "measure"
            out.measurement = _measurement(function, model, grid, d, dec_ok | inc_ok, kw, best, any_dec, any_inc,
                                           level)
    _other_arch(out, model, function, policy, cost_kw, d0, c0, n, _draws)
    return out


def _drawn(memo: dict | None, key: tuple, make) -> np.ndarray:
    if memo is None:
        return make()
    hit = memo.get(key)
    if hit is None:
        hit = memo[key] = make()
        hit.setflags(write=False)
    return hit


def _policy_saving(grid, cur, save, c, d, d0, policy: Policy) -> np.ndarray:
    on = np.isin(grid, LADDER_MB) | (grid == cur)
    cc, dd = c[:, on], d[:, on]
    allowed = (dd <= (1 + policy.max_slowdown) * d0[:, None]) | (grid[on] == cur)[None, :]
    cheapest = np.where(allowed, cc, np.inf).min(1, keepdims=True)
    near = allowed & (cc <= cheapest * (1 + policy.cost_tolerance))
    pick = np.where(near, dd, np.inf).argmin(1)
    return save[:, on][np.arange(pick.size), pick]


def _measurement(function, model, grid, d, ok, kw, best, any_dec, any_inc, level) -> Measurement:
    cur = float(function["memory_mb"])
    weight = ok.mean(0)
    plausible = grid[weight >= 0.05]
    lo = float(plausible.min()) if plausible.size else cur
    hi = float(plausible.max()) if plausible.size else cur
    lo, hi = min(lo, cur), max(hi, cur)
    ladder = [s for s in LADDER_MB if lo <= s <= hi]
    # the plausible range's ends on the ladder where one is close (a 704-MB end reads as 768), else as they are
    ends = {int(min((s for s in LADDER_MB if lo <= s <= cur), default=lo)), int(hi)}
    sizes = sorted({int(cur), *ends, *ladder})
    if len(sizes) > 6:  # keep today's size, the ends and the best-spread rest
        keep = {int(cur), sizes[0], sizes[-1]}
        rest = [s for s in sizes if s not in keep]
        step = max(1, math.ceil(len(rest) / (6 - len(keep))))
        sizes = sorted(keep | set(rest[::step][: 6 - len(keep)]))
    cols = [int(np.argmin(np.abs(grid - s))) for s in sizes]
    per_size = TUNE_INVOCATIONS_PER_SIZE
    high = np.quantile(d[:, cols], 0.95, axis=0)
    one = {**kw, "invocations_per_month": float(per_size), "provisioned_concurrency": 0.0}
    cost = float(sum(monthly_cost(np.array([h]), np.array([float(s)]), **one)[0] for h, s in zip(high, sizes, strict=True)))
    region = function.get("region") or ""
    cmd = (f"lambda-workbook tune --function {function['function_name']} --memory {','.join(str(s) for s in sizes)}"
           + (f" --region {region}" if region else ""))
    return Measurement(sizes=sizes, command=cmd, invocations=per_size * len(sizes), cost_usd=cost,
                       expected_value_usd=float(np.maximum(best, 0.0).mean()),
                       saving_range=_around(np.maximum(best, 0.0), level),
                       p_decrease=any_dec, p_increase=any_inc, p_single=float(weight.max()) if weight.size else 0.0)


def _other_arch(out: Decision, model: DurationModel, function, policy: Policy, cost_kw, d0, c0, n: int,
                _draws: dict | None = None) -> None:
    """The switch to the other architecture at today's size; an arm64 candidate when x86_64 and likely."""
    target = "arm64" if model.arch == "x86_64" else "x86_64"
    cur = np.array([float(function["memory_mb"])])
    # the speed prior was measured as a ratio of per-size means, so it already holds their noise: no extra tau
    da = _drawn(_draws, ("other", target, n, cur.tobytes()),
                lambda: model.for_arch(target).samples(cur, n=n, noise=False)[:, 0])
    ca = monthly_cost(da, cur, **{**cost_kw, "arch": target, "cv": model.cv})
    ok = policy.meets(c0, ca, d0, da)[0]
    out.other_arch = _option(cur[0], target, float(ok.mean()), da, ca, c0, d0, policy.confidence)
    if target != "arm64":
        return
    if out.other_arch.probability >= policy.confidence:
        out.arm64 = out.other_arch
        out.notes.append(f"arm64 at today's {cur[0]:,.0f} MB meets the policy with probability "
                         f"{out.other_arch.probability:.0%}: a separate arm64-candidate finding")
    elif out.other_arch.probability >= policy.plausible:
        out.notes.append(f"arm64 at the same size meets the policy with probability "
                         f"{percent(out.other_arch.probability, policy.confidence)}: "
                         "a canary on arm64 would tell")

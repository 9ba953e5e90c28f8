"""What a tuning run will do and may cost: the text printed before anything changes."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Plan:
    """What a tuning run will do and may cost, printed before anything changes."""

    function_name: str
    region: str
    arch: str
    runtime: str
    memory_mb: float
    timeout_s: float
    sizes: list[float]
    max_invocations: int
    payloads: int
    alias_prefix: str
    max_cost_usd: float
    typical_cost_usd: float | None
    notes: list[str] = field(default_factory=list)
    mode: str = "copy"
    copy_name: str = ""
    journal_path: str = ""
    env_vars: int = 0
    package: str = "Zip"

    def text(self) -> str:
        sizes = ", ".join(f"{m:g}" for m in self.sizes)
        fn = self.function_name
        lines = [
            f"Tuning plan for {fn} ({self.region}, {self.arch}, {self.runtime or 'image'}, "
            f"currently {self.memory_mb:g} MB, timeout {self.timeout_s:g} s)",
            f"  sizes considered: {sizes} MB; at most {self.max_invocations} invocations, {self.payloads} payload(s)",
        ]
        if self.mode == "copy":
            code = "image, by its digest" if self.package == "Image" else "zip, downloaded through its code location"
            lines += [
                f"  creates a temporary copy {self.copy_name}: the same code ({code}), role, handler, runtime, layers, "
                f"timeout, ephemeral storage, architecture, VPC, tracing and environment ({self.env_vars} "
                "variable(s): values passed straight to the copy, never stored)",
                "  for each size measured: set the copy's memory, publish a version of the copy, invoke that version",
                f"  {fn} itself is only read: its configuration, versions, aliases and traffic are not touched",
                "  at the end (also on an error, Ctrl-C, SIGTERM or SIGHUP): delete the copy with its versions and "
                "its log group",
            ]
        else:
            lines += [
                f"  WARNING (--in-place): while each size is prepared, $LATEST runs at that trial size until its "
                f"memory is put back (seconds per size): unqualified invocations of {fn} meanwhile run at the "
                "trial size (out of memory or timeouts at small sizes); without --in-place a copy is tuned instead",
                f"  for each size measured: set $LATEST's memory, publish a version, restore $LATEST's memory "
                f"({self.memory_mb:g} MB) right away, create alias {self.alias_prefix}-<MB>-<run>",
                "  invocations go to those aliases; no existing alias is edited",
                "  at the end (also on an error, Ctrl-C, SIGTERM or SIGHUP): delete every alias and version created, "
                "restore $LATEST's memory",
            ]
        lines += [
            f"  journal: {self.journal_path} (written before every change; a killed run is undone by "
            f"lambda-workbook tune --recover {self.journal_path})",
            f"  cost: at most ${self.max_cost_usd:,.4f} (every invocation at the largest size running to its timeout)",
        ]
        if self.typical_cost_usd is not None:
            lines.append(f"        about ${self.typical_cost_usd:,.4f} at the expected duration")
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)

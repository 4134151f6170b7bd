"""The measurement policy: every constant of how an answer is timed, in one value.

As in nvbench, the policy (warm-up, stopping criterion, cache flushing, how many timed calls are checked) is one
component, apart from what is measured. One `MeasurementPolicy` travels to the timing child inside its job (as plain
builtins, `to_dict`/`from_dict`), drives the child's loop (`measure.time_callable`, `stats.StoppingRule`) and is
recorded in the report's run metadata (`run_record`), so every number can be read with the rules that produced it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields
from typing import Any

TIMERS = ("cuda-events", "host")


@dataclass(frozen=True, kw_only=True)
class MeasurementPolicy:
    """How the time stage measures one answer (defaults: what every real run uses)."""

    # The clock: CUDA events on the GPU, or the host clock with no cache to flush, which runs the stage's plumbing
    # without a GPU (its numbers are CPU runtime times, never scored; tests use it).
    timer: str = "cuda-events"
    # Budget: one item's timing loops together stop after this much elapsed time, spread evenly over its benchmark
    # scales, unless `cap_s` fixes the cap of each scale.
    item_cap_s: float = 3.0
    cap_s: float | None = None
    # Warm-up by time (like triton's do_bench), at least one full call sequence; its samples are discarded.
    warmup_s: float = 0.025
    # Stopping criterion: converged at `min_samples` samples, `min_time_s` of measured time and a relative standard
    # error of the (Tukey-filtered) median at most `rel_se_target`; or capped at `max_samples`.
    rel_se_target: float = 0.01
    min_samples: int = 10
    min_time_s: float = 0.1
    max_samples: int = 100_000
    # Cold L2: bytes memset between samples = this factor x the device's L2 size (0 = no flush, hot cache).
    l2_flush_factor: float = 2.0
    # Empty call sequences measured to estimate the fixed wall-clock overhead of one sample.
    empty_samples: int = 10
    # Input sets per benchmark scale that the timed calls rotate through.
    input_sets: int = 2
    # Timed calls per scale whose outputs are kept (a secret uniform sample) for the parent to check.
    checked_calls: int = 2

    def __post_init__(self) -> None:
        if self.timer not in TIMERS:
            raise ValueError(f"MeasurementPolicy.timer must be one of {', '.join(TIMERS)}, not {self.timer!r}")
        if self.input_sets < 1 or self.checked_calls < 0 or self.min_samples < 1 or self.empty_samples < 1:
            raise ValueError(f"MeasurementPolicy: counts out of range in {self}")

    def scale_cap_s(self, n_scales: int) -> float:
        """Elapsed-time cap of one scale's timing loop."""
        return self.cap_s if self.cap_s is not None else self.item_cap_s / max(1, n_scales)

    def flush_bytes(self, l2_bytes: int) -> int:
        return int(self.l2_flush_factor * l2_bytes)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> MeasurementPolicy:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"MeasurementPolicy: unknown field(s) {', '.join(unknown)}")
        return cls(**data)


DEFAULT_POLICY = MeasurementPolicy()


def run_record(policy: MeasurementPolicy = DEFAULT_POLICY) -> dict[str, Any]:
    """The policy as the report's run metadata records it (`run.measurement`)."""
    return policy.to_dict()

"""The refine-for-speed turn (``--cudabench-refine=R --cudabench-candidates=C``), CUDA-LLM's feedback loop.

After an answer passed execute and time, the pipeline asks, for each round and candidate::

    msgs = refine_messages(first.messages, kept_source, speed, round_, rounds, candidate, candidates, history)
    request = refine_request(first, msgs, round_, candidate, kept_sha256)
    generation = service.get(request)          # cached by round, candidate and what it refines

`speed` is plain data the pipeline takes from the kept version's time stage (see `speed_facts` there): per-scale
medians, the roofline bound and achieved fraction, what bounds the task, the speedup against the task's own
solution and, with ncu, its counters. The conversation is the task's first prompt, the kept (fastest correct)
source as the model's answer, then the measurements: the context stays bounded however many rounds run.
"""

from __future__ import annotations

from typing import Any

from .models import GenerationRequest
from .prompts import prompt_hash

# ncu's per-scale figures (timing.gpu_tools.ncu_scale_score) and how the prompt names them
NCU_KEYS = (("score", "CUDABench score"), ("flop_s", "FP32 FLOP/s"), ("dram_bytes_s", "DRAM B/s"),
            ("ce", "compute efficiency"), ("bu", "bandwidth utilisation"), ("ai", "FLOP/byte"))


def _seconds(value: float | None) -> str:
    if value is None:
        return "?"
    for unit, factor in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if value >= factor:
            return f"{value / factor:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def _sizes(sizes: dict[str, Any]) -> str:
    return ", ".join(f"{k}={v}" for k, v in sizes.items())


def speed_lines(speed: dict[str, Any]) -> list[str]:
    """The measurements as lines of text: one per benchmark scale, then the summary figures."""
    lines = []
    for row in speed.get("scales") or []:
        parts = [f"- {_sizes(row.get('sizes') or {})}: median {_seconds(row.get('median_s'))}"]
        if row.get("reference_median_s"):
            parts.append(f"reference solution {_seconds(row['reference_median_s'])}")
        if row.get("bound_s"):
            parts.append(f"roofline bound {_seconds(row['bound_s'])} ({row.get('bound_by') or '?'}-bound)")
        if row.get("score") is not None:
            parts.append(f"achieved {100 * row['score']:.1f}% of the bound")
        lines.append(", ".join(parts))
    bound_by = {row.get("bound_by") for row in speed.get("scales") or [] if row.get("bound_by")}
    if len(bound_by) == 1:
        kind = bound_by.pop()
        lines.append(f"The task is {kind}-bound on this GPU: "
                     + ("its minimum DRAM traffic, not arithmetic, limits it." if kind == "memory"
                        else "its minimum arithmetic, not DRAM traffic, limits it."))
    elif bound_by:
        lines.append("The task is memory-bound at some scales and compute-bound at others.")
    if speed.get("performance_score") is not None:
        lines.append(f"Performance-Score (mean fraction of the roofline bound over the scales): "
                     f"{speed['performance_score']:.3f} (1.0 is the hardware's limit).")
    if speed.get("speedup") is not None:
        lines.append(f"Speedup against the task's reference solution (geometric mean over the scales): "
                     f"{speed['speedup']:.2f}x.")
    ncu = speed.get("ncu") or {}
    for row in ncu.get("scales") or []:
        counters = ", ".join(f"{label} {row[k]:.3g}" for k, label in NCU_KEYS if isinstance(row.get(k), (int, float)))
        if row.get("kernel"):
            counters += f" (kernel {row['kernel']})"
        if counters:
            lines.append(f"- Nsight Compute at {_sizes(row.get('sizes') or {})}: {counters}")
    return lines


def refine_messages(first_messages: list[dict[str, str]], source: str, speed: dict[str, Any], round_: int,
                    rounds: int, candidate: int, candidates: int, history: list[str]) -> list[dict[str, str]]:
    """The conversation of one refine candidate: the first prompt, the kept source as the model's answer, then a
    user turn with its measured speed (`speed_lines`), what earlier rounds gave (`history`) and the request for a
    faster, still correct, complete source. The candidate's number is in the text: candidates of one round are
    asked for different approaches (and a model answering deterministically can tell them apart)."""
    where = f"{speed.get('gpu') or 'the GPU'}" + (" (host clock, CPU runtime)" if speed.get("clock") == "host" else "")
    sections = [f"Your source is correct. Measured on {where}, cold L2, at the task's benchmark scales:",
                "\n".join(speed_lines(speed))]
    if history:
        sections.append("Earlier refinement rounds:\n" + "\n".join(f"- {line}" for line in history))
    sections.append(
        f"Refinement round {round_} of {rounds}, candidate {candidate + 1} of {candidates}"
        + (": try an approach different from the other candidates'." if candidates > 1 else ".")
        + " Make it faster while keeping results within the same tolerance; a wrong answer is discarded, however "
        "fast. Think about what bounds it (above): coalescing and vectorized loads, fewer passes over memory, "
        "shared-memory tiling, occupancy, less redundant work and synchronization.")
    sections.append("Answer with the complete, faster CUDA source file in exactly one fenced code block "
                    "(```cuda ... ```), keeping the required `solve` signature.")
    return [*(dict(m) for m in first_messages),
            {"role": "assistant", "content": f"```cuda\n{source.rstrip()}\n```"},
            {"role": "user", "content": "\n\n".join(sections) + "\n"}]


def refine_request(first: GenerationRequest, messages: list[dict[str, str]], round_: int, candidate: int,
                   refined_sha256: str) -> GenerationRequest:
    """The request of one refine candidate. It is cached by the first prompt, the source it refines, its round and
    candidate: not by its messages, which quote this run's timings."""
    return GenerationRequest(task=first.task, level=first.level, sample=first.sample, messages=messages,
                             prompt_hash=prompt_hash(messages), round=round_, candidate=candidate,
                             cache_basis=f"{first.prompt_hash}:{refined_sha256}")

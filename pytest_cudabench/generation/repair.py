"""The repair loop's turns (``--cudabench-attempts=N``); the "make it faster" turn is refine.py's.

The pipeline, after attempt ``a`` fails at some stage, asks again with::

    msgs = repair_messages(request.messages, generation.content, exc.stage, exc.message, exc.details)
    request = next_request(request, msgs)          # same task/level/sample, prompt_hash of the new messages
    generation = service.get(request)              # cached under its own key (the messages are part of it)

Messages keep the whole conversation (system, first prompt, each answer and each feedback), so the model sees what
it already tried; feedback text is truncated to stay well inside context windows.
"""

from __future__ import annotations

from .models import GenerationRequest
from .prompts import prompt_hash

MAX_DETAILS_CHARS = 6000
MAX_MESSAGE_CHARS = 1000
MAX_DETAILS_LINES = 120

_ASK = ("Answer with the corrected, complete CUDA source file in exactly one fenced code block (```cuda ... ```), "
        "keeping the required `solve` signature. Do not answer with a diff or a partial file.")

_STAGE_INTRO = {
    "extract": "I could not find a complete CUDA source file in your answer.",
    "static-check": "Your source breaks the task's rules.",
    "compile": "Your source failed to compile (nvcc).",
    "execute": "Your program compiled, but running it failed or produced wrong results.",
    "time": "Your program was correct on the checks, but failed while being timed.",
}

_STAGE_LABEL = {"compile": "Compiler output", "execute": "Mismatch summary"}


def truncate_text(text: str, max_chars: int = MAX_DETAILS_CHARS, max_lines: int = MAX_DETAILS_LINES) -> str:
    """`text` cut to at most max_lines lines and about max_chars characters, keeping its head (first errors, the
    ones that matter) and a shorter tail (the summary), with a marker saying how much was left out."""
    text = (text or "").strip("\n")
    lines = text.splitlines()
    if len(lines) <= max_lines and len(text) <= max_chars:
        return text
    head_lines = max(1, (max_lines * 2) // 3)
    tail_lines = max(0, max_lines - head_lines)
    head_budget = (max_chars * 2) // 3
    tail_budget = max_chars - head_budget
    head: list[str] = []
    used = 0
    for line in lines[:head_lines]:
        line = line if len(line) <= 400 else line[:400] + " [...]"
        if used + len(line) + 1 > head_budget and head:
            break
        head.append(line)
        used += len(line) + 1
    tail: list[str] = []
    used = 0
    for line in reversed(lines[len(head):][-tail_lines:] if tail_lines else []):
        line = line if len(line) <= 400 else line[:400] + " [...]"
        if used + len(line) + 1 > tail_budget:
            break
        tail.insert(0, line)
        used += len(line) + 1
    omitted = len(lines) - len(head) - len(tail)
    marker = [f"[... {omitted} line{'s' if omitted != 1 else ''} omitted ...]"] if omitted > 0 else []
    return "\n".join(head + marker + tail)


def _clip(text: str, limit: int) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 6].rstrip() + " [...]"


def repair_messages(previous_messages: list[dict[str, str]], answer_text: str, stage: str, message: str,
                    details: str = "") -> list[dict[str, str]]:
    """The conversation for the next attempt: the previous messages, the model's previous answer (as the assistant),
    then a user turn with what went wrong at `stage` (`message`, and `details` such as the compiler log or the
    mismatch summary, truncated) asking for a corrected full source in one fenced block."""
    intro = _STAGE_INTRO.get(stage, f"Your answer failed at the '{stage}' stage.")
    sections = [intro]
    if message:
        sections.append(f"Error: {_clip(message, MAX_MESSAGE_CHARS)}")
    details = truncate_text(details)
    if details and details.strip() != (message or "").strip():
        sections.append(f"{_STAGE_LABEL.get(stage, 'Details')}:\n```\n{details}\n```")
    sections.append(_ASK)
    feedback = "\n\n".join(sections)
    return [*(dict(m) for m in previous_messages),
            {"role": "assistant", "content": answer_text or ""},
            {"role": "user", "content": feedback.strip() + "\n"}]


def next_request(request: GenerationRequest, messages: list[dict[str, str]]) -> GenerationRequest:
    """The request of the next attempt: same task, level and sample; the new messages and their prompt hash (which
    also makes it a cache key of its own)."""
    return GenerationRequest(task=request.task, level=request.level, sample=request.sample, messages=messages,
                             prompt_hash=prompt_hash(messages))

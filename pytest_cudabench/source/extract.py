"""Answer extraction: find the CUDA source in a model's answer."""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import StageFailure
from .lexer import strip_comments_and_strings

CODE_LANGUAGES = {"", "cuda", "cu", "cpp", "c++", "cxx", "cc", "c", "cuh", "h", "hpp"}

_FENCE = re.compile(r"^(?P<indent>[ \t]*)(?P<fence>`{3,}|~{3,})[ \t]*(?P<lang>[^\s`]*)[^\n]*$", re.MULTILINE)
_DEFINES_SOLVE = re.compile(r"\bvoid\s+solve\s*\([^;{]*\)\s*\{", re.DOTALL)


@dataclass(frozen=True)
class CodeBlock:
    language: str
    code: str
    start_line: int  # line of the opening fence in the answer
    terminated: bool


def code_blocks(answer: str) -> list[CodeBlock]:
    """Fenced code blocks in order; an unterminated last block (a truncated answer) is returned as such."""
    blocks = []
    lines = answer.splitlines()
    i = 0
    while i < len(lines):
        match = _FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence = match.group("fence")
        lang = match.group("lang").lower()
        body: list[str] = []
        j = i + 1
        while j < len(lines):
            closing = lines[j].strip()
            if closing.startswith(fence[0] * len(fence)) and set(closing) == {fence[0]}:
                break
            body.append(lines[j])
            j += 1
        blocks.append(CodeBlock(lang, "\n".join(body) + "\n", i + 1, terminated=j < len(lines)))
        i = j + 1
    return blocks


def defines_solve(code: str) -> bool:
    return bool(_DEFINES_SOLVE.search(strip_comments_and_strings(code)))


def extract_source(answer: str) -> str:
    """The code block that defines `solve` (the last one if several do). Raises StageFailure('extract')."""
    if not answer.strip():
        raise StageFailure("extract", "the answer is empty")
    blocks = code_blocks(answer)
    candidates = [b for b in blocks if b.language in CODE_LANGUAGES]
    if not candidates:
        if not blocks and defines_solve(answer):
            raise StageFailure("extract", "the answer defines `solve` but not inside a fenced code block "
                               "(```cuda ... ```); the prompt asks for one", _excerpt(answer))
        langs = ", ".join(sorted({b.language or "none" for b in blocks}))
        what = f"no code block in a C/C++/CUDA language (found: {langs})" if blocks else "no fenced code block"
        raise StageFailure("extract", f"the answer contains {what}", _excerpt(answer))
    with_solve = [b for b in candidates if defines_solve(b.code)]
    if not with_solve:
        raise StageFailure(
            "extract",
            f"none of the {len(candidates)} code block(s) defines the entry point `void solve(...)`",
            _excerpt(candidates[-1].code),
        )
    chosen = with_solve[-1]
    if not chosen.terminated:
        # Keep going: the compiler will say whether the truncated source is usable.
        return chosen.code
    return chosen.code


def _excerpt(text: str, limit: int = 1500) -> str:
    return text if len(text) <= limit else text[:limit] + f"\n... ({len(text) - limit} more characters)"

"""Comparing an answer's outputs with the reference: tolerances, NaN/Inf placement, a readable mismatch summary."""

from __future__ import annotations

from typing import Any

import numpy as np

from .loader import Arg, Task

MAX_REPORTED = 3


def compare_output(arg: Arg, expected: np.ndarray, got: np.ndarray, atol: float, rtol: float) -> str | None:
    """None when `got` matches; otherwise a message with error statistics and the first mismatches."""
    if got.shape != expected.shape:
        return f"{arg.name}: shape {got.shape} differs from the expected {expected.shape}"
    if not arg.dtype.is_float:
        bad = expected != got
        if not bad.any():
            return None
        return _summary(arg, expected, got, bad, exact=True)
    e = expected.astype(np.float64)
    g = got.astype(np.float64)
    e_nan, g_nan = np.isnan(e), np.isnan(g)
    e_inf, g_inf = np.isinf(e), np.isinf(g)
    special_mismatch = (e_nan != g_nan) | (e_inf != g_inf) | (e_inf & g_inf & (np.sign(e) != np.sign(g)))
    finite = ~(e_nan | e_inf | g_nan | g_inf)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(finite, np.abs(e - g), 0.0)
        bad = special_mismatch | (finite & (diff > atol + rtol * np.abs(e)))
    if not bad.any():
        return None
    summary = _summary(arg, expected, got, bad, exact=False, diff=diff, finite=finite, atol=atol, rtol=rtol)
    specials = int(special_mismatch.sum())
    if specials:
        summary += f"\n{specials} element(s) differ in NaN/Inf placement (errors above count finite values only)"
    return summary


def _summary(arg: Arg, expected: np.ndarray, got: np.ndarray, bad: np.ndarray, *, exact: bool,
             diff: np.ndarray | None = None, finite: np.ndarray | None = None, atol: float = 0.0,
             rtol: float = 0.0) -> str:
    count = int(bad.sum())
    where = np.argwhere(bad)[:MAX_REPORTED]
    shown = "; ".join(f"at {_index(idx)} expected {_fmt(expected[tuple(idx)])} got {_fmt(got[tuple(idx)])}"
                      for idx in where)
    text = f"{arg.name}: {count} of {expected.size} element(s) differ"
    if exact:
        text += " (integers compare exactly)"
    else:
        assert diff is not None and finite is not None
        e = np.abs(expected.astype(np.float64))
        with np.errstate(divide="ignore", invalid="ignore"):
            rel = np.where(finite & (e > 0), diff / e, 0.0)
        text += (f"; max abs error {float(diff.max()):.3g}, max rel error {float(rel.max()):.3g} "
                 f"(tolerance atol={atol:g}, rtol={rtol:g})")
    return f"{text}; first: {shown}"


def _index(idx: np.ndarray) -> str:
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def _fmt(value: Any) -> str:
    if isinstance(value, (np.floating, float)):
        return f"{float(value):.7g}"
    return str(value)


def tolerance_used(task: Task, expected: dict[str, np.ndarray], got: dict[str, np.ndarray]) -> float | None:
    """How much of its tolerance a passing answer needed: the largest |got - expected| / (atol + rtol |expected|)
    over finite float outputs (1.0 = at the limit). None for integer-only tasks and custom checkers."""
    if task.check is not None:
        return None
    used = None
    for arg in task.outputs:
        if not arg.dtype.is_float:
            continue
        atol, rtol = arg.tolerance(task.tolerance)
        e = expected[arg.name].astype(np.float64)
        g = got[arg.name].astype(np.float64)
        finite = np.isfinite(e) & np.isfinite(g)
        if not finite.any():
            continue
        with np.errstate(divide="ignore", invalid="ignore"):
            ratio = np.abs(e[finite] - g[finite]) / (atol + rtol * np.abs(e[finite]))
        ratio = np.where(np.isnan(ratio), 0.0, ratio)
        used = max(used or 0.0, float(ratio.max()))
    return used


def compare_outputs(task: Task, expected: dict[str, np.ndarray], got: dict[str, np.ndarray],
                    inputs: dict[str, Any]) -> str | None:
    """All outputs of one call. A task with a custom checker (answers that are not unique) decides itself."""
    if task.check is not None:
        verdict = task.check(dict(inputs), dict(expected), dict(got))
        return None if not verdict else str(verdict)
    problems = []
    for arg in task.outputs:
        atol, rtol = arg.tolerance(task.tolerance)
        problem = compare_output(arg, expected[arg.name], got[arg.name], atol, rtol)
        if problem:
            problems.append(problem)
    return "\n".join(problems) if problems else None

"""The HTML report: one self-contained page (inline CSS, JS and SVG; no network) rendered from a JSON report.

Sections: headline scores; per-domain and per-level bar charts (compile rate, correct rate, mean Performance-Score);
a roofline chart of every timed item and scale under the GPU's roof; a filterable table of items with their stage
outcomes, error messages and syntax-highlighted sources.

Everything that comes from the report is HTML-escaped here, in Python: model answers are untrusted. The page's only
script is the static one below, and a Content-Security-Policy allows that script alone (by its hash), so even a
hole in the escaping could not run injected code.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..pipeline import STAGES
from .report import NOT_MEASURED
from .report import format_score as score

NOT_MEASURED_NOTE = "performance not measured (timing needs a GPU)"
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac", "#1f77b4", "#17becf", "#8c564b", "#bcbd22")


def esc(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


# --- a small CUDA/C++ highlighter -----------------------------------------------------------------------------

KEYWORDS = frozenset("""
    alignas alignof asm auto break case catch class const const_cast constexpr continue decltype default delete do
    dynamic_cast else enum explicit export extern false for friend goto if inline mutable namespace new noexcept
    nullptr operator private protected public register reinterpret_cast return sizeof static static_assert
    static_cast struct switch template this throw true try typedef typeid typename union using virtual volatile while
    __global__ __device__ __host__ __shared__ __constant__ __managed__ __restrict__ __restrict __forceinline__
    __noinline__ __launch_bounds__ __align__ restrict
""".split())
TYPES = frozenset("""
    void bool char short int long float double signed unsigned size_t ptrdiff_t int8_t int16_t int32_t int64_t
    uint8_t uint16_t uint32_t uint64_t uintptr_t half half2 __half __half2 __nv_bfloat16 __nv_bfloat162 nv_bfloat16
    float2 float3 float4 double2 double3 double4 int2 int3 int4 uint2 uint3 uint4 char2 char4 uchar2 uchar4 short2
    dim3 cudaError_t cudaStream_t cudaEvent_t wchar_t char16_t char32_t
""".split())
BUILTINS = frozenset("""
    threadIdx blockIdx blockDim gridDim warpSize __syncthreads __syncwarp __threadfence __shfl_sync __shfl_up_sync
    __shfl_down_sync __shfl_xor_sync __ballot_sync __any_sync __all_sync __popc __popcll __clz __ffs __ldg __fmaf_rn
    __expf __logf __sinf __cosf __fdividef atomicAdd atomicSub atomicMax atomicMin atomicCAS atomicExch atomicAnd
    atomicOr atomicXor cudaMalloc cudaFree cudaMemcpy cudaMemset cudaDeviceSynchronize cudaGetLastError
    cudaMemcpyAsync cudaStreamSynchronize
""".split())
_TOKEN = re.compile(r"""
      (?P<c>//[^\n]*|/\*.*?(?:\*/|\Z))
    | (?P<p>^[ \t]*\#[^\n]*)
    | (?P<s>"(?:\\.|[^"\\\n])*"?|'(?:\\.|[^'\\\n])*'?)
    | (?P<n>(?<![\w.])(?:0[xX][0-9a-fA-F']+|0[bB][01']+|\d[\d']*(?:\.\d*)?(?:[eE][+-]?\d+)?|\.\d+(?:[eE][+-]?\d+)?)
            [uUlLfF]*)
    | (?P<w>[A-Za-z_]\w*)
""", re.S | re.M | re.X)
_CLASS = {"c": "hc", "p": "hp", "s": "hs", "n": "hn"}


def highlight(source: str) -> str:
    """Escaped HTML of a CUDA/C++ source with <span class=...> around keywords (hk), types (ht), CUDA built-ins
    (hb), strings (hs), comments (hc), numbers (hn) and preprocessor lines (hp)."""
    out: list[str] = []
    position = 0
    for match in _TOKEN.finditer(source):
        if match.start() > position:
            out.append(esc(source[position:match.start()]))
        kind, text = match.lastgroup or "", match.group()
        css = _CLASS.get(kind)
        if kind == "w":
            css = "hk" if text in KEYWORDS else "ht" if text in TYPES else "hb" if text in BUILTINS else None
        out.append(f'<span class="{css}">{esc(text)}</span>' if css else esc(text))
        position = match.end()
    out.append(esc(source[position:]))
    return "".join(out)


# --- number formatting --------------------------------------------------------------------------------------------

def pct(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.1f}%"


def si(value: float | None, unit: str = "") -> str:
    if value is None or not math.isfinite(value):
        return "-"
    for factor, prefix in ((1e15, "P"), (1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "k"), (1.0, "")):
        if abs(value) >= factor:
            return f"{value / factor:.3g} {prefix}{unit}".rstrip()
    return f"{value:.3g} {unit}".rstrip()


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    for factor, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if value >= factor:
            return f"{value / factor:.3g} {unit}"
    return f"{value / 1e-9:.3g} ns"


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        else None


# --- data helpers -------------------------------------------------------------------------------------------------

def timing_scales(item: dict[str, Any]) -> list[dict[str, Any]]:
    time_stage = (item.get("stages") or {}).get("time") or {}
    scales = time_stage.get("scales") if isinstance(time_stage, dict) else None
    return [s for s in scales if isinstance(s, dict)] if isinstance(scales, list) else []


def roofline_points(report: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    """(points, skipped): one point per item and scale with positive flops, bytes and median time; `skipped` counts
    timed scales that cannot be placed (no FLOPs, e.g. pure data movement)."""
    points, skipped = [], 0
    for item in report.get("items") or []:
        for scale in timing_scales(item):
            flops, nbytes, median = (_number(scale.get(k)) for k in ("flops", "bytes", "median_s"))
            if flops and nbytes and median and flops > 0 and nbytes > 0 and median > 0:
                points.append({"ai": flops / nbytes, "perf": flops / median, "item": item, "scale": scale})
            else:
                skipped += 1
    return points, skipped


FLOP_PREFIXES = ("fp", "bf", "tf")  # fp32, fp64, fp16_tensor, bf16_tensor, tf32...; int8_tensor counts ops


def flop_peaks(peaks: dict[str, Any] | None) -> dict[str, float]:
    """The compute roofs of run.peaks (gpus.Peaks.to_dict): the positive FLOP/s figures, keyed fp*/bf*/tf*."""
    if not isinstance(peaks, dict):
        return {}
    return {k: v for k, v in ((k, _number(v)) for k, v in peaks.items())
            if v and v > 0 and k.startswith(FLOP_PREFIXES)}


def peak_text(key: str, value: Any) -> str:
    number = _number(value)
    if number is None:
        return f"{key} {', '.join(map(str, value)) if isinstance(value, list) else value}"
    unit = ("B/s" if key.endswith("_bw") else "B" if key.endswith("_bytes") else "FLOP/s"
            if key.startswith(FLOP_PREFIXES) else "OP/s" if key.startswith("int") else "")
    return f"{key} {si(number, unit)}"


def primary_flop_peak(peaks: dict[str, Any] | None) -> tuple[str, float] | None:
    roofs = flop_peaks(peaks)
    if not roofs:
        return None
    name = "fp32" if "fp32" in roofs else max(roofs, key=roofs.__getitem__)
    return name, roofs[name]


def _item_runtimes(report: dict[str, Any]) -> list[str]:
    return sorted({str(i["runtime"]) for i in report.get("items") or [] if i.get("runtime")})


# --- SVG charts ---------------------------------------------------------------------------------------------------

BAR_SERIES = (("compile_rate", "compiled", "#76b7b2"), ("correct_rate", "correct", "#59a14f"),
              ("mean_performance_score", "mean Performance-Score", "#4e79a7"))


def bar_chart(groups: dict[str, dict[str, Any]], title: str, label_prefix: str = "") -> str:
    """Horizontal grouped bars on a 0..1 scale, one group per row: compile rate, correct rate, mean
    Performance-Score (a score above 1 is clipped, its value written)."""
    label_w, plot_w, bar_h, gap, top = 96, 250, 9, 10, 30
    width = label_w + plot_w + 44
    row_h = bar_h * len(BAR_SERIES) + gap
    height = top + max(1, len(groups)) * row_h + 34
    parts = [f'<svg class="chart bars" viewBox="0 0 {width} {height}" role="img" '
             f'aria-label="{esc(title)}">', f'<text x="0" y="14" class="ctitle">{esc(title)}</text>']
    for tick in (0, 0.25, 0.5, 0.75, 1.0):
        x = label_w + tick * plot_w
        parts.append(f'<line x1="{x:.1f}" y1="{top - 6}" x2="{x:.1f}" y2="{height - 30}" class="grid"/>'
                     f'<text x="{x:.1f}" y="{height - 18}" class="tick" text-anchor="middle">{tick:g}</text>')
    if not groups:
        parts.append(f'<text x="{label_w}" y="{top + 12}" class="note">no items</text>')
    for row, (name, group) in enumerate(groups.items()):
        y = top + row * row_h
        label = f"{label_prefix}{name}"
        parts.append(f'<text x="{label_w - 8}" y="{y + 1.5 * bar_h + 4}" text-anchor="end" class="label">'
                     f'{esc(label)}<title>{esc(label)}: {esc(group.get("n_items"))} items, '
                     f'{esc(group.get("n_judged"))} judged</title></text>')
        for index, (key, series, color) in enumerate(BAR_SERIES):
            value = _number(group.get(key))
            by = y + index * bar_h
            if value is None:
                text = NOT_MEASURED if key == "mean_performance_score" else "-"
                parts.append(f'<text x="{label_w + 4}" y="{by + bar_h - 1}" class="na">{esc(series)}: {text}</text>')
                continue
            w = max(0.0, min(1.0, value)) * plot_w
            shown = pct(value) if key != "mean_performance_score" else f"{value:.3f}"
            parts.append(f'<rect x="{label_w}" y="{by}" width="{w:.1f}" height="{bar_h - 1}" fill="{color}">'
                         f'<title>{esc(label)}: {esc(series)} {esc(shown)}</title></rect>'
                         f'<text x="{label_w + w + 4:.1f}" y="{by + bar_h - 1}" class="val">{esc(shown)}</text>')
    legend_x = 0
    for _key, series, color in BAR_SERIES:
        parts.append(f'<rect x="{legend_x}" y="{height - 10}" width="9" height="9" fill="{color}"/>'
                     f'<text x="{legend_x + 13}" y="{height - 2}" class="tick">{esc(series)}</text>')
        legend_x += 20 + 5.2 * len(series)
    parts.append("</svg>")
    return "".join(parts)


def _decades(lo: float, hi: float) -> tuple[int, int]:
    a, b = math.floor(math.log10(lo)), math.ceil(math.log10(hi))
    return (a, b) if b > a else (a, a + 1)


def _ai_label(exponent: int) -> str:
    value = 10.0 ** exponent
    return f"{value:g}" if -3 <= exponent <= 4 else f"1e{exponent}"


def roofline_svg(report: dict[str, Any]) -> str:
    """Log-log roofline: x = arithmetic intensity (FLOP/byte), y = achieved FLOP/s per item and scale, under
    min(peak FLOP/s, AI x peak bandwidth) from run.peaks."""
    run = report.get("run") or {}
    peaks = run.get("peaks") if isinstance(run.get("peaks"), dict) else {}
    points, skipped = roofline_points(report)
    bandwidth = _number(peaks.get("dram_bw"))
    primary = primary_flop_peak(peaks)
    roofs = flop_peaks(peaks)

    xs = [p["ai"] for p in points]
    ys = [p["perf"] for p in points]
    x_lo, x_hi = (min(xs) / 2, max(xs) * 2) if xs else (1 / 16, 1024)
    y_lo, y_hi = (min(ys) / 3, max(ys) * 3) if ys else (1e9, 1e14)
    if primary and bandwidth:
        ridge = primary[1] / bandwidth
        x_lo, x_hi = min(x_lo, ridge / 64), max(x_hi, ridge * 8)
    if roofs:
        y_hi = max(y_hi, max(roofs.values()) * 2)
        y_lo = min(y_lo, (bandwidth or min(roofs.values()) / 100) * x_lo)
    x0, x1 = _decades(x_lo, x_hi)
    y0, y1 = _decades(y_lo, y_hi)

    left, right, top, bottom, width, height = 96, 132, 30, 46, 1100, 400
    plot_w, plot_h = width - left - right, height - top - bottom

    def px(ai: float) -> float:
        return left + (math.log10(ai) - x0) / (x1 - x0) * plot_w

    def py(perf: float) -> float:
        return top + plot_h - (math.log10(perf) - y0) / (y1 - y0) * plot_h

    gpu = run.get("gpu") if isinstance(run.get("gpu"), dict) else {}
    subtitle = " · ".join(x for x in (esc(gpu.get("name")) if gpu else "",
                                      f"peaks: {esc(peaks.get('source'))}" if peaks.get("source") else "") if x)
    parts = [f'<svg id="roofline" class="chart" viewBox="0 0 {width} {height}" width="{width}" height="{height}" '
             f'role="img" aria-label="roofline chart">',
             f'<text x="{left}" y="16" class="ctitle">Roofline{": " + subtitle if subtitle else ""}</text>',
             f'<defs><clipPath id="plotclip"><rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}"/>'
             f'</clipPath></defs>',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="plotbg"/>']
    for e in range(x0, x1 + 1):
        x = px(10.0 ** e)
        parts.append(f'<line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{top + plot_h}" class="grid"/>'
                     f'<text x="{x:.1f}" y="{top + plot_h + 16}" class="tick" text-anchor="middle">'
                     f'{_ai_label(e)}</text>')
    for e in range(y0, y1 + 1):
        y = py(10.0 ** e)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 4:.1f}" class="tick" text-anchor="end">'
                     f'{esc(si(10.0 ** e, "FLOP/s"))}</text>')
    parts.append(f'<text x="{left + plot_w / 2}" y="{height - 8}" class="axis" text-anchor="middle">'
                 f'arithmetic intensity (FLOP/byte)</text>'
                 f'<text x="14" y="{top + plot_h / 2}" class="axis" text-anchor="middle" '
                 f'transform="rotate(-90 14 {top + plot_h / 2})">achieved FLOP/s</text>')
    parts.append('<g clip-path="url(#plotclip)">')
    by_value: dict[float, list[str]] = {}
    for name, peak in roofs.items():  # equal roofs (fp16_tensor and bf16_tensor) share one line and label
        by_value.setdefault(peak, []).append(name)
    if bandwidth:
        for peak, names in sorted(by_value.items()):
            name = "/".join(names)
            is_primary = primary is not None and primary[0] in names
            ridge = peak / bandwidth
            a, b = 10.0 ** x0, 10.0 ** x1
            flat = f"L{px(b):.1f},{py(peak):.1f}"
            path = (f"M{px(a):.1f},{py(a * bandwidth):.1f} L{px(ridge):.1f},{py(peak):.1f} {flat}" if ridge > a
                    else f"M{px(a):.1f},{py(peak):.1f} {flat}")
            parts.append(f'<path d="{path}" class="{"roof" if is_primary else "roof2"}"><title>{esc(name)} roof: '
                         f'{esc(si(peak, "FLOP/s"))}, ridge at {ridge:.3g} FLOP/byte</title></path>')
    parts.append("</g>")
    if bandwidth:
        for peak, names in by_value.items():
            name = "/".join(names)
            parts.append(f'<text x="{left + plot_w - 6}" y="{py(peak) - 5:.1f}" class="rooflabel" '
                         f'text-anchor="end">{esc(name)} {esc(si(peak, "FLOP/s"))}</text>')
        angle = -math.degrees(math.atan2(plot_h / (y1 - y0), plot_w / (x1 - x0)))
        # The label sits on the sloped roof, a little inside the plot, left of the ridge.
        bx = max(10.0 ** (x0 + 0.35), 10.0 ** (y0 + 0.35) / bandwidth)
        if bx * bandwidth < 10.0 ** y1 and (not primary or bx * 4 < primary[1] / bandwidth):
            parts.append(f'<text x="{px(bx):.1f}" y="{py(bx * bandwidth) - 6:.1f}" class="rooflabel" '
                         f'transform="rotate({angle:.1f} {px(bx):.1f} {py(bx * bandwidth) - 6:.1f})">'
                         f'DRAM {esc(si(bandwidth, "B/s"))}</text>')
    domains = sorted({str(p["item"].get("domain")) for p in points})
    colors = {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(domains)}
    parts.append('<g clip-path="url(#plotclip)">')
    for p in points:
        item, scale = p["item"], p["scale"]
        sizes = ", ".join(f"{k}={v}" for k, v in (scale.get("sizes") or {}).items())
        tip = (f"{item.get('task')} level {item.get('level')} sample {item.get('sample')} [{sizes}]\n"
               f"AI {p['ai']:.3g} FLOP/byte, {si(p['perf'], 'FLOP/s')}, "
               f"median {seconds(_number(scale.get('median_s')))}"
               f", score {score(_number(scale.get('score')))}")
        parts.append(f'<circle cx="{px(p["ai"]):.1f}" cy="{py(p["perf"]):.1f}" r="4.5" '
                     f'fill="{colors[str(item.get("domain"))]}" class="pt"><title>{esc(tip)}</title></circle>')
    parts.append("</g>")
    for i, domain in enumerate(domains[:16]):
        y = top + 14 + i * 16
        parts.append(f'<circle cx="{left + plot_w + 12}" cy="{y - 4}" r="4.5" fill="{colors[domain]}"/>'
                     f'<text x="{left + plot_w + 22}" y="{y}" class="tick">{esc(domain)}</text>')
    notes = []
    if not points:
        notes.append(NOT_MEASURED_NOTE)
    elif not bandwidth or not roofs:
        notes.append("no GPU peaks recorded: the roof is not drawn")
    if skipped:
        notes.append(f"{skipped} timed scale(s) without FLOPs not shown")
    for i, note in enumerate(notes):
        if note == NOT_MEASURED_NOTE:
            parts.append(f'<text x="{left + plot_w / 2}" y="{top + plot_h / 2}" text-anchor="middle" '
                         f'class="bignote">{esc(note)}</text>')
        else:
            parts.append(f'<text x="{left + 8}" y="{top + 18 + 16 * i}" class="note">'
                         f'{esc(note)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def refined_items(report: dict[str, Any]) -> list[dict[str, Any]]:
    return [i for i in report.get("items") or [] if isinstance(i, dict) and isinstance(i.get("refinement"), dict)
            and i["refinement"].get("status") in ("done", "stopped")]


def refinement_svg(report: dict[str, Any]) -> str:
    """Speedup against the task's solution (log scale) of each refined item's kept version after each round
    (round 0: the first answer), one line per item; a hollow mark where a round's candidates kept nothing."""
    lines = []
    for item in refined_items(report):
        numbers = [_number(v) for v in item["refinement"].get("trajectory") or []]
        trajectory = [v for v in numbers if v is not None and v > 0]
        if trajectory and len(trajectory) == len(numbers):  # a round without a speedup leaves the item out
            lines.append((item, trajectory))
    left, right, top, bottom, width, height = 70, 220, 30, 40, 760, 300
    plot_w, plot_h = width - left - right, height - top - bottom
    parts = [f'<svg id="refinement" class="chart" viewBox="0 0 {width} {height}" width="{width}" '
             f'height="{height}" role="img" aria-label="refinement trajectories">',
             '<text x="0" y="14" class="ctitle">speedup of the kept version by refinement round</text>',
             f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" class="plotbg"/>']
    if not lines:
        parts.append(f'<text x="{left + 8}" y="{top + 18}" class="note">no measured trajectory</text></svg>')
        return "".join(parts)
    rounds = max(len(t) for _, t in lines) - 1
    values = [v for _, t in lines for v in t]
    y0, y1 = _decades(min(values) / 1.5, max(values) * 1.5)

    def px(r: int) -> float:
        return left + (r / rounds if rounds else 0.5) * plot_w

    def py(v: float) -> float:
        return top + plot_h - (math.log10(v) - y0) / (y1 - y0) * plot_h

    for e in range(y0, y1 + 1):
        y = py(10.0 ** e)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" class="grid"/>'
                     f'<text x="{left - 6}" y="{y + 3:.1f}" class="tick" text-anchor="end">{_ai_label(e)}x</text>')
    for r in range(rounds + 1):
        parts.append(f'<text x="{px(r):.1f}" y="{top + plot_h + 14}" class="tick" text-anchor="middle">{r}</text>')
    parts.append(f'<text x="{left + plot_w / 2:.1f}" y="{height - 6}" class="axis" text-anchor="middle">'
                 'round</text>')
    for n, (item, trajectory) in enumerate(lines):
        color = PALETTE[n % len(PALETTE)]
        label = f"{item.get('task')} level {item.get('level')} sample {item.get('sample')}"
        points = " ".join(f"{px(r):.1f},{py(v):.1f}" for r, v in enumerate(trajectory))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2">'
                     f'<title>{esc(label)}</title></polyline>')
        kept = {rnd.get("round"): rnd.get("kept_candidate") for rnd in item["refinement"].get("rounds") or []}
        for r, v in enumerate(trajectory):
            fill = color if kept.get(r) is not None else "#fff"
            parts.append(f'<circle cx="{px(r):.1f}" cy="{py(v):.1f}" r="3.5" fill="{fill}" stroke="{color}">'
                         f'<title>{esc(label)}: round {r}, {v:.3g}x</title></circle>')
        if n < 12:
            parts.append(f'<rect x="{left + plot_w + 12}" y="{top + 14 * n}" width="9" height="9" fill="{color}"/>'
                         f'<text x="{left + plot_w + 25}" y="{top + 8 + 14 * n}" class="tick">{esc(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def refinement_section(report: dict[str, Any]) -> str:
    """The trajectory chart, only for runs that refined."""
    if not refined_items(report):
        return ""
    return f'<h2>Refinement</h2><div class="panel">{refinement_svg(report)}</div>'


# --- page sections ------------------------------------------------------------------------------------------------

def _card(label: str, value: str, sub: str = "", big: bool = False) -> str:
    return (f'<div class="card{" big" if big else ""}"><div class="cl">{esc(label)}</div>'
            f'<div class="cv">{esc(value)}</div>{f"<div class=cs>{esc(sub)}</div>" if sub else ""}</div>')


def headline(report: dict[str, Any]) -> str:
    run = report.get("run") or {}
    overall = (report.get("aggregates") or {}).get("overall") or {}
    t = report.get("totals") or {}
    gpu = run.get("gpu") if isinstance(run.get("gpu"), dict) else None
    runtimes = _item_runtimes(report)
    duration = _number(run.get("duration_s"))
    cards = [
        _card("CUDABench-Score", score(_number(overall.get("cudabench_score"))),
              "" if overall.get("cudabench_score") is not None else "timing needs a GPU", big=True),
        _card("Compiled", pct(_number(overall.get("compile_rate"))), f"of {overall.get('n_judged', 0)} judged"),
        _card("Correct", pct(_number(overall.get("correct_rate"))), f"of {overall.get('n_judged', 0)} judged"),
        _card("Mean Performance-Score", score(_number(overall.get("mean_performance_score")))),
    ]
    if overall.get("cudabench_score_ncu") is not None:  # --cudabench-perf=ncu: the paper's own definition beside ours
        cards.append(_card("CUDABench-Score (ncu)", score(_number(overall.get("cudabench_score_ncu"))),
                           "CUDABench's counter-based Performance-Score: measured work"))
    cards += [
        _card("Items", str(t.get("collected", len(report.get("items") or []))),
              f"{t.get('passed', 0)} passed · {t.get('failed', 0)} failed · {t.get('skipped', 0)} skipped · "
              f"{t.get('error', 0)} errors"),
        _card("Model", str(run.get("model") or "-"),
              ", ".join(str(m) for m in run.get("models") or []) if run.get("models") else ""),
        _card("Seed", str(run.get("seed") if run.get("seed") is not None else "-")),
        _card("GPU", gpu.get("name", "?") if gpu else "none", "" if gpu else NOT_MEASURED_NOTE),
        _card("Runtime", str(run.get("runtime") or "-"), "items ran on " + "/".join(runtimes) if runtimes else ""),
        _card("Duration", seconds(duration) if duration is not None else "-",
              f"{run.get('started', '')} → {run.get('finished', '')}"),
    ]
    return '<section class="cards">' + "".join(cards) + "</section>"


def _stage_chips(item: dict[str, Any]) -> str:
    stages = item.get("stages") if isinstance(item.get("stages"), dict) else {}
    names = list(STAGES) + [s for s in stages if s not in STAGES]
    chips = []
    for name in names:
        record = stages.get(name)
        if record is None:
            if name in STAGES:
                chips.append(f'<span class="chip none" title="{esc(name)}: not reached">{esc(name)}</span>')
            continue
        status = str(record.get("status", "?")) if isinstance(record, dict) else str(record)
        tip = f"{name}: {status}"
        if isinstance(record, dict):
            if record.get("duration_s") is not None:
                tip += f" ({seconds(_number(record.get('duration_s')))})"
            if record.get("message"):
                tip += f"\n{record['message']}"
        css = re.sub(r"[^a-z-]", "", status.lower()) or "unknown"
        chips.append(f'<span class="chip s-{css}" title="{esc(tip)}">{esc(name)}</span>')
    return "".join(chips)


def _scales_table(scales: list[dict[str, Any]]) -> str:
    rows = []
    for s in scales:
        median, flops, nbytes = (_number(s.get(k)) for k in ("median_s", "flops", "bytes"))
        sizes = ", ".join(f"{k}={v}" for k, v in (s.get("sizes") or {}).items())
        rows.append(f"<tr><td>{esc(sizes)}</td><td>{esc(seconds(median))}</td>"
                    f"<td>{esc(seconds(_number(s.get('iqr_s'))))}</td><td>{esc(s.get('n', '-'))}</td>"
                    f"<td>{'yes' if s.get('converged') else 'no'}</td>"
                    f"<td>{esc(si(flops / median, 'FLOP/s') if flops and median else '-')}</td>"
                    f"<td>{esc(si(nbytes / median, 'B/s') if nbytes and median else '-')}</td>"
                    f"<td>{esc(seconds(_number(s.get('bound_s'))))}</td>"
                    f"<td>{esc(score(_number(s.get('score'))))}</td></tr>")
    return ('<table class="scales"><tr><th>sizes</th><th>median</th><th>IQR</th><th>n</th><th>converged</th>'
            '<th>achieved</th><th>bandwidth</th><th>bound</th><th>score</th></tr>' + "".join(rows) + "</table>")


def _details(item: dict[str, Any]) -> str:
    parts = []
    message = item.get("message")
    if message:
        parts.append(f'<div class="dh">message</div><pre class="msg">{esc(message)}</pre>')
    stages = item.get("stages") if isinstance(item.get("stages"), dict) else {}
    compile_record = stages.get("compile") if isinstance(stages.get("compile"), dict) else {}
    if compile_record.get("log") and compile_record.get("status") != "passed":
        parts.append(f'<div class="dh">compiler output</div><pre class="msg">{esc(compile_record["log"])}</pre>')
    scales = timing_scales(item)
    if scales:
        parts.append('<div class="dh">timing</div>' + _scales_table(scales))
    source = item.get("source")
    if isinstance(source, str) and source:
        lines = source.count("\n") + (0 if source.endswith("\n") else 1)
        parts.append(f'<details class="src"><summary>source ({lines} lines)</summary>'
                     f'<pre class="code"><code>{highlight(source)}</code></pre></details>')
    else:
        content = (item.get("generation") or {}).get("content") if isinstance(item.get("generation"), dict) else None
        if content:
            parts.append(f'<details class="src"><summary>raw answer (no source extracted)</summary>'
                         f'<pre class="code">{esc(content)}</pre></details>')
    return "".join(parts) or '<span class="muted">no details</span>'


def _search_text(item: dict[str, Any]) -> str:
    fields = (item.get("task"), item.get("title"), item.get("domain"), item.get("tier"), item.get("nodeid"),
              item.get("outcome"), item.get("failed_stage"), item.get("message"), f"level{item.get('level')}")
    return " ".join(str(f) for f in fields if f is not None).lower()


def items_table(items: list[dict[str, Any]]) -> str:
    bodies = []
    for item in items:
        outcome = str(item.get("outcome") or "error")
        first_line = (str(item.get("message") or "").strip().splitlines() or [""])[0]
        if len(first_line) > 140:
            first_line = first_line[:139] + "…"
        perf, speedup = _number(item.get("performance_score")), _number(item.get("speedup"))
        bodies.append(
            f'<tbody class="item" data-outcome="{esc(outcome)}" data-domain="{esc(item.get("domain"))}" '
            f'data-level="{esc(item.get("level"))}" data-search="{esc(_search_text(item))}">'
            f'<tr class="main"><td><span class="task" title="{esc(item.get("nodeid"))}">{esc(item.get("task"))}</span>'
            f'<div class="muted">{esc(item.get("title"))}</div></td>'
            f'<td>{esc(item.get("domain"))}</td><td class="num">{esc(item.get("level"))}</td>'
            f'<td class="num">{esc(item.get("sample"))}</td>'
            f'<td><span class="badge o-{esc(outcome)}">{esc(outcome)}</span></td>'
            f'<td class="chips">{_stage_chips(item)}</td>'
            f'<td class="num">{esc(score(perf) if perf is not None else "-")}</td>'
            f'<td class="num">{esc(f"{speedup:.2f}×" if speedup is not None else "-")}</td>'
            f'<td class="msgcell">{esc(first_line)}</td></tr>'
            f'<tr class="detail"><td colspan="9"><details><summary>details</summary>{_details(item)}</details>'
            f'</td></tr>'
            f'</tbody>')
    return ('<table id="items"><thead><tr><th>task</th><th>domain</th><th>level</th><th>sample</th><th>outcome</th>'
            '<th>stages</th><th>perf-score</th><th>speedup</th><th>message</th></tr></thead>'
            + "".join(bodies) + "</table>")


def _options(values: Iterable[str], label: str) -> str:
    return f'<option value="">{esc(label)}</option>' + "".join(
        f'<option value="{esc(v)}">{esc(v)}</option>' for v in values)


def filters(items: list[dict[str, Any]]) -> str:
    outcomes = [o for o in ("passed", "failed", "skipped", "error") if any(i.get("outcome") == o for i in items)]
    domains = sorted({str(i.get("domain")) for i in items})
    levels = sorted({str(i.get("level")) for i in items}, key=lambda v: (len(v), v))
    return ('<div class="filters">'
            '<input id="f-text" type="search" placeholder="filter: task, message, stage… (all words must match)" '
            'aria-label="text filter">'
            f'<select id="f-outcome" aria-label="outcome">{_options(outcomes, "all outcomes")}</select>'
            f'<select id="f-domain" aria-label="domain">{_options(domains, "all domains")}</select>'
            f'<select id="f-level" aria-label="level">{_options(levels, "all levels")}</select>'
            '<button id="f-expand" type="button">expand all</button>'
            f'<span id="f-count">{len(items)} items</span></div>')


CSS = """
*{box-sizing:border-box}body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1d2330;
background:#f5f6f8}header{background:#1d2330;color:#fff;padding:14px 24px}header h1{margin:0;font-size:20px}
header .sub{color:#aab3c5;font-size:12px}main{padding:16px 24px;max-width:1400px}
h2{font-size:16px;margin:16px 0 8px}.cards{display:flex;flex-wrap:wrap;gap:8px}
.card{background:#fff;border:1px solid #dde1e8;border-radius:6px;padding:6px 12px;min-width:110px}
.card.big{border-color:#4e79a7;background:#eef3fa}.cl{font-size:11px;color:#5b6475;text-transform:uppercase;
letter-spacing:.04em}.cv{font-size:19px;font-weight:600}.card.big .cv{font-size:24px}.cs{font-size:11px;color:#5b6475}
.charts{display:flex;flex-wrap:wrap;gap:12px;align-items:flex-start}.charts .panel{flex:1 1 330px;max-width:460px}
svg.bars{width:100%}.panel{background:#fff;border:1px solid #dde1e8;border-radius:6px;
padding:10px;overflow-x:auto}svg.chart{max-width:100%;height:auto;font-size:11px}svg .ctitle{font-size:13px;
font-weight:600;fill:#1d2330}svg .grid{stroke:#e3e6ec;stroke-width:1}svg .tick{fill:#5b6475;font-size:10px}
svg .label{fill:#1d2330;font-size:11px}svg .val{fill:#1d2330;font-size:9px}svg .na{fill:#8a93a5;font-size:9px;
font-style:italic}svg .axis{fill:#1d2330;font-size:12px}svg .plotbg{fill:#fbfcfd;stroke:#c9ced8}
svg .roof{fill:none;stroke:#1d2330;stroke-width:2.5}svg .roof2{fill:none;stroke:#8a93a5;stroke-width:1.2;
stroke-dasharray:5 4}svg .rooflabel{fill:#39414f;font-size:10px}svg .pt{stroke:#fff;stroke-width:1;opacity:.9}
svg .note{fill:#5b6475;font-size:12px}svg .bignote{fill:#c0392b;font-size:16px;font-weight:600}
.filters{display:flex;flex-wrap:wrap;gap:8px;align-items:center;margin-bottom:8px}
.filters input{flex:1;min-width:260px;padding:5px 8px;border:1px solid #c9ced8;border-radius:4px}
.filters select,.filters button{padding:4px 6px;border:1px solid #c9ced8;border-radius:4px;background:#fff}
#f-count{color:#5b6475;font-size:12px}table{border-collapse:collapse}#items{width:100%;background:#fff;
border:1px solid #dde1e8}#items th{text-align:left;font-size:12px;color:#5b6475;border-bottom:2px solid #dde1e8;
padding:6px;position:sticky;top:0;background:#fff}#items td{padding:5px 6px;vertical-align:top}
#items tbody.item{border-top:1px solid #e8ebf0}#items tr.detail td{padding-top:0}.num{text-align:right;
white-space:nowrap}.task{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;font-weight:600}
.muted{color:#8a93a5;font-size:11px}.msgcell{color:#8b2a20;font-size:12px;max-width:420px;word-break:break-word}
.badge{padding:1px 7px;border-radius:9px;font-size:11px;font-weight:600;color:#fff}.o-passed{background:#3f8f4f}
.o-failed{background:#c0392b}.o-error{background:#8e44ad}.o-skipped{background:#8a93a5}
.chips{white-space:nowrap}.chip{display:inline-block;font-size:10px;padding:0 4px;margin:0 2px 2px 0;
border-radius:3px;border:1px solid transparent}.s-passed{background:#dff1e3;color:#25633a}.s-failed,.s-error{
background:#f8dcd8;color:#8b2a20;border-color:#e0a49b}.s-skipped,.s-not-run{background:#eceef2;color:#5b6475;
border-style:dashed;border-color:#b7bdc9}.none{color:#b7bdc9;border-color:#e3e6ec}.s-running{background:#fff3cd}
details>summary{cursor:pointer;color:#4e79a7;font-size:12px}.dh{font-size:11px;text-transform:uppercase;
color:#5b6475;margin-top:6px}pre{margin:4px 0;padding:8px;border-radius:4px;overflow-x:auto;font:12px/1.45
ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}pre.msg{background:#fdf3f2;color:#6b1f17;white-space:pre-wrap}
pre.code{background:#1e2230;color:#e6e9ef;max-height:520px}.hk{color:#c792ea}.ht{color:#82aaff}.hb{color:#ffcb6b}
.hs{color:#c3e88d}.hc{color:#7f8aa3;font-style:italic}.hn{color:#f78c6c}.hp{color:#89ddff}
table.scales td,table.scales th{border:1px solid #e3e6ec;padding:2px 6px;font-size:11px}
footer{color:#8a93a5;font-size:11px;padding:16px 24px}.errors li{font-family:ui-monospace,monospace;font-size:12px}
"""

JS = """
(function () {
  'use strict';
  var text = document.getElementById('f-text'), outcome = document.getElementById('f-outcome');
  var domain = document.getElementById('f-domain'), level = document.getElementById('f-level');
  var count = document.getElementById('f-count'), expand = document.getElementById('f-expand');
  var rows = Array.prototype.slice.call(document.querySelectorAll('#items tbody.item'));
  var fields = {q: text, outcome: outcome, domain: domain, level: level};
  function apply(updateHash) {
    var words = text.value.toLowerCase().split(/\\s+/).filter(Boolean), shown = 0;
    rows.forEach(function (row) {
      var d = row.dataset, ok = (!outcome.value || d.outcome === outcome.value) &&
        (!domain.value || d.domain === domain.value) && (!level.value || d.level === level.value) &&
        words.every(function (w) { return d.search.indexOf(w) >= 0; });
      row.hidden = !ok;
      if (ok) { shown++; }
    });
    count.textContent = shown + ' of ' + rows.length + ' items';
    document.body.setAttribute('data-shown', String(shown));
    if (updateHash) {
      var params = [];
      Object.keys(fields).forEach(function (k) {
        if (fields[k].value) { params.push(k + '=' + encodeURIComponent(fields[k].value)); }
      });
      try { history.replaceState(null, '', params.length ? '#' + params.join('&') : location.pathname); } catch (e) {}
    }
  }
  location.hash.replace(/^#/, '').split('&').forEach(function (pair) {
    var i = pair.indexOf('='), key = pair.slice(0, i), el = fields[key];
    if (i > 0 && el) {
      var value = '';
      try { value = decodeURIComponent(pair.slice(i + 1)); } catch (e) {}
      var known = Array.prototype.some.call(el.options || [], function (o) { return o.value === value; });
      if (el.tagName === 'SELECT' && !known) { return; }
      el.value = value;
    }
  });
  text.addEventListener('input', function () { apply(true); });
  [outcome, domain, level].forEach(function (el) { el.addEventListener('change', function () { apply(true); }); });
  expand.addEventListener('click', function () {
    var open = expand.textContent === 'expand all';
    rows.forEach(function (row) {
      if (!row.hidden) {
        Array.prototype.forEach.call(row.querySelectorAll('details'), function (d) { d.open = open; });
      }
    });
    expand.textContent = open ? 'collapse all' : 'expand all';
  });
  apply(false);
  document.body.setAttribute('data-ready', '1');
})();
"""


def _csp() -> str:
    digest = base64.b64encode(hashlib.sha256(JS.encode()).digest()).decode()
    return (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; img-src data:; "
            "base-uri 'none'; form-action 'none'")


def _footer(report: dict[str, Any]) -> str:
    run = report.get("run") or {}
    bits = []
    peaks = run.get("peaks") if isinstance(run.get("peaks"), dict) else None
    if peaks:
        bits.append("peaks: " + ", ".join(peak_text(k, v) for k, v in peaks.items() if v not in (None, [], "")))
    versions = run.get("versions") if isinstance(run.get("versions"), dict) else {}
    if versions:
        bits.append("versions: " + ", ".join(f"{k} {v}" for k, v in versions.items()))
    for key in ("arch", "levels", "samples", "cases", "template_version", "workers"):
        if run.get(key) is not None:
            bits.append(f"{key}: {run[key]}")
    if run.get("source_runs"):
        bits.append("merged from: " + ", ".join(str(r) for r in run["source_runs"]))
    command = run.get("command")
    if command:
        bits.append("command: " + (" ".join(map(str, command)) if isinstance(command, list) else str(command)))
    return "<footer>" + "<br>".join(esc(b) for b in bits) + f"<br>schema: {esc(report.get('schema'))}</footer>"


def render(report: dict[str, Any]) -> str:
    run = report.get("run") or {}
    aggregates = report.get("aggregates") or {}
    items = [i for i in report.get("items") or [] if isinstance(i, dict)]
    title = f"CUDABench report: {run.get('model', '?')} ({run.get('id', '')})"
    errors = report.get("collection_errors") or []
    error_html = ""
    if errors:
        error_html = ('<h2>Collection errors</h2><ul class="errors">' + "".join(
            f"<li>{esc(e.get('path'))}: {esc(e.get('message'))}</li>" for e in errors if isinstance(e, dict))
            + "</ul>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f'<meta http-equiv="Content-Security-Policy" content="{esc(_csp())}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>"
        f"<header><h1>CUDABench report · {esc(run.get('model', '?'))}</h1>"
        f"<div class=\"sub\">run {esc(run.get('id', '?'))} · started {esc(run.get('started', '?'))}</div></header>"
        "<main>"
        + headline(report)
        + "<h2>Roofline</h2>"
        + f'<div class="panel">{roofline_svg(report)}</div>'
        + refinement_section(report)
        + '<h2>By domain, level and tier</h2><div class="charts">'
        + f'<div class="panel">{bar_chart(aggregates.get("by_domain") or {}, "by domain")}</div>'
        + f'<div class="panel">{bar_chart(aggregates.get("by_level") or {}, "by level", "level ")}</div>'
        + f'<div class="panel">{bar_chart(aggregates.get("by_tier") or {}, "by tier")}</div>'
        + "</div>"
        + "<h2>Items</h2>" + filters(items) + items_table(items)
        + error_html
        + "</main>" + _footer(report)
        + f"<script>{JS}</script></body></html>\n"
    )


def write_html(report: dict[str, Any], path: Path) -> Path:
    """Writes the report's HTML page to `path` (atomically) and returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(render(report), encoding="utf-8")
    os.replace(tmp, path)
    return path

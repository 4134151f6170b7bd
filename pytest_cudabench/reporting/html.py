"""The HTML report: one self-contained page (inline CSS, JS and SVG; no network) rendered from a JSON report.

The page is templates/report.html with static/report.css and static/report.js inlined (package files); each section
is an autoescaping HtmlTemplate, so every value from the report is escaped unless it is Markup (built here from
escaped parts); the SVG charts are built in Python.

Sections: headline scores; per-domain and per-level bar charts (compile rate, correct rate, mean Performance-Score);
a roofline chart of every timed item and scale under the GPU's roof; a filterable table of items with their stage
outcomes, error messages and syntax-highlighted sources.

Everything that comes from the report is HTML-escaped here, in Python: model answers are untrusted. The page's only
script is static/report.js, and a Content-Security-Policy allows that script alone (by its hash), so even a
hole in the escaping could not run injected code.
"""

from __future__ import annotations

import base64
import hashlib
import html
import math
import re
import string
from collections.abc import Collection, Iterable, Mapping
from importlib import resources
from pathlib import Path
from typing import Any

from ..files import atomic_write
from ..results import SET_STAGES, STAGES, ItemResult, Report, ReportGroup, RunRecord, message_summary
from ..source.lexer import scan
from .report import NOT_MEASURED, SEED_MODES, set_summary, shown_groups, thread_order_verdict
from .report import format_score as score

NOT_MEASURED_NOTE = "performance not measured (timing needs a GPU)"
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac", "#1f77b4", "#17becf", "#8c564b", "#bcbd22")


class Markup(str):
    """Text that is HTML already (escaped parts, our own tags, an SVG chart): templates insert it as it is."""

    __slots__ = ()


def esc(value: Any) -> Markup:
    """`value` escaped for HTML text and attribute values; Markup is returned as it is (never escaped twice)."""
    if isinstance(value, Markup):
        return value
    return Markup(html.escape("" if value is None else str(value), quote=True))


def join_html(parts: Iterable[Any], separator: Markup = Markup("")) -> Markup:
    return Markup(separator.join(esc(part) for part in parts))


class HtmlTemplate:
    """A string.Template that autoescapes: every value substituted is escaped unless it is Markup; a missing or
    unknown placeholder is an error."""

    def __init__(self, text: str):
        self.template = string.Template(text)
        self.names = {m.group("named") or m.group("braced") for m in self.template.pattern.finditer(text)} - {None}

    def __call__(self, **values: Any) -> Markup:
        extra = set(values) - self.names
        if extra:
            raise KeyError(f"HtmlTemplate has no placeholder {', '.join(sorted(extra))}")
        return Markup(self.template.substitute({name: esc(value) for name, value in values.items()}))


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
_CLASS = {"comment": "hc", "str": "hs", "chr": "hs", "num": "hn"}


def highlight(source: str) -> Markup:
    """Escaped HTML of a CUDA/C++ source with <span class=...> around keywords (hk), types (ht), CUDA built-ins
    (hb), strings (hs), comments (hc), numbers (hn) and preprocessor lines (hp); tokens from source.lexer."""
    out: list[str] = []
    position = 0
    directive: tuple[int, int] | None = None  # span of the preprocessor tokens being gathered into one hp span

    def flush_directive() -> None:
        nonlocal directive
        if directive:
            out.append(f'<span class="hp">{esc(source[directive[0]:directive[1]])}</span>')
            directive = None

    for token in scan(source):
        if token.pp and token.kind != "comment":
            if directive is None:
                out.append(esc(source[position:token.start]))
                directive = (token.start, token.end)
            else:
                directive = (directive[0], token.end)
            position = token.end
            continue
        flush_directive()
        css = _CLASS.get(token.kind)
        if token.kind == "id":
            text = token.text
            css = "hk" if text in KEYWORDS else "ht" if text in TYPES else "hb" if text in BUILTINS else None
        if css is None and token.kind != "comment":
            continue  # plain text: escaped with what follows
        out.append(esc(source[position:token.start]))
        out.append(f'<span class="{css}">{esc(source[token.start:token.end])}</span>')
        position = token.end
    flush_directive()
    out.append(esc(source[position:]))
    return Markup("".join(out))


_MARKUP_PART = re.compile(r'<span class="(h[a-z])">|</span>|\n')


def highlight_lines(source: str) -> list[Markup]:
    """`highlight(source)` cut into one Markup per source line; a span that runs over a line end (a block comment,
    a continued directive) is closed at the end of the line and opened again on the next."""
    lines: list[Markup] = []
    line: list[str] = []
    open_class: str | None = None
    marked = highlight(source)
    position = 0
    for part in _MARKUP_PART.finditer(marked):
        line.append(marked[position:part.start()])
        position = part.end()
        if part.group(1):
            open_class = part.group(1)
            line.append(part.group(0))
        elif part.group(0) == "</span>":
            open_class = None
            line.append("</span>")
        else:
            lines.append(Markup("".join(line) + ("</span>" if open_class else "")))
            line = [f'<span class="{open_class}">'] if open_class else []
    line.append(marked[position:])
    last = re.sub(r'<span class="h[a-z]"></span>', "", "".join(line))  # a span reopened after the last newline
    if last or not lines:
        lines.append(Markup(last))
    return lines


# Where a message cites a line of the answer: nvcc's "answer.cu(12): error", compute-sanitizer's "answer.cu:12",
# racecheck's "at line 12".
_CITED_LINE = re.compile(r"\.cu\((\d+)\)|\.cu:(\d+)\b|\bat line (\d+)\b")


def cited_lines(*texts: Any) -> set[int]:
    """The source lines the texts (an item's message, its compiler log) cite."""
    return {int(next(g for g in m.groups() if g)) for text in texts if isinstance(text, str)
            for m in _CITED_LINE.finditer(text)}


_SOURCE_LINE = HtmlTemplate('<span class="line$cited"><span class="ln" aria-hidden="true">$number</span>$code</span>')


def numbered_source(source: str, cited: Collection[int] = ()) -> Markup:
    """The highlighted source with line numbers; the lines in `cited` are marked (class "line cited")."""
    return join_html((_SOURCE_LINE(cited=" cited" if number in cited else "", number=number, code=code)
                      for number, code in enumerate(highlight_lines(source), 1)), Markup("\n"))


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


def _table(value: Any) -> dict[str, Any]:
    """A JSON object of the report, or an empty one where the report has something else (reports are input too)."""
    return value if isinstance(value, dict) else {}


def _number(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) \
        else None


# --- data helpers -------------------------------------------------------------------------------------------------

def timing_scales(item: ItemResult) -> list[dict[str, Any]]:
    time_stage = item["stages"].get("time") or {}
    scales = time_stage.get("scales") if isinstance(time_stage, dict) else None
    return [s for s in scales if isinstance(s, dict)] if isinstance(scales, list) else []


def roofline_points(report: Report) -> tuple[list[dict[str, Any]], int]:
    """(points, skipped): one point per item and scale with positive flops, bytes and median time; `skipped` counts
    timed scales that cannot be placed (no FLOPs, e.g. pure data movement)."""
    points, skipped = [], 0
    for item in report["items"]:
        for scale in timing_scales(item):
            flops, nbytes, median = (_number(scale.get(k)) for k in ("flops", "bytes", "median_s"))
            if flops and nbytes and median and flops > 0 and nbytes > 0 and median > 0:
                points.append({"ai": flops / nbytes, "perf": flops / median, "item": item, "scale": scale})
            else:
                skipped += 1
    return points, skipped


FLOP_PREFIXES = ("fp", "bf", "tf")  # fp32, fp64, fp16_tensor, bf16_tensor, tf32...; int8_tensor counts ops


def flop_peaks(peaks: Mapping[str, Any] | None) -> dict[str, float]:
    """The compute roofs of run.peaks (gpus.Peaks.to_dict): the positive FLOP/s figures, keyed fp*/bf*/tf*."""
    if not peaks:
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


def primary_flop_peak(peaks: Mapping[str, Any] | None) -> tuple[str, float] | None:
    roofs = flop_peaks(peaks)
    if not roofs:
        return None
    name = "fp32" if "fp32" in roofs else max(roofs, key=roofs.__getitem__)
    return name, roofs[name]


def _item_runtimes(report: Report) -> list[str]:
    return sorted({str(i["runtime"]) for i in report["items"] if i["runtime"]})


# --- SVG charts ---------------------------------------------------------------------------------------------------

BAR_SERIES = (("compile_rate", "compiled", "#76b7b2"), ("correct_rate", "correct", "#59a14f"),
              ("mean_performance_score", "mean Performance-Score", "#4e79a7"))
# What each bar counts, written beside its value (100 % of 3 must not read as 100 % of 300): rates are over the
# judged items, the mean Performance-Score over the correct items that were measured.
_BAR_COUNTS = {"compile_rate": "n_compiled", "correct_rate": "n_correct", "mean_performance_score": "n_measured"}


def bar_count(key: str, group: ReportGroup) -> str:
    """'2/3' (compiled or correct of the judged) or 'n=2' (measured items of a mean score)."""
    count = {"n_compiled": group["n_compiled"], "n_correct": group["n_correct"],
             "n_measured": group["n_measured"]}[_BAR_COUNTS[key]]
    if key == "mean_performance_score":
        return f"n={count}"
    return f"{count}/{group['n_judged']}"


def bar_chart(groups: Mapping[str, ReportGroup], title: str, label_prefix: str = "") -> str:
    """Horizontal grouped bars on a 0..1 scale, one group per row: compile rate, correct rate, mean
    Performance-Score (a score above 1 is clipped, its value written)."""
    label_w, plot_w, bar_h, gap, top = 96, 250, 9, 10, 30
    width = label_w + plot_w + 84
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
                     f'{esc(label)}<title>{esc(label)}: {esc(group["n_items"])} items, '
                     f'{esc(group["n_judged"])} judged</title></text>')
        rates = {"compile_rate": group["compile_rate"], "correct_rate": group["correct_rate"],
                 "mean_performance_score": group["mean_performance_score"]}
        for index, (key, series, color) in enumerate(BAR_SERIES):
            value = _number(rates[key])
            by = y + index * bar_h
            if value is None:
                text = NOT_MEASURED if key == "mean_performance_score" else f"- ({group['n_judged']} judged)"
                parts.append(f'<text x="{label_w + 4}" y="{by + bar_h - 1}" class="na">{esc(series)}: {text}</text>')
                continue
            w = max(0.0, min(1.0, value)) * plot_w
            shown = (pct(value) if key != "mean_performance_score" else f"{value:.3f}") + f" ({bar_count(key, group)})"
            parts.append(f'<rect x="{label_w}" y="{by}" width="{w:.1f}" height="{bar_h - 1}" fill="{color}">'
                         f'<title>{esc(label)}: {esc(series)} {esc(shown)}</title></rect>'
                         f'<text x="{label_w + w + 4:.1f}" y="{by + bar_h - 1}" class="val">{esc(shown)}</text>')
    legend_x = 0.0
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


def roofline_svg(report: Report) -> str:
    """Log-log roofline: x = arithmetic intensity (FLOP/byte), y = achieved FLOP/s per item and scale, under
    min(peak FLOP/s, AI x peak bandwidth) from run.peaks."""
    peaks = report["run"]["peaks"]
    points, skipped = roofline_points(report)
    bandwidth = _number(peaks.get("dram_bw")) if peaks else None  # lenient: a page never fails on odd peaks
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

    gpu = report["run"]["gpu"]
    subtitle = " · ".join(x for x in (esc(gpu.get("name")) if gpu else "",
                                      f"peaks: {esc(peaks.get('source'))}" if peaks and peaks.get("source") else "") if x)
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
    domains = sorted({str(p["item"]["domain"]) for p in points})
    colors = {d: PALETTE[i % len(PALETTE)] for i, d in enumerate(domains)}
    parts.append('<g clip-path="url(#plotclip)">')
    for p in points:
        item, scale = p["item"], p["scale"]
        sizes = ", ".join(f"{k}={v}" for k, v in (scale.get("sizes") or {}).items())
        tip = (f"{item['task']} level {item['level']} sample {item['sample']} [{sizes}]\n"
               f"AI {p['ai']:.3g} FLOP/byte, {si(p['perf'], 'FLOP/s')}, "
               f"median {seconds(_number(scale.get('median_s')))}"
               f", score {score(_number(scale.get('score')))}")
        parts.append(f'<circle cx="{px(p["ai"]):.1f}" cy="{py(p["perf"]):.1f}" r="4.5" '
                     f'fill="{colors[str(item["domain"])]}" class="pt"><title>{esc(tip)}</title></circle>')
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


def refined_items(report: Report) -> list[ItemResult]:
    return [i for i in report["items"] if "refinement" in i and i["refinement"]["status"] in ("done", "stopped")]


def refinement_svg(report: Report) -> str:
    """Speedup against the task's solution (log scale) of each refined item's kept version after each round
    (round 0: the first answer), one line per item; a hollow mark where a round's candidates kept nothing."""
    lines = []
    for item in refined_items(report):
        numbers = [_number(v) for v in item["refinement"].get("trajectory") or []]  # absent: not run
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
        label = f"{item['task']} level {item['level']} sample {item['sample']}"
        points = " ".join(f"{px(r):.1f},{py(v):.1f}" for r, v in enumerate(trajectory))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" stroke-width="2">'
                     f'<title>{esc(label)}</title></polyline>')
        kept = {rnd["round"]: rnd["kept_candidate"] for rnd in item["refinement"]["rounds"]}
        for r, v in enumerate(trajectory):
            fill = color if kept.get(r) is not None else "#fff"
            parts.append(f'<circle cx="{px(r):.1f}" cy="{py(v):.1f}" r="3.5" fill="{fill}" stroke="{color}">'
                         f'<title>{esc(label)}: round {r}, {v:.3g}x</title></circle>')
        if n < 12:
            parts.append(f'<rect x="{left + plot_w + 12}" y="{top + 14 * n}" width="9" height="9" fill="{color}"/>'
                         f'<text x="{left + plot_w + 25}" y="{top + 8 + 14 * n}" class="tick">{esc(label)}</text>')
    parts.append("</svg>")
    return "".join(parts)


def refinement_section(report: Report) -> str:
    """The trajectory chart, only for runs that refined."""
    if not refined_items(report):
        return ""
    return f'<h2>Refinement</h2><div class="panel">{refinement_svg(report)}</div>'


# --- page sections ------------------------------------------------------------------------------------------------
# Each section is an HtmlTemplate: every value put into it is escaped unless it is Markup (built here, from escaped
# parts, or an SVG chart).

_CARD = HtmlTemplate('<div class="card$big"><div class="cl">$label</div><div class="cv">$value</div>$sub</div>')
_CARD_SUB = HtmlTemplate('<div class=cs>$sub</div>')


def _card(label: str, value: str, sub: str = "", big: bool = False) -> Markup:
    return _CARD(big=" big" if big else "", label=label, value=value, sub=_CARD_SUB(sub=sub) if sub else "")


def headline(report: Report) -> Markup:
    run, overall, t = report["run"], report["aggregates"]["overall"], report["totals"]
    gpu = run["gpu"]
    runtimes = _item_runtimes(report)
    duration = _number(run["duration_s"])
    cards: list[Markup | None] = [
        _card("CUDABench-Score", score(overall["cudabench_score"]),
              "" if overall["cudabench_score"] is not None else "timing needs a GPU", big=True),
        _card("Compiled", pct(overall["compile_rate"]), f"of {overall['n_judged']} judged"),
        _card("Correct", pct(overall["correct_rate"]), f"of {overall['n_judged']} judged"),
        _card("Mean Performance-Score", score(overall["mean_performance_score"])),
    ]
    if overall["cudabench_score_ncu"] is not None:  # --cudabench-perf=ncu: the paper's own definition beside ours
        cards.append(_card("CUDABench-Score (ncu)", score(overall["cudabench_score_ncu"]),
                           "CUDABench's counter-based Performance-Score: measured work"))
    models = run.get("models")  # merged reports
    cards += [
        _card("Items", str(t["collected"]),
              f"{t['passed']} passed · {t['failed']} failed · {t['skipped']} skipped · {t['error']} errors"),
        usage_card(run),
        set_card(report["items"]),
        _card("Model", str(run["model"] or "-"), ", ".join(str(m) for m in models) if models else ""),
        _card("Seed", str(run["seed"] if run["seed"] is not None else "-")),
        _card("GPU", gpu.get("name", "?") if gpu else "none", "" if gpu else NOT_MEASURED_NOTE),
        _card("Runtime", str(run["runtime"] or "-"), "items ran on " + "/".join(runtimes) if runtimes else ""),
        _card("Duration", seconds(duration) if duration is not None else "-",
              f"{run['started'] or ''} → {run['finished'] or ''}"),
    ]
    return HtmlTemplate('<section class="cards">$cards</section>')(cards=join_html(c for c in cards if c is not None))


def usage_card(run: RunRecord) -> Markup | None:
    """Tokens and cost over every model of run.usage; None when no answer carried usage (offline answers)."""
    usage = list((run.get("usage") or {}).values())  # absent in reports older than usage
    tokens_in = sum(t["tokens_in"] for t in usage)
    tokens_out = sum(t["tokens_out"] for t in usage)
    if not (tokens_in or tokens_out):
        return None
    costs = [t["cost_usd"] for t in usage if t["tokens_in"] or t["tokens_out"]]
    if all(c is not None for c in costs):
        spent = sum(t["new_cost_usd"] or 0 for t in usage)
        cost = f"cost ${sum(c or 0 for c in costs):.4f} (this run ${spent:.4f})"
    else:
        cost = "cost not known (the model has no prices)"
    return _card("Tokens / cost", f"{si(tokens_in)} + {si(tokens_out)}", f"prompt + completion; {cost}")


def set_card(items: list[ItemResult]) -> Markup | None:
    """CUDABench-Set items: seed mode, the judges' agreement, the thread-order runs' verdicts."""
    summary = set_summary(items)
    if summary is None:
        return None
    agree = f"judges agree on {summary['judges_agree']} of {summary['judged_by_both']}" + (
        f", disagree on {summary['judges_disagree']}" if summary["judges_disagree"] else "")
    orders = ", ".join(f"{n} {verdict.replace('-', ' ')}" for verdict, n in sorted(summary["thread_order"].items()))
    modes = ", ".join(summary["seed_modes"])
    return _card("CUDABench-Set", f"seed mode {modes}", f"{agree}; thread order: {orders}")


_CHIP = HtmlTemplate('<span class="chip $css" title="$tip">$name</span>')


def stage_order(item: ItemResult) -> tuple[str, ...]:
    """The stages of the item's evaluation, in the order it runs them: a CUDABench-Set item's (data before
    execute, judge after it), else the pipeline's."""
    return SET_STAGES if "set" in item else STAGES


def _stage_chips(item: ItemResult) -> Markup:
    stages = item["stages"]
    order = stage_order(item)
    names = list(order) + [s for s in stages if s not in order]
    chips = []
    for name in names:
        record = stages.get(name)
        if record is None:
            if name in order:
                chips.append(_CHIP(css="none", tip=f"{name}: not reached", name=name))
            continue
        status = str(record["status"])
        tip = f"{name}: {status}"
        # The set's judge stage of older reports timed its bookkeeping only, not compare.py: no duration then.
        judged_elsewhere = name == "judge" and "set" in item and not record.get("ran_during")
        if not judged_elsewhere:
            tip += f" ({seconds(_number(record['duration_s']))}" + (
                f", run during {record['ran_during']}" if record.get("ran_during") else "") + ")"
        if record.get("message"):
            tip += f"\n{record['message']}"
        css = re.sub(r"[^a-z-]", "", status.lower()) or "unknown"
        chips.append(_CHIP(css=f"s-{css}", tip=tip, name=name))
    return join_html(chips)


_SCALE_ROW = HtmlTemplate("<tr><td>$sizes</td><td>$median</td><td>$iqr</td><td>$n</td><td>$converged</td>"
                          "<td>$achieved</td><td>$bandwidth</td><td>$bound</td><td>$score</td></tr>")
_SCALES = HtmlTemplate('<table class="scales"><tr><th>sizes</th><th>median</th><th>IQR</th><th>n</th>'
                       '<th>converged</th><th>achieved</th><th>bandwidth</th><th>bound</th><th>score</th></tr>'
                       "$rows</table>")


def _scales_table(scales: list[dict[str, Any]]) -> Markup:
    rows = []
    for s in scales:
        median, flops, nbytes = (_number(s.get(k)) for k in ("median_s", "flops", "bytes"))
        rows.append(_SCALE_ROW(
            sizes=", ".join(f"{k}={v}" for k, v in (s.get("sizes") or {}).items()), median=seconds(median),
            iqr=seconds(_number(s.get("iqr_s"))), n=s.get("n", "-"), converged="yes" if s.get("converged") else "no",
            achieved=si(flops / median, "FLOP/s") if flops and median else "-",
            bandwidth=si(nbytes / median, "B/s") if nbytes and median else "-",
            bound=seconds(_number(s.get("bound_s"))), score=score(_number(s.get("score")))))
    return _SCALES(rows=join_html(rows))


_FACT = HtmlTemplate("<tr><th>$name</th><td>$value</td></tr>")
_FACTS = HtmlTemplate('<div class="dh">$heading</div><table class="facts">$rows</table>')


def _verdict(ok: Any) -> str:
    return "not judged" if ok is None else "accepted" if ok else "rejected"


def set_facts(item: ItemResult) -> list[tuple[str, str]]:
    """A CUDABench-Set item's row, seed mode, both judges' verdicts and agreement, and its thread-order run."""
    facts = item["set"]
    rows = [("row", f"{facts['task']} scale {facts['scale']} ({facts['file']}, line {facts['line']})"),
            ("seed mode", f"{facts['seed_mode']} ({SEED_MODES.get(str(facts['seed_mode']), '?')})")]
    compare, own = _table(facts["compare"]), _table(facts["own_check"])
    if compare:
        rows.append(("compare.py", f"{_verdict(compare.get('passed'))}: {compare.get('message')}"))
    if own:
        outputs = _table(own.get("outputs"))
        rows.append(("our check", f"{_verdict(own.get('ok'))}: " + "; ".join(
            f"{name}: {_table(r).get('message')}" for name, r in outputs.items())))
    agree = facts["judges_agree"]
    rows.append(("judges", ("not judged: the item stopped before the judge stage" if not compare else
                            "not judged by both") if agree is None else "agree" if agree else
                 f"disagree: compare.py {_verdict(compare.get('passed'))} the outputs, our check "
                 f"{_verdict(own.get('ok'))} them"))
    verdict, message = thread_order_verdict(item)
    words = verdict.replace("-", " ")
    rows.append(("thread order", message if message.startswith(words) else f"{words}: {message}" if message
                 else words))
    return rows


_DETAIL_TEXT = HtmlTemplate('<div class="dh">$heading</div><pre class="msg">$text</pre>')
_DETAIL_TIMING = HtmlTemplate('<div class="dh">timing</div>$table')
_DETAIL_SOURCE = HtmlTemplate('<details class="src"><summary>$summary</summary><pre class="code">$code</pre></details>')
_NO_DETAILS = Markup('<span class="muted">no details</span>')


def _details(item: ItemResult) -> Markup:
    parts = []
    message = item["message"]
    if message:
        parts.append(_DETAIL_TEXT(heading="message", text=message))
    compile_record = item["stages"].get("compile") or {}
    if compile_record.get("log") and compile_record["status"] != "passed":
        parts.append(_DETAIL_TEXT(heading="compiler output", text=compile_record["log"]))
    if "set" in item:
        parts.append(_FACTS(heading="CUDABench-Set", rows=join_html(_FACT(name=name, value=value)
                                                                    for name, value in set_facts(item))))
    scales = timing_scales(item)
    if scales:
        parts.append(_DETAIL_TIMING(table=_scales_table(scales)))
    source = item["source"]
    if source:
        lines = source.count("\n") + (0 if source.endswith("\n") else 1)
        cited = cited_lines(message, compile_record.get("log"))
        summary = f"source ({lines} lines" + (f"; the message cites line{'s' if len(cited) > 1 else ''} "
                                             f"{', '.join(map(str, sorted(cited)))}"
                                             if cited else "") + ")"
        parts.append(_DETAIL_SOURCE(summary=summary, code=HtmlTemplate("<code>$code</code>")(
            code=numbered_source(source, cited))))
    else:
        content = item["generation"]["content"] if item["generation"] else None
        if content:
            parts.append(_DETAIL_SOURCE(summary="raw answer (no source extracted)", code=content))
    return join_html(parts) if parts else _NO_DETAILS


def _search_text(item: ItemResult) -> str:
    fields = (item["task"], item["title"], item["domain"], item["tier"], item["nodeid"], item["outcome"],
              item["failed_stage"], item["message"], f"level{item['level']}")
    return " ".join(str(f) for f in fields if f is not None).lower()


_ITEM = HtmlTemplate(
    '<tbody class="item" data-outcome="$outcome" data-domain="$domain" data-level="$level" data-search="$search">'
    '<tr class="main"><td><span class="task" title="$nodeid">$task</span><div class="muted">$title</div></td>'
    '<td>$domain</td><td class="num">$level</td><td class="num">$sample</td>'
    '<td><span class="badge o-$outcome">$outcome</span></td><td class="chips">$chips</td>'
    '<td class="num">$perf</td><td class="num">$speedup</td><td class="num">$usage</td><td class="msgcell">$message</td></tr>'
    '<tr class="detail"><td colspan="10"><details><summary>details</summary>$details</details></td></tr>'
    "</tbody>")
_ITEMS = HtmlTemplate(
    '<table id="items"><thead><tr><th>task</th><th>domain</th><th>level</th><th>sample</th><th>outcome</th>'
    "<th>stages</th><th>perf-score</th><th>speedup</th><th>tokens / cost</th><th>message</th></tr></thead>$bodies"
    "</table>")


def usage_cell(item: ItemResult) -> str:
    """Prompt/completion tokens of the item's answer and its cost when the model has prices: "1200/850 $0.0164"."""
    generation = item["generation"]
    tokens_in, tokens_out, cost = ((generation["tokens_in"], generation["tokens_out"], generation["cost_usd"])
                                   if generation else (None, None, None))
    text = f"{tokens_in or 0:.0f}/{tokens_out or 0:.0f}" if tokens_in is not None or tokens_out is not None else "-"
    return text + (f" ${cost:.4f}" if cost is not None else "")


def items_table(items: list[ItemResult]) -> Markup:
    bodies = []
    for item in items:
        outcome = str(item["outcome"] or "error")
        perf, speedup = item["performance_score"], item["speedup"]
        bodies.append(_ITEM(
            outcome=outcome, domain=item["domain"], level=item["level"], search=_search_text(item),
            nodeid=item["nodeid"], task=item["task"], title=item["title"], sample=item["sample"],
            chips=_stage_chips(item), perf=score(perf) if perf is not None else "-",
            speedup=f"{speedup:.2f}×" if speedup is not None else "-", usage=usage_cell(item),
            message=message_summary(item["message"]), details=_details(item)))
    return _ITEMS(bodies=join_html(bodies))


_OPTION = HtmlTemplate('<option value="$value">$label</option>')


def _options(values: Iterable[str], label: str) -> Markup:
    return join_html([_OPTION(value="", label=label)] + [_OPTION(value=v, label=v) for v in values])


_FILTERS = HtmlTemplate(
    '<div class="filters">'
    '<input id="f-text" type="search" placeholder="filter: task, message, stage… (all words must match)" '
    'aria-label="text filter">'
    '<select id="f-outcome" aria-label="outcome">$outcomes</select>'
    '<select id="f-domain" aria-label="domain">$domains</select>'
    '<select id="f-level" aria-label="level">$levels</select>'
    '<button id="f-expand" type="button">expand all</button>'
    '<span id="f-count">$count items</span></div>')


def filters(items: list[ItemResult]) -> Markup:
    outcomes = [o for o in ("passed", "failed", "skipped", "error") if any(i["outcome"] == o for i in items)]
    domains = sorted({str(i["domain"]) for i in items})
    levels = sorted({str(i["level"]) for i in items}, key=lambda v: (len(v), v))
    return _FILTERS(outcomes=_options(outcomes, "all outcomes"), domains=_options(domains, "all domains"),
                    levels=_options(levels, "all levels"), count=len(items))


def _package_file(*parts: str) -> str:
    return resources.files(__package__).joinpath(*parts).read_text(encoding="utf-8")


CSS = _package_file("static", "report.css")
JS = _package_file("static", "report.js")
PAGE = HtmlTemplate(_package_file("templates", "report.html"))


def content_security_policy(script: str) -> str:
    """Only this page's own script (by hash) runs: an answer's source or message cannot inject one."""
    digest = base64.b64encode(hashlib.sha256(script.encode()).digest()).decode()
    return (f"default-src 'none'; script-src 'sha256-{digest}'; style-src 'unsafe-inline'; img-src data:; "
            "base-uri 'none'; form-action 'none'")


_FOOTER = HtmlTemplate("<footer>$bits<br>schema: $schema</footer>")


def _footer(report: Report) -> Markup:
    run = report["run"]
    bits = []
    peaks = run["peaks"]
    if peaks:
        bits.append("peaks: " + ", ".join(peak_text(k, v) for k, v in peaks.items() if v not in (None, [], "")))
    if run["versions"]:
        bits.append("versions: " + ", ".join(f"{k} {v}" for k, v in run["versions"].items()))
    facts = (("arch", run["arch"]), ("levels", run["levels"]), ("samples", run["samples"]), ("cases", run["cases"]),
             ("template_version", run["template_version"]), ("workers", run["workers"]))
    bits += [f"{key}: {value}" for key, value in facts if value is not None]
    if run.get("source_runs"):  # merged reports
        bits.append("merged from: " + ", ".join(str(r) for r in run["source_runs"]))
    command = run["command"]
    if command:
        bits.append("command: " + (" ".join(map(str, command)) if isinstance(command, list) else str(command)))
    return _FOOTER(bits=join_html(bits, Markup("<br>")), schema=report["schema"])


_TIER_PANEL = HtmlTemplate('<div class="panel">$chart</div>')
_ERRORS = HtmlTemplate('<h2>Collection errors</h2><ul class="errors">$rows</ul>')
_ERROR = HtmlTemplate("<li>$path: $message</li>")


def render(report: Report) -> str:
    run, aggregates, items, errors = report["run"], report["aggregates"], report["items"], report["collection_errors"]
    tiers = shown_groups(aggregates, "by_tier")
    return PAGE(
        csp=content_security_policy(JS), title=f"CUDABench report: {run['model']} ({run['id']})",
        css=Markup(CSS), script=Markup(JS), model=run["model"], run_id=run["id"],
        started=run["started"] or "?", headline=headline(report),
        # the SVG charts are built in Python and escape what they take from the report themselves
        roofline=Markup(roofline_svg(report)), refinement=Markup(refinement_section(report)),
        by_domain=Markup(bar_chart(aggregates["by_domain"], "by domain")),
        by_level=Markup(bar_chart(aggregates["by_level"], "by level", "level ")),
        by_tier=_TIER_PANEL(chart=Markup(bar_chart(tiers, "by tier"))) if tiers else "",
        charts_title="By domain, level and tier" if tiers else "By domain and level",
        filters=filters(items), items=items_table(items),
        collection_errors=_ERRORS(rows=join_html(_ERROR(path=e["path"], message=e["message"])
                                                 for e in errors)) if errors else "",
        footer=_footer(report))


def write_html(report: Report, path: Path) -> Path:
    """Writes the report's HTML page to `path` (atomically) and returns the path."""
    return atomic_write(path, render(report))

"""The leaderboard's HTML page: one self-contained file (inline CSS, JS and SVG; no network), like the run page.

Sections: caveats; the models table with the 95 % intervals drawn as whiskers; the models x levels table of the
CUDABench paper; the pairwise matrix of McNemar p-values (raw and Holm-adjusted); a per-domain heatmap of correct
rates; the item matrix (task x level x sample rows, a column per model), sortable by any column and filterable,
each cell linking to that item's message and source further down the page.

The run page's rules hold (reporting/html.py, whose escaping helpers and stylesheet this page reuses): every
string from the reports is escaped here, and a Content-Security-Policy allows only this page's own script.
"""

from __future__ import annotations

from collections.abc import Sequence
from importlib import resources

from .html import CSS as RUN_PAGE_CSS
from .html import HtmlTemplate, Markup, content_security_policy, esc, highlight, join_html
from .leaderboard import (
    Leaderboard,
    ModelRuns,
    cell_text,
    group_rows,
    left_out_lines,
    methods_line,
    p_text,
    paper_rows,
    pct,
    pct_interval,
    score_text,
)


def _package_file(*parts: str) -> str:
    return resources.files(__package__).joinpath(*parts).read_text(encoding="utf-8")


CSS = RUN_PAGE_CSS + _package_file("static", "leaderboard.css")
JS = _package_file("static", "leaderboard.js")
PAGE = HtmlTemplate(_package_file("templates", "leaderboard.html"))
STATUS_ORDER = {"pass": 0, "fail": 1, "error": 2, "skip": 3, None: 4}
HIGHLIGHT_LIMIT = 600  # distinct sources; beyond, plain text: highlighting costs ~5 ms a source


def whisker(value: float | None, interval: Sequence[float] | None, top: float = 1.0) -> Markup:
    """A small SVG: the 0..top axis, the interval as a bar and the value as a dot."""
    if value is None:
        return Markup("")
    width, pad = 90, 4

    def x(v: float) -> float:
        return pad + max(0.0, min(1.0, v / top)) * (width - 2 * pad)

    parts = [f'<svg class="whisker" width="{width}" height="14" viewBox="0 0 {width} 14" role="img" '
             f'aria-label="{esc(pct_interval(interval))}">',
             f'<line class="axis" x1="{pad}" y1="7" x2="{width - pad}" y2="7"/>']
    if interval:
        parts.append(f'<line class="range" x1="{x(interval[0]):.1f}" y1="7" x2="{x(interval[1]):.1f}" y2="7"/>'
                     f'<line class="range" x1="{x(interval[0]):.1f}" y1="3" x2="{x(interval[0]):.1f}" y2="11"/>'
                     f'<line class="range" x1="{x(interval[1]):.1f}" y1="3" x2="{x(interval[1]):.1f}" y2="11"/>')
    parts.append(f'<circle class="dot" cx="{x(value):.1f}" cy="7" r="3.2"/></svg>')
    return Markup("".join(parts))


_ROW = HtmlTemplate(
    "<tr><td>$rank</td><td class=model>$model</td><td class=num>$judged</td><td class=num>$errors</td>"
    "<td class=num>$skipped</td><td class=num>$compiled</td><td class=num>$correct <span class=ci>$correct_ci</span>"
    "</td><td>$correct_whisker</td>$pass_cells<td class=num>$score <span class=ci>$score_ci</span></td>"
    "<td>$score_whisker</td><td>$perf</td>"
    "<td class=num>$tokens</td><td class=num>$cost</td><td>$better</td></tr>")
_PASS_CELLS = HtmlTemplate("<td class=num>$value <span class=ci>$ci</span></td><td>$whisker</td>")


def models_table(board: Leaderboard) -> Markup:
    rows = board["models"]
    ranks = {r["model"]: r["rank"] for r in rows}
    k_max = max((pk["k_max"] for r in rows if (pk := r["pass_at_k"])), default=1)
    score_top = max([1.0] + [r["cudabench_score_ci95"][1] for r in rows if r["cudabench_score_ci95"]])
    head = ["#", "model", "judged / items", "errors", "skips", "compiled", "correct [95% CI, Wilson]", ""]
    head += [f"pass@{k_max} [95% CI, bootstrap]", ""] if k_max > 1 else []
    head += ["CUDABench-Score [95% CI]", "", "mean Performance-Score", "tokens", "cost", "beats (Holm, 0.05)"]
    body = []
    for row in rows:
        pk = row["pass_at_k"]
        value = pk["values"].get(str(k_max)) if pk else None  # a model with fewer samples has no pass@k_max
        interval = pk["ci95"].get(str(k_max)) if pk else None
        pass_cells = _PASS_CELLS(value=pct(value), ci=pct_interval(interval), whisker=whisker(value, interval)) \
            if k_max > 1 else ""
        body.append(_ROW(
            rank=row["rank"], model=row["model"], judged=f"{row['judged']} / {row['items']}", errors=row["errors"],
            skipped=row["skipped"], compiled=pct(row["compile_rate"]), correct=pct(row["correct_rate"]),
            correct_ci=pct_interval(row["correct_ci95"]), correct_whisker=whisker(row["correct_rate"],
                                                                                  row["correct_ci95"]),
            pass_cells=pass_cells, score=score_text(row["cudabench_score"]),
            score_ci="" if not row["cudabench_score_ci95"] else
            f"[{row['cudabench_score_ci95'][0]:.3f}, {row['cudabench_score_ci95'][1]:.3f}]",
            score_whisker=whisker(row["cudabench_score"], row["cudabench_score_ci95"], score_top),
            perf=score_text(row["mean_performance_score"], row["mean_performance_score_ci95"]),
            tokens=f"{row['tokens_in']} + {row['tokens_out']}",
            cost="-" if row["cost_usd"] is None else f"${row['cost_usd']:.4f}",
            better=" ".join(f"#{ranks[m]}" for m in row["better_than"]) or "-"))
    return Markup('<table class="board"><thead><tr>' + "".join(f"<th>{esc(h)}</th>" for h in head)
                  + "</tr></thead><tbody>" + join_html(body) + "</tbody></table>")


def simple_table(header: list[str], cells: list[list[str]], css: str = "board") -> Markup:
    return Markup(f'<table class="{esc(css)}"><thead><tr>' + "".join(f"<th>{esc(h)}</th>" for h in header)
                  + "</tr></thead><tbody>"
                  + "".join("<tr>" + "".join(f"<td>{esc(c)}</td>" for c in row) + "</tr>" for row in cells)
                  + "</tbody></table>")


def pairs_matrix(board: Leaderboard) -> Markup:
    """m x m: the cell of two models holds the Holm-adjusted p (raw below), green where significant."""
    names = [r["model"] for r in board["models"]]
    ranks = {r["model"]: r["rank"] for r in board["models"]}
    if len(names) < 2:
        return Markup('<p class="muted">one model: nothing to pair</p>')
    found = {(p["a"], p["b"]): p for p in board["pairs"]}
    found.update({(p["b"], p["a"]): p for p in board["pairs"]})
    out = ['<table class="pmatrix"><tr><th></th>' + "".join(f'<th title="{esc(n)}">#{ranks[n]}</th>' for n in names)
           + "</tr>"]
    for a in names:
        cells = [f'<th title="{esc(a)}">#{ranks[a]} {esc(a)}</th>']
        for b in names:
            if a == b:
                cells.append('<td class="diag"></td>')
                continue
            p = found[(a, b)]
            only_a, only_b = p["discordant"] if p["a"] == a else p["discordant"][::-1]
            tip = (f"{a} vs {b}: {p['common_items']} common items; only {a} right: {only_a}, only {b} right: "
                   f"{only_b}; exact McNemar p = {p_text(p['p_value'])}, Holm {p_text(p['p_holm'])}")
            cells.append(f'<td class="{"sig" if p["significant"] else "nsig"}" title="{esc(tip)}">'
                         f'{esc(p_text(p["p_holm"]))}<div class="ci">raw {esc(p_text(p["p_value"]))} · '
                         f'{only_a}:{only_b}</div></td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table><p class=ci>cell: Holm-adjusted p; below it the raw p and the discordant items (row model "
               "only right : column model only right); green: significant at "
               f"{esc(board['methods']['alpha'])}</p>")
    return Markup("".join(out))


def heatmap(board: Leaderboard) -> Markup:
    """Domains x models, each cell coloured by its correct rate (red 0 % to green 100 %), with n and the interval."""
    header, _ = group_rows(board, "domain")
    names: list[str] = []
    for row in board["models"]:
        names += [n for n in row["by_domain"] if n not in names]
    out = ['<table class="heat"><tr>' + "".join(f"<th>{esc(h)}</th>" for h in header) + "</tr>"]
    for name in sorted(names):
        cells = [f"<th>{esc(name)}</th>"]
        for row in board["models"]:
            g = row["by_domain"].get(name)
            if g is None or g["correct_rate"] is None:
                cells.append("<td>-</td>")
                continue
            hue = round(120 * g["correct_rate"])
            cells.append(f'<td style="background:hsl({hue},55%,84%)" title="{esc(pct_interval(g["correct_ci95"]))}">'
                         f'{esc(pct(g["correct_rate"]))}<div class="ci">n={g["n"]} '
                         f'{esc(pct_interval(g["correct_ci95"]))}</div></td>')
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</table><p class=ci>over the common items; with a few items per domain most differences are within "
               "the intervals</p>")
    return Markup("".join(out))


_FILTERS = Markup(
    '<div class="filters"><input id="m-text" type="search" placeholder="filter: task, domain, stage, message… (all '
    'words must match)" aria-label="text filter"><select id="m-status" aria-label="status">'
    '<option value="">any status</option><option value="pass">some pass</option><option value="fail">some fail'
    '</option><option value="skip">some skip</option><option value="error">some error</option>'
    '<option value="absent">some absent</option></select><label><input id="m-differ" type="checkbox"> only items '
    'where the models differ</label><span id="m-count"></span></div>')


def _cell_id(row: int, column: int) -> str:
    return f"i-{row}-{column}"


def item_matrix(board: Leaderboard) -> Markup:
    models = board["matrix"]["models"]
    head = "".join(f"<th>{esc(h)}</th>" for h in ("task", "level", "sample", "domain")) + \
        "".join(f"<th>{esc(m)}</th>" for m in models)
    body = []
    for r, row in enumerate(board["matrix"]["rows"]):
        cells = [f'<td class="task" data-sort="{esc(row["task"])}">{esc(row["task"])}</td>',
                 f'<td data-sort="{esc(row["level"])}">{esc(row["level"])}</td>',
                 f'<td data-sort="{esc(row["sample"])}">{esc(row["sample"])}</td>',
                 f'<td data-sort="{esc(row["domain"])}">{esc(row["domain"])}</td>']
        statuses, search = [], [str(row["task"]), str(row["domain"]), f"level{row['level']}"]
        for c, model in enumerate(models):
            cell = row["cells"][model]
            state = cell["status"] if cell else None
            statuses.append(state or "absent")
            if cell is None:
                cells.append(f'<td data-sort="{STATUS_ORDER[None]}"><span class="st-absent">absent</span></td>')
                continue
            search += [cell_text(cell), cell["message"]]
            cells.append(f'<td data-sort="{STATUS_ORDER[state]}:{esc(cell["failed_stage"] or "")}">'
                         f'<a class="st st-{esc(state)}" href="#{_cell_id(r, c)}" title="{esc(cell["message"])}">'
                         f'{esc(cell_text(cell).replace(":", " · "))}</a></td>')
        differ = "1" if len({s for s in statuses}) > 1 else "0"
        body.append(f'<tr class="{"common" if row["common"] else "uncommon"}" data-search="{esc(" ".join(search).lower())}"'
                    f' data-statuses="{esc(" ".join(statuses))}" data-differ="{differ}">' + "".join(cells) + "</tr>")
    return Markup(f'<table id="matrix"><thead><tr>{head}</tr></thead><tbody>{"".join(body)}</tbody></table>'
                  '<p class=ci>click a column to sort; grey rows are not common to every model (left out of the '
                  'rates); a cell links to the item\'s message and source</p>')


_DETAIL = HtmlTemplate(
    '<div class="detail" id="$id"><b>$model</b> · <span class="task">$key</span> · $status '
    '<a href="#matrix">back to the matrix</a><div class="where">from $file</div>$message$source</div>')


def details(board: Leaderboard, models: dict[str, ModelRuns]) -> Markup:
    """One hidden block per cell (shown when its link is followed): the full message and the answer's source."""
    names = board["matrix"]["models"]
    out = []
    shown: dict[str, Markup] = {}  # one answer given for several items (levels, samples) is rendered once
    sources = {str(m.items[k].get("source")) for m in models.values() for k in m.items}
    colour = len(sources) <= HIGHLIGHT_LIMIT
    for r, row in enumerate(board["matrix"]["rows"]):
        for c, name in enumerate(names):
            cell = row["cells"][name]
            if cell is None:
                continue
            item = models[name].items[row["key"]]
            message = item["message"] or ""
            source = item["source"]
            if not source and item["generation"]:
                source = item["generation"]["content"]
            out.append(_DETAIL(
                id=_cell_id(r, c), model=name, key=row["key"], status=cell_text(cell), file=cell["file"],
                message=Markup(f'<pre class="msg">{esc(message)}</pre>') if message else "",
                source=Markup('<p class="muted">no source</p>') if not source else
                shown.setdefault(str(source), Markup(
                    f'<pre class="code">{highlight(str(source)) if colour else esc(source)}</pre>'))))
    return Markup("".join(out))


def caveats_box(board: Leaderboard) -> Markup:
    left = [line.strip() for line in left_out_lines(board)]  # the terminal's lines, without their indent
    box = ""
    if board["caveats"]:
        box = ('<div class="caveats"><b>Caveats</b><ul>' + "".join(f"<li>{esc(c)}</li>" for c in board["caveats"])
               + "</ul></div>")
    return Markup(box + "".join(f'<p class="leftout">{esc(line)}</p>' for line in left))


def render(board: Leaderboard, models: dict[str, ModelRuns]) -> str:
    sources = board["sources"]
    return PAGE(
        csp=content_security_policy(JS), title=f"CUDABench leaderboard: {', '.join(r['model'] for r in board['models'])}",
        css=Markup(CSS), script=Markup(JS), n_models=len(board["models"]),
        subtitle=f"{len(sources)} report(s): " + ", ".join(str(s["run_id"]) for s in sources),
        caveats=caveats_box(board), table=models_table(board), methods=methods_line(board),
        paper=simple_table(*paper_rows(board)), pairs=pairs_matrix(board), heatmap=heatmap(board),
        filters=_FILTERS, matrix=item_matrix(board), details=details(board, models),
        footer=f"schema {board['schema']} · files: " + ", ".join(str(s["file"]) for s in sources))

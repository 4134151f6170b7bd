"""What a run's pages (the terminal summary and the HTML report) say beside the rates: how many items each bar
counts, the tokens and cost spent, tierless items, and a CUDABench-Set item's seed mode, judges and thread-order run
(reports built by report.build_report from hand-made items)."""

import re

from helpers.report_factory import base_run, make_item, make_report

from pytest_cudabench.cudabench_set.evaluation import ORDER_NOT_REACHED, SET_STAGES
from pytest_cudabench.reporting.html import render
from pytest_cudabench.reporting.report import build_report, summary_lines

RUN = base_run(model="m", seed=1, timed=False, run_id="r")


def bar_values(page: str) -> list[str]:
    return re.findall(r'<text x="[\d.]+" y="[\d.]+" class="val">([^<]*)</text>', page)


def test_every_bar_says_how_many_items_it_counts():
    items = [make_item(task="basics/vector_add", level=1), make_item(task="basics/saxpy", level=1),
             make_item(task="basics/x", level=1, outcome="failed", failed_stage="execute", message="wrong")]
    page = render(build_report(RUN, items, []))
    values = bar_values(page)
    assert "100.0% (3/3)" in values and "66.7% (2/3)" in values, values  # compiled and correct of the judged
    assert "mean Performance-Score: not measured" in page
    timed = render(make_report())
    assert any(re.fullmatch(r"\d\.\d{3} \(n=\d+\)", v) for v in bar_values(timed)), bar_values(timed)


def test_a_tokens_and_cost_card_sums_run_usage():
    run = {**RUN, "usage": {
        "a": {"tokens_in": 12000, "tokens_out": 3400, "cost_usd": 0.03, "new_cost_usd": 0.01},
        "b": {"tokens_in": 500, "tokens_out": 100, "cost_usd": 0.002, "new_cost_usd": 0.002}}}
    page = render(build_report(run, [make_item()], []))
    assert "Tokens / cost" in page and "12.5 k + 3.5 k" in page and "cost $0.0320 (this run $0.0120)" in page
    run["usage"]["b"]["cost_usd"] = None
    assert "cost not known (the model has no prices)" in render(build_report(run, [make_item()], []))
    assert "Tokens / cost" not in render(build_report(RUN, [make_item()], []))  # offline answers carry no usage


def set_item(task: str, outcome: str = "passed", failed_stage: str | None = None, **facts) -> dict:
    item = make_item(task=f"cudabench-set/{task}/scale1", outcome=outcome, failed_stage=failed_stage,
                     message=None if outcome == "passed" else "the program exited with code 1")
    item.update(domain="cudabench-set", tier=None)
    stages = item["stages"]
    item["stages"] = {name: stages[name] for name in ("generate", "extract", "static-check", "compile")
                      if name in stages}
    item["stages"]["data"] = {"status": "passed", "duration_s": 0.2}
    item["stages"]["execute"] = {"status": "failed" if failed_stage == "execute" else "passed", "duration_s": 0.3}
    if failed_stage != "execute":
        item["stages"]["judge"] = {"status": "passed", "duration_s": 2.3e-05}  # as main recorded it: bookkeeping
    item["set"] = {"task": task, "scale": 1, "file": "set.jsonl", "line": 1, "seed_mode": "run",
                   "compare": None, "own_check": None, "judges_agree": None, "thread_order": None, **facts}
    return item


def test_tierless_items_get_no_tier_table_and_n_a_beside_tiers():
    rows = [set_item("Affine")]
    terminal = "\n".join(summary_lines(build_report(RUN, rows, [])))
    assert "by tier" not in terminal and "None" not in terminal
    page = render(build_report(RUN, rows, []))
    assert "by tier" not in page and "By domain and level" in page
    mixed = rows + [make_item(tier="easy")]
    terminal = summary_lines(build_report(RUN, mixed, []))
    tiers = terminal[terminal.index("by tier:") + 2:]
    assert tiers[0].startswith("easy") and tiers[1].startswith("n/a") and not any("None" in t for t in terminal)
    assert ">n/a<" in render(build_report(RUN, mixed, []))


def test_set_items_show_seed_mode_judges_and_thread_order_in_stage_order():
    ok = {"passed": True, "message": "compare.py printed T"}
    own = {"ok": False, "outputs": {"y": {"ok": False, "message": "3 of 8 values outside atol 1e-05"}}}
    order = {"order": "reverse", "seed": 3, "verdict": "passed", "message": "run in reverse thread order: the same "
             "outputs as in thread order"}
    rows = [set_item("Affine", compare=ok, own_check=own, judges_agree=False, thread_order=order),
            set_item("Exits", outcome="failed", failed_stage="execute")]
    report = build_report(RUN, rows, [])
    terminal = summary_lines(report)
    assert "CUDABench-Set: 2 items, seed mode run (the run's seed put into gen.py's seeding calls)" in terminal
    assert "  judges: compare.py and our check agree on 0 of 1 judged by both, disagree on 1" in terminal
    assert "  run in another thread order: 1 not reached, 1 passed" in terminal
    page = render(report)
    affine, exits = page.split('<tbody class="item"')[1:3]
    chips = re.findall(r'<span class="chip [^"]*" title="[^"]*">([a-z-]+)</span>', affine)
    assert chips == list(SET_STAGES)  # data before execute, judge after it
    assert "<th>judges</th><td>disagree: compare.py accepted the outputs, our check rejected them</td>" in affine
    assert "<th>seed mode</th><td>run (the run&#x27;s seed put into gen.py&#x27;s seeding calls)</td>" in affine
    assert "<th>thread order</th><td>passed: run in reverse thread order" in affine
    assert "<th>thread order</th><td>not reached: the item stopped at execute</td>" in exits
    # A judge stage recorded without its judges' time (reports of earlier versions) shows no duration.
    judge_tip = re.search(r'title="(judge: [^"]*)">judge<', affine)[1]
    assert judge_tip == "judge: passed", judge_tip
    exits_item = rows[1]
    exits_item["set"]["thread_order"] = {"order": "forward", "seed": 0, "verdict": "not-reached",
                                         "message": ORDER_NOT_REACHED}
    assert f"<th>thread order</th><td>{ORDER_NOT_REACHED}</td>" in render(build_report(RUN, rows, []))

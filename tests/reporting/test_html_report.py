"""The HTML report: structure, escaping of untrusted model output, offline self-containment, the highlighter,
and a headless-Chromium render (filtering by URL hash, no injected script runs, a screenshot for the docs)."""

import base64
import hashlib
import os
import re
import shutil
from html.parser import HTMLParser

import pytest
from helpers.chromium import png_size, run_chromium
from helpers.paths import REPO
from helpers.report_factory import EVIL_MESSAGE, EVIL_SOURCE, EVIL_TASK, GOOD_SOURCE, base_run, make_item, make_report

from pytest_cudabench.reporting import html as html_report
from pytest_cudabench.reporting.html import NOT_MEASURED_NOTE, highlight, render, write_html
from pytest_cudabench.reporting.report import build_report
from pytest_cudabench.results import crashed_result

SCREENSHOT = REPO / "docs" / "report.png"


class Page(HTMLParser):
    """Every start tag with its attributes, and the text inside <script> and <style> elements."""

    def __init__(self, text: str):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict]] = []
        self.scripts: list[str] = []
        self.styles: list[str] = []
        self._raw: str | None = None
        self.feed(text)
        self.close()

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, dict(attrs)))
        if tag in ("script", "style"):
            self._raw = tag
            (self.scripts if tag == "script" else self.styles).append("")

    def handle_endtag(self, tag):
        if tag == self._raw:
            self._raw = None

    def handle_data(self, data):
        if self._raw == "script":
            self.scripts[-1] += data
        elif self._raw == "style":
            self.styles[-1] += data

    def all(self, tag: str) -> list[dict]:
        return [attrs for name, attrs in self.tags if name == tag]


def test_structure_of_a_timed_report(tmp_path):
    report = make_report()
    path = write_html(report, tmp_path / "sub" / "report.html")
    assert path == tmp_path / "sub" / "report.html"
    text = path.read_text(encoding="utf-8")
    page = Page(text)
    overall = report["aggregates"]["overall"]
    assert text.startswith("<!DOCTYPE html>")
    assert f"{overall['cudabench_score']:.3f}" in text and "CUDABench-Score" in text
    assert f"{100 * overall['correct_rate']:.1f}%" in text and f"{100 * overall['compile_rate']:.1f}%" in text
    assert "NVIDIA H100 80GB HBM3" in text and "synthetic-model" in text and "1234" in text
    # Charts: three bar charts and the roofline with one point per item and scale that has FLOPs.
    svgs = page.all("svg")
    assert len(svgs) == 4 and any(s.get("id") == "roofline" for s in svgs)
    points, skipped = html_report.roofline_points(report)
    assert len([a for a in page.all("circle") if a.get("class") == "pt"]) == len(points) > 0
    assert skipped == 9 and "9 timed scale(s) without FLOPs not shown" in text  # bits/popcount: no FLOPs
    assert "fp32 67 TFLOP/s" in text and "DRAM 3.35 TB/s" in text and NOT_MEASURED_NOTE not in text
    for domain in report["aggregates"]["by_domain"]:
        assert f">{domain}<" in text
    # The items table: one tbody per item, with the data the filter script reads.
    bodies = [a for a in page.all("tbody") if a.get("class") == "item"]
    assert len(bodies) == len(report["items"])
    assert {b["data-outcome"] for b in bodies} == {"passed", "failed", "error", "skipped"}
    assert {b["data-domain"] for b in bodies} == set(report["aggregates"]["by_domain"])
    assert all(b["data-search"] == b["data-search"].lower() for b in bodies)
    ids = {a.get("id") for _, a in page.tags}
    assert {"f-text", "f-outcome", "f-domain", "f-level", "f-count", "items"} <= ids
    options = {a["value"] for a in page.all("option")}
    assert {"passed", "failed", "1", "2", "3", "linalg", "signal"} <= options
    # Stage outcomes, messages, timing tables and highlighted sources.
    assert 'class="chip s-failed"' in text and 'class="chip s-passed"' in text
    assert "identifier &quot;__shfl_down&quot; is undefined" in text
    assert '<table class="scales">' in text and '<span class="hk">__global__</span>' in text
    assert "collection errors" in text.lower() and "missing [signature]" in text


def test_a_report_without_timing_says_not_measured():
    report = make_report(timed=False)
    assert report["run"]["gpu"] is None
    text = render(report)
    assert NOT_MEASURED_NOTE in text
    assert ">not measured<" in text and "timing needs a GPU" in text
    assert 'class="pt"' not in text


def test_a_bare_report_renders():
    """Nulls, a crashed-worker item and timing scales without numbers: nothing raises. (A report missing the
    schema's keys is refused where it is loaded: report_files.check_report, tested in test_leaderboard.py.)"""
    crashed = crashed_result("task_suite/x/y::level1[sample0]", "task_suite/x/y", 1, 0, "worker crashed")
    odd = make_item(scales=[{"sizes": {"n": 1}, "median_s": None, "flops": None, "bytes": 0}])
    bare = {**base_run(run_id="r", model="m", timed=False), "levels": [], "versions": {}, "machine": {}, "command": []}
    for report in (build_report(bare, [], []), build_report(bare, [crashed, odd], []),
                   build_report({**bare, "peaks": {"fp32": 1e13}, "gpu": {"name": "G"}}, [odd], [])):
        text = render(report)
        assert text.startswith("<!DOCTYPE html>") and text.rstrip().endswith("</html>")


def test_untrusted_text_is_escaped_everywhere():
    report = make_report(evil=True)
    text = render(report)
    page = Page(text)
    # The only script is ours, the only style is ours, and no element carries an event handler.
    assert page.scripts == [html_report.JS] and page.styles == [html_report.CSS]
    assert text.count("<script") == 1 and text.lower().count("</script") == 1
    assert not page.all("img")
    assert all(not name.startswith("on") for _, attrs in page.tags for name in attrs)
    assert EVIL_MESSAGE not in text and EVIL_SOURCE not in text and EVIL_TASK not in text
    assert "&lt;/script&gt;&lt;script&gt;" in text and "&lt;img src=x onerror=" in text
    assert "&lt;b&gt;evil&lt;/b&gt;" in text
    # Attributes stay well-formed: the injected task shows up intact inside data-search.
    evil_body = next(a for a in page.all("tbody") if "evil" in a.get("data-search", ""))
    assert "basics/evil<script>alert(1)</script>" in evil_body["data-search"]


def test_a_task_title_with_a_script_tag_is_escaped():
    report = make_report(levels=(1,))
    report["items"][0]["title"] = 'vector add</div><script>alert("title")</script>'
    report["run"]["model"] = "<script>alert('model')</script>"
    text = render(report)
    assert "<script>alert" not in text and text.count("<script") == 1
    assert '&lt;script&gt;alert(&quot;title&quot;)&lt;/script&gt;' in text
    assert "<title>CUDABench report: &lt;script&gt;alert(&#x27;model&#x27;)&lt;/script&gt;" in text
    assert Page(text).scripts == [html_report.JS]


def test_templates_escape_every_value_unless_it_is_markup():
    template = html_report.HtmlTemplate('<p title="$tip">$body</p>')
    assert template(tip='"><x', body="<b>") == '<p title="&quot;&gt;&lt;x">&lt;b&gt;</p>'
    assert template(tip="", body=html_report.Markup("<b>ok</b>")) == '<p title=""><b>ok</b></p>'
    assert html_report.esc(html_report.esc("<")) == "&lt;"  # escaped once, however often it is passed on
    with pytest.raises(KeyError):
        template(tip="", body="", extra="")
    with pytest.raises(KeyError):
        template(tip="")


def test_css_and_js_are_package_files():
    from importlib import resources

    static = resources.files("pytest_cudabench.reporting") / "static"
    assert (static / "report.css").read_text() == html_report.CSS and "#items" in html_report.CSS
    assert (static / "report.js").read_text() == html_report.JS and "'use strict'" in html_report.JS


def test_content_security_policy_allows_only_our_script():
    text = render(make_report())
    page = Page(text)
    csp = next(a["content"] for a in page.all("meta") if a.get("http-equiv") == "Content-Security-Policy")
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    assert f"script-src 'sha256-{digest}'" in csp and "default-src 'none'" in csp


def test_the_page_is_self_contained():
    for report in (make_report(evil=True), make_report(timed=False)):
        text = render(report)
        page = Page(text)
        for _tag, attrs in page.tags:
            for name in ("src", "href", "xlink:href", "action", "data", "poster"):
                value = (attrs.get(name) or "").strip().lower()
                assert not value.startswith(("http:", "https:", "//", "ftp:")), (name, value)
        assert not page.all("link") and not page.all("iframe")
        assert not re.search(r"https?://", text), re.search(r".{40}https?://.{40}", text)
        assert "@import" not in text and "url(http" not in text


def test_highlighter_marks_tokens_and_escapes():
    source = ('#include <cuda_runtime.h>\n__global__ void k(const float* __restrict__ x, int n) {\n'
              '  // a <comment>\n  int i = blockIdx.x * 0x10 + 1.5e-3f; /* multi\nline */\n'
              '  const char* s = "a<b\\"c"; char c = \'<\';\n  __syncthreads(); return;\n}\n')
    out = highlight(source)
    assert '<span class="hp">#include &lt;cuda_runtime.h&gt;</span>' in out
    assert '<span class="hk">__global__</span> <span class="ht">void</span>' in out
    assert '<span class="hk">__restrict__</span>' in out and '<span class="ht">float</span>' in out
    assert '<span class="hc">// a &lt;comment&gt;</span>' in out
    assert '<span class="hc">/* multi\nline */</span>' in out
    assert '<span class="hb">blockIdx</span>' in out and '<span class="hb">__syncthreads</span>' in out
    assert '<span class="hn">0x10</span>' in out and '<span class="hn">1.5e-3f</span>' in out
    assert '<span class="hs">&quot;a&lt;b\\&quot;c&quot;</span>' in out
    assert '<span class="hs">&#x27;&lt;&#x27;</span>' in out
    assert "<" not in re.sub(r"</?span[^>]*>", "", out)  # every other angle bracket is escaped
    assert '<span class="hn">' not in highlight("x1 = y2;")  # digits inside identifiers are not numbers
    assert highlight("") == ""


def test_filter_options_and_counts_match_the_items():
    report = make_report(levels=(1, 3))
    page = Page(render(report))
    levels = [a["value"] for a in page.all("option") if a["value"] in ("1", "2", "3")]
    assert levels == ["1", "3"]


# --- headless Chromium ----------------------------------------------------------------------------------------

def test_chromium_runs_the_filter_and_no_injected_script(tmp_path):
    report = make_report(evil=True)
    path = write_html(report, tmp_path / "report.html")
    failed = sum(1 for i in report["items"] if i["outcome"] == "failed")
    done = run_chromium(tmp_path, path.as_uri() + "#outcome=failed", "--dump-dom")
    dom = done.stdout
    assert 'data-ready="1"' in dom, done.stderr[-2000:]
    assert f'data-shown="{failed}"' in dom and f"{failed} of {len(report['items'])} items" in dom
    assert "data-pwned" not in dom.split("<body", 1)[1].split(">", 1)[0]
    assert "<title>PWNED" not in dom
    hidden = dom.count('class="item" data-outcome="passed"')
    assert hidden and dom.count("hidden") >= hidden  # every passed item is hidden
    done = run_chromium(tmp_path, path.as_uri() + "#q=" + "sgemm%20level2", "--dump-dom")
    assert 'data-shown="1"' in done.stdout


def test_chromium_screenshot_of_a_timed_report(tmp_path):
    """Renders a synthetic timed report at 1200x900. The picture goes to docs/report.png when that file is missing
    or CUDABENCH_UPDATE_SCREENSHOT=1 (so ordinary test runs leave the working tree alone)."""
    path = write_html(make_report(), tmp_path / "report.html")
    shot = tmp_path / "report.png"
    done = run_chromium(tmp_path, path.as_uri(), "--hide-scrollbars", f"--screenshot={shot}",
                        "--window-size=1200,900")
    assert shot.exists(), done.stderr[-2000:]
    assert png_size(shot) == (1200, 900)
    assert shot.stat().st_size > 20_000  # a blank page compresses to a few kB
    if os.environ.get("CUDABENCH_UPDATE_SCREENSHOT") == "1" or not SCREENSHOT.exists():
        SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(shot, SCREENSHOT)


def test_headline_shows_the_ncu_score_only_when_measured():
    from helpers.report_factory import make_report

    from pytest_cudabench.reporting.html import headline

    report = make_report()
    assert "CUDABench-Score (ncu)" not in headline(report)
    report["aggregates"]["overall"]["cudabench_score_ncu"] = 0.42
    assert "CUDABench-Score (ncu)" in headline(report)


def test_the_source_viewer_numbers_lines_and_marks_the_line_the_message_cites():
    source = "/* two-line\n   comment */\n" + GOOD_SOURCE
    item = make_item(outcome="failed", failed_stage="compile", source=source,
                     message='nvcc failed (exit 2) with 1 error(s):\nanswer.cu(9): error: identifier "q" is undefined')
    item["stages"]["compile"]["log"] = 'answer.cu(9): error: identifier "q" is undefined\n\n1 error detected'
    page = render(build_report(base_run(model="m", seed=1, run_id="r"), [item], []))
    code = page.split('<pre class="code"><code>', 1)[1].split("</code></pre>", 1)[0]
    numbers = re.findall(r'<span class="ln" aria-hidden="true">(\d+)</span>', code)
    assert numbers == [str(n) for n in range(1, source.count("\n") + 1)]
    assert re.findall(r'<span class="line cited"><span class="ln" aria-hidden="true">(\d+)<', code) == ["9"]
    assert '<span class="hc">/* two-line</span>' in code and '<span class="hc">   comment */</span>' in code
    assert "the message cites line 9)" in page
    assert html_report.highlight_lines("int a;\n/* open\n") == ['<span class="ht">int</span> a;',
                                                                 '<span class="hc">/* open</span>']

"""The one lexer (source.lexer) and its three users agree on what is code, a comment or a literal: raw strings with
every prefix, prefixed and plain character literals, digit separators, backslash-continued lines."""

import pytest

from pytest_cudabench.execution.cpu_runtime import rewrite
from pytest_cudabench.reporting.html import highlight
from pytest_cudabench.source import extract, lexer, static_check


def kinds(src):
    return [(t.kind, t.text) for t in lexer.tokenize(src)]


@pytest.mark.parametrize("literal", ['R"(a "quoted" ) // not a comment)"', 'u8R"x(a )" still)x"', 'LR"(L)"',
                                     'uR"(u)"', 'UR"--(U)--"', 'R"(\nspans\nlines)"'])
def test_raw_strings_with_every_prefix_are_one_token(literal):
    toks = lexer.tokenize(f"auto s = {literal}; int after;")
    assert [t.text for t in toks] == ["auto", "s", "=", literal, ";", "int", "after", ";"]
    assert toks[3].kind == "str" and toks[3].raw
    blanked = lexer.strip_comments_and_strings(f"auto s = {literal}; int after;")
    assert blanked.split() == ["auto", "s", "=", ";", "int", "after;"] and blanked.count("\n") == literal.count("\n")


@pytest.mark.parametrize("literal", ["'\"'", "'\\''", "u8'a'", "L'\\\\'", "U'x'", "u'/'"])
def test_character_literals(literal):
    src = f'char c = {literal}; const char* s = "//x";'
    assert kinds(src)[3] == ("chr", literal)
    assert ("str", '"//x"') in kinds(src)
    assert lexer.strip_comments(src) == src  # no comment seen inside either literal


def test_digit_separators_are_not_character_literals():
    src = "int n = 1'000'000; char c = 'a'; int m = 0x1'0;"
    assert [t for t in kinds(src) if t[0] in ("num", "chr")] == [("num", "1'000'000"), ("chr", "'a'"),
                                                                  ("num", "0x1'0")]
    assert "int m" in lexer.strip_comments_and_strings(src)


def test_line_continuations():
    src = "// comment \\\nstill the comment\n#define F(x) \\\n  (x + fopen)\nint code;\n"
    toks = list(lexer.scan(src))
    assert toks[0].kind == "comment" and toks[0].text.endswith("still the comment")
    assert [t.text for t in toks if t.pp] == ["#", "define", "F", "(", "x", ")", "(", "x", "+", "fopen", ")"]
    assert [t.text for t in toks if not t.pp and t.kind != "comment"] == ["int", "code", ";"]
    assert lexer.strip_comments(src).splitlines()[1].strip() == ""
    assert lexer.directives(src) == [(3, "define", "F(x)   (x + fopen)")]


def test_includes_and_the_digraph():
    src = ('#include <cuda_runtime.h> // a <comment>\n  %:  include <math.h>\n#include_next <x.h>\n'
           '#include HEADER\n/* #include <no.h> */ #include "q.h"\n')
    assert lexer.includes(src) == ["cuda_runtime.h", "math.h", "q.h"]
    assert [t.text for t in lexer.scan(src) if t.kind == "comment"] == ["// a <comment>", "/* #include <no.h> */"]


def test_string_literals_join_decode_and_read_raw_bodies():
    src = 'asm(".inc" /* x */ "bin \\x41");\nauto r = u8R"d(.include "f")d";\nchar q = \'"\'; // ".incbin"\n'
    assert lexer.string_literals(src) == [(1, ".incbin A"), (2, '.include "f"')]


def test_the_static_check_sees_a_raw_string_the_old_blanker_missed():
    # The old blanker knew only a bare R"...": after u8R it took `"(` as a string and lost track.
    src = 'const char* s = u8R"(")"; cudaEventRecord(e);\n'
    assert "cudaEventRecord" in lexer.identifiers(lexer.strip_comments_and_strings(src))
    with pytest.raises(Exception, match="cudaEventRecord"):
        static_check.check_source(src)


def test_extraction_ignores_solve_inside_a_raw_string():
    assert not extract.defines_solve('const char* doc = LR"(void solve(int n) { })";\n')
    assert extract.defines_solve('const char* doc = LR"(x)"; void solve(int n) { }\n')


def test_rewriter_and_highlighter_use_the_same_lexer():
    assert rewrite.tokenize is lexer.tokenize and rewrite.Token is lexer.Token
    src = 'auto s = u8R"(k<<<1, 1>>>(x))"; char c = \'"\'; k<<<1, 1>>>(x);\n'
    out = rewrite.rewrite_source(src, "solution.cu")
    assert out.count("::cudabench::Launcher") == 1 and 'u8R"(k<<<1, 1>>>(x))"' in out
    html = highlight(src)
    assert '<span class="hs">u8R&quot;(k&lt;&lt;&lt;1, 1&gt;&gt;&gt;(x))&quot;</span>' in html
    assert '<span class="hs">&#x27;&quot;&#x27;</span>' in html
    assert '<span class="hn">1&#x27;000</span>' in highlight("int n = 1'000;")
    assert highlight("// a \\\nb\nint x;").startswith('<span class="hc">// a \\\nb</span>')

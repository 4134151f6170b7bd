"""The one CUDA C++ lexer: tokens, and views built from them (code without comments or literals, directives, string
literals, includes). The static check, answer extraction, the CPU runtime's source rewriter and the HTML highlighter
all read sources through it, so they agree on what is a comment or a literal: raw strings with any prefix
(R"d(...)d", u8R"...", LR"..."), prefixed string and character literals (u8"", L'x'), digit separators (1'000),
backslash-continued lines (a `//` comment, a directive) and the `%:` digraph of `#`.

Enough for checks that must not be fooled by a forbidden name inside a comment or a string; calls hidden behind
macros are caught later, from the symbols the compiled library imports (see static_check).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

__all__ = ["Token", "scan", "tokenize", "strip_comments", "strip_comments_and_strings", "directives",
           "string_literals", "decode_escapes", "identifiers", "includes", "line_of", "find_identifier"]

_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_PUNCT3 = ("<<<", ">>>", "<<=", ">>=", "...", "->*", "<=>")
_PUNCT2 = ("::", "->", "++", "--", "<<", ">>", "<=", ">=", "==", "!=", "&&", "||", "+=", "-=", "*=", "/=",
           "%=", "&=", "|=", "^=", "##", ".*")
_STRING_PREFIXES = ("u8R", "uR", "UR", "LR", "R", "u8", "u", "U", "L")
_INCLUDE_DIRECTIVES = ("include", "include_next", "import")


@dataclass(slots=True)
class Token:
    kind: str  # "id", "num", "str", "chr", "punct", "comment", "include" (its text: the header name)
    text: str
    start: int  # span in the source: source[start:end] (for "include": from the `#` to the end of the header name)
    end: int
    pp: bool = False  # on a preprocessor line (continued lines included)

    @property
    def raw(self) -> bool:
        """A raw string literal (R"d(...)d" with any encoding prefix)."""
        return self.kind == "str" and self.text[:self.text.index('"')].endswith("R")


def _is_id_start(c: str) -> bool:
    return c.isalpha() or c == "_" or c == "$"


def _is_id_char(c: str) -> bool:
    return c.isalnum() or c == "_" or c == "$"


def tokenize(src: str) -> list[Token]:
    """Tokens of ``src`` without comments; literals are single tokens; an ``#include`` gives one "include" token."""
    return [t for t in scan(src) if t.kind != "comment"]


def scan(src: str) -> Iterator[Token]:
    """Every token of ``src`` in order, comments included; whitespace and backslash-newlines lie between them."""
    i, n = 0, len(src)
    line_start = True  # only whitespace (or comments) since the last newline
    in_pp = False
    while i < n:
        c = src[i]
        if c == "\n":
            in_pp = False
            line_start = True
            i += 1
            continue
        if c == "\\" and src.startswith("\n", i + 1):
            i += 2
            continue
        if c == "\\" and src.startswith("\r\n", i + 1):
            i += 3
            continue
        if c in " \t\r\f\v":
            i += 1
            continue
        start = i
        if src.startswith("//", i):
            while i < n and src[i] != "\n":
                if src[i] == "\\" and src.startswith("\n", i + 1):
                    i += 1  # a continued line comment goes on on the next line
                i += 1
            yield Token("comment", src[start:i], start, i, in_pp)
            continue
        if src.startswith("/*", i):
            j = src.find("*/", i + 2)
            i = n if j < 0 else j + 2
            yield Token("comment", src[start:i], start, i, in_pp)
            continue
        if line_start and (c == "#" or src.startswith("%:", i)):
            line_start = False
            in_pp = True
            j = i + (1 if c == "#" else 2)
            while j < n and src[j] in " \t":
                j += 1
            k = j
            while k < n and _is_id_char(src[k]):
                k += 1
            if src[j:k] in _INCLUDE_DIRECTIVES:
                h = k
                while h < n and src[h] in " \t":
                    h += 1
                if src[h:h + 1] in ("<", '"'):
                    close = src.find(">" if src[h] == "<" else '"', h + 1)
                    line_end = src.find("\n", h)
                    line_end = n if line_end < 0 else line_end
                    e = close + 1 if 0 <= close < line_end else line_end
                    name = src[h + 1:e - 1 if e == close + 1 else e]
                else:  # built by a macro: the name is the rest of the line, lexed on as ordinary tokens
                    e = k
                    line_end = src.find("\n", k)
                    name = src[k:n if line_end < 0 else line_end].strip()
                yield Token("include", name, i, e, True)
                i = e
                continue
            i += 1 if c == "#" else 2
            yield Token("punct", "#", start, i, True)
            continue
        line_start = False
        # string literals, possibly prefixed, possibly raw
        if _is_id_start(c) or c == '"':
            prefix = ""
            for p in _STRING_PREFIXES:
                if src.startswith(p, i) and src.startswith('"', i + len(p)):
                    prefix = p
                    break
            if prefix or c == '"':
                j = i + len(prefix)
                if prefix.endswith("R"):
                    paren = src.find("(", j + 1)
                    delim = src[j + 1:paren] if paren >= 0 else ""
                    endmark = ")" + delim + '"'
                    e = src.find(endmark, paren + 1) if paren >= 0 else -1
                    i = n if e < 0 else e + len(endmark)
                else:
                    i = _skip_quoted(src, j, '"')
                yield Token("str", src[start:i], start, i, in_pp)
                continue
        if c == "'" or (c in "uUL" and src.startswith("'", i + 1)) or src.startswith("u8'", i):
            j = src.find("'", i)
            i = _skip_quoted(src, j, "'")
            yield Token("chr", src[start:i], start, i, in_pp)
            continue
        if _is_id_start(c):
            while i < n and _is_id_char(src[i]):
                i += 1
            yield Token("id", src[start:i], start, i, in_pp)
            continue
        if c.isdigit() or (c == "." and i + 1 < n and src[i + 1].isdigit()):
            i += 1
            while i < n:
                d = src[i]
                exponent_sign = d in "+-" and (
                    src[i - 1] in "pP" or src[i - 1] in "eE" and not src[start:i].lower().startswith("0x"))
                if exponent_sign or _is_id_char(d) or d == ".":
                    i += 1
                elif d == "'" and i + 1 < n and _is_id_char(src[i + 1]):
                    i += 2  # digit separator
                else:
                    break
            yield Token("num", src[start:i], start, i, in_pp)
            continue
        for group in (_PUNCT3, _PUNCT2):
            hit = next((p for p in group if src.startswith(p, i)), None)
            if hit:
                i += len(hit)
                break
        else:
            i += 1
        yield Token("punct", src[start:i], start, i, in_pp)


def _skip_quoted(src: str, j: int, quote: str) -> int:
    """Index just past the literal whose opening quote is at ``j`` (stops at an unescaped newline)."""
    i, n = j + 1, len(src)
    while i < n:
        c = src[i]
        if c == "\\":
            i += 2
            continue
        if c == quote:
            return i + 1
        if c == "\n":
            return i
        i += 1
    return n


def strip_comments_and_strings(source: str) -> str:
    """The source with comments, string and character literals (and quoted header names) replaced by spaces;
    newlines kept (line numbers and offsets hold)."""
    return _blank(source, strings=True)


def strip_comments(source: str) -> str:
    """The source with comments replaced by spaces, literals kept; newlines kept (line numbers and offsets hold)."""
    return _blank(source, strings=False)


def _blank(source: str, *, strings: bool) -> str:
    out: list[str] = []
    position = 0
    for t in scan(source):
        if t.kind == "comment" or (strings and t.kind in ("str", "chr")):
            start = t.start
        elif strings and t.kind == "include" and source[t.end - 1:t.end] == '"':
            start = source.index('"', t.start)
        else:
            continue
        out.append(source[position:start])
        out.append(re.sub(r"[^\n]", " ", source[start:t.end]))
        position = t.end
    out.append(source[position:])
    return "".join(out)


def directives(source: str) -> list[tuple[int, str, str]]:
    """Preprocessor directives as (line, name, operand), from code outside comments; backslash-continued lines are
    joined and the digraph `%:` counts as `#`. A `#` line with no name gives name ''."""
    code = strip_comments(source)
    found = []
    lines = code.split("\n")
    i = 0
    while i < len(lines):
        start, text = i + 1, lines[i]
        while text.endswith("\\") and i + 1 < len(lines):
            i += 1
            text = text[:-1] + lines[i]
        i += 1
        match = _DIRECTIVE.match(text)
        if match:
            found.append((start, match["name"], match["rest"].strip()))
    return found


_DIRECTIVE = re.compile(r"^[ \t]*(?:#|%:)[ \t]*(?P<name>[A-Za-z_]\w*|)(?P<rest>.*)$")
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\\": "\\",
                   "'": "'", '"': '"', "?": "?"}


def string_literals(source: str) -> list[tuple[int, str]]:
    """String literals outside comments as (line, text); adjacent literals (only whitespace or comments between) are
    joined as the compiler joins them; escapes (\\x41, \\101, \\u0041) decoded, a raw string's body taken as it is."""
    found: list[tuple[int, str]] = []
    previous: Token | None = None
    for t in tokenize(source):
        if t.kind == "str":
            quote = t.text.index('"')
            if t.raw:  # R"delim(body)delim"
                body = t.text[quote + 1:]
                paren = body.find("(")
                endmark = ")" + body[:paren] + '"'
                text = body[paren + 1:len(body) - len(endmark) if body.endswith(endmark) else len(body)]
            else:
                text = decode_escapes(t.text[quote + 1:-1] if t.text.endswith('"') and len(t.text) > quote + 1
                                      else t.text[quote + 1:])
            if previous is not None and previous.kind == "str":
                found[-1] = (found[-1][0], found[-1][1] + text)
            else:
                found.append((line_of(source, t.start), text))
        previous = t
    return found


def decode_escapes(body: str) -> str:
    def one(match: re.Match) -> str:
        esc = match.group(1)
        if esc[0] in "xX":
            return chr(int(esc[1:], 16) % 0x110000) if len(esc) > 1 else ""
        if esc[0] in "uU":
            return chr(int(esc[1:], 16) % 0x110000) if len(esc) > 1 else ""
        if esc[0] in "01234567":
            return chr(int(esc, 8))
        return _SIMPLE_ESCAPES.get(esc, esc)

    return re.sub(r"\\(x[0-9A-Fa-f]*|u[0-9A-Fa-f]{4}|U[0-9A-Fa-f]{8}|[0-7]{1,3}|.)", one, body, flags=re.DOTALL)


def identifiers(code: str) -> set[str]:
    return set(_IDENTIFIER.findall(code))


def includes(source: str) -> list[str]:
    """Header names of #include directives, from code outside comments."""
    return [t.text for t in tokenize(source)
            if t.kind == "include" and source[t.end - 1] in '>"' and _INCLUDE_START.match(source, t.start)]


_INCLUDE_START = re.compile(r"(?:#|%:)[ \t]*include\b")


def line_of(code: str, index: int) -> int:
    return code.count("\n", 0, index) + 1


def find_identifier(code: str, name: str) -> int | None:
    """Line number of the first use of an identifier in comment-free code, or None."""
    match = re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", code)
    return line_of(code, match.start()) if match else None

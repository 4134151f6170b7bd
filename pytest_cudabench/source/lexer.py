"""Lexical views of a CUDA source: code without comments and string literals, identifiers, includes.

Enough for checks that must not be fooled by a forbidden name inside a comment or a string; calls hidden behind
macros are caught later, from the symbols the compiled library imports (see static_check).
"""

from __future__ import annotations

import re

_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_INCLUDE = re.compile(r'^[ \t]*#[ \t]*include[ \t]*[<"]([^>"]+)[>"]', re.MULTILINE)


def strip_comments_and_strings(source: str) -> str:
    """The source with comments, string and character literals replaced by spaces; newlines kept (line numbers hold)."""
    return _blank(source, strings=True)


def strip_comments(source: str) -> str:
    """The source with comments replaced by spaces, literals kept; newlines kept (line numbers hold)."""
    return _blank(source, strings=False)


def _blank(source: str, *, strings: bool) -> str:
    out: list[str] = []
    i, n = 0, len(source)
    while i < n:
        c = source[i]
        nxt = source[i + 1] if i + 1 < n else ""
        if c == "/" and nxt == "/":
            end = source.find("\n", i)
            end = n if end < 0 else end
            out.append(" " * (end - i))
            i = end
        elif c == "/" and nxt == "*":
            end = source.find("*/", i + 2)
            end = n if end < 0 else end + 2
            out.append(re.sub(r"[^\n]", " ", source[i:end]))
            i = end
        elif c == "R" and nxt == '"' and (i == 0 or not (source[i - 1].isalnum() or source[i - 1] == "_")):
            # raw string literal R"delim( ... )delim"
            paren = source.find("(", i + 2)
            delim = source[i + 2:paren] if paren >= 0 else ""
            end = source.find(")" + delim + '"', paren + 1) if paren >= 0 else -1
            end = n if end < 0 else end + len(delim) + 2
            out.append(re.sub(r"[^\n]", " ", source[i:end]) if strings else source[i:end])
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and source[j] != c and source[j] != "\n":
                j += 2 if source[j] == "\\" else 1
            end = min(j + 1, n)
            out.append(" " * (end - i) if strings else source[i:end])
            i = end
        else:
            out.append(c)
            i += 1
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
_STRING = re.compile(r'(?:\b(?:u8|u|U|L))?"(?:[^"\\\n]|\\.)*"')
_SIMPLE_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", "a": "\a", "b": "\b", "f": "\f", "v": "\v", "\\": "\\",
                   "'": "'", '"': '"', "?": "?"}


def string_literals(source: str) -> list[tuple[int, str]]:
    """Ordinary string literals outside comments as (line, decoded text); adjacent literals (only whitespace between)
    are joined as the compiler joins them, escapes (\\x41, \\101, \\u0041) decoded."""
    code = strip_comments(source)
    found: list[tuple[int, str]] = []
    end_of_last = -1
    for match in _STRING.finditer(code):
        text = decode_escapes(match.group()[match.group().index('"') + 1:-1])
        if found and end_of_last >= 0 and not code[end_of_last:match.start()].strip():
            found[-1] = (found[-1][0], found[-1][1] + text)
        else:
            found.append((line_of(code, match.start()), text))
        end_of_last = match.end()
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
    """Header names of #include directives, from code outside comments (strings in includes are kept)."""
    without_comments = _strip_comments_only(source)
    return _INCLUDE.findall(without_comments)


def _strip_comments_only(source: str) -> str:
    # Block comments first, then line comments; an include path never contains "//" or "/*".
    source = re.sub(r"/\*.*?\*/", lambda m: re.sub(r"[^\n]", " ", m.group()), source, flags=re.DOTALL)
    return re.sub(r"//[^\n]*", "", source)


def line_of(code: str, index: int) -> int:
    return code.count("\n", 0, index) + 1


def find_identifier(code: str, name: str) -> int | None:
    """Line number of the first use of an identifier in comment-free code, or None."""
    match = re.search(rf"(?<![\w]){re.escape(name)}(?![\w])", code)
    return line_of(code, match.start()) if match else None

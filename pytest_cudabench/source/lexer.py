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
            out.append(re.sub(r"[^\n]", " ", source[i:end]))
            i = end
        elif c in "\"'":
            j = i + 1
            while j < n and source[j] != c and source[j] != "\n":
                j += 2 if source[j] == "\\" else 1
            end = min(j + 1, n)
            out.append(" " * (end - i))
            i = end
        else:
            out.append(c)
            i += 1
    return "".join(out)


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

"""Safe arithmetic on size names: roofline work formulas, shapes and derived sizes in task.toml.

Parsed with `ast` and evaluated by walking a small whitelist of node types; never `eval`.
"""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable, Mapping
from typing import Any

from ..errors import FormulaError

_BINARY: dict[type[ast.operator], Callable[[Any, Any], Any]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv,
    ast.Mod: operator.mod,
    ast.Pow: operator.pow,
}
_UNARY: dict[type[ast.unaryop], Callable[[Any], Any]] = {ast.UAdd: operator.pos, ast.USub: operator.neg}
_FUNCTIONS: dict[str, Callable[..., Any]] = {
    "min": min,
    "max": max,
    "ceil": math.ceil,
    "floor": math.floor,
    "log2": math.log2,
    "sqrt": math.sqrt,
    "abs": abs,
    "cdiv": lambda a, b: -(-a // b),
}
_MAX_POWER = 256


class Formula:
    """An arithmetic expression over size names, checked once at load time."""

    def __init__(self, text: str | int | float):
        self.text = str(text)
        try:
            tree = ast.parse(self.text, mode="eval")
        except SyntaxError as exc:
            raise FormulaError(f"'{self.text}' is not an arithmetic expression ({exc.msg})") from None
        self._tree = tree.body
        self.names = frozenset(self._check(self._tree))

    def _check(self, node: ast.AST) -> set[str]:
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, (int, float)):
                raise FormulaError(f"'{self.text}': only numbers are allowed as constants")
            return set()
        if isinstance(node, ast.Name):
            return {node.id}
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return self._check(node.left) | self._check(node.right)
        if isinstance(node, ast.UnaryOp) and type(node.op) in _UNARY:
            return self._check(node.operand)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in _FUNCTIONS
            and not node.keywords
        ):
            names: set[str] = set()
            for arg in node.args:
                names |= self._check(arg)
            return names
        allowed = "+ - * / // % **, parentheses, numbers, size names and " + ", ".join(sorted(_FUNCTIONS))
        raise FormulaError(f"'{self.text}': {type(node).__name__} is not allowed (use {allowed})")

    def evaluate(self, values: Mapping[str, int | float]) -> int | float:
        missing = sorted(self.names - set(values))
        if missing:
            raise FormulaError(f"'{self.text}': unknown name(s) {', '.join(missing)}")
        return self._eval(self._tree, values)

    def _eval(self, node: ast.AST, values: Mapping[str, int | float]) -> int | float:
        if isinstance(node, ast.Constant):
            assert isinstance(node.value, (int, float))  # the parser admits numbers only
            return node.value
        if isinstance(node, ast.Name):
            return values[node.id]
        if isinstance(node, ast.BinOp):
            left, right = self._eval(node.left, values), self._eval(node.right, values)
            # An integer power grows without bound (and costs time); a float power just overflows or vanishes.
            if isinstance(node.op, ast.Pow) and isinstance(left, int) and abs(right) > _MAX_POWER:
                raise FormulaError(f"'{self.text}': exponent {right} is too large")
            try:
                return _BINARY[type(node.op)](left, right)
            except ZeroDivisionError:
                raise FormulaError(f"'{self.text}': division by zero with {dict(values)}") from None
            except OverflowError:
                raise FormulaError(f"'{self.text}': overflows with {dict(values)}") from None
        if isinstance(node, ast.UnaryOp):
            return _UNARY[type(node.op)](self._eval(node.operand, values))
        assert isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
        return _FUNCTIONS[node.func.id](*(self._eval(a, values) for a in node.args))

    def __repr__(self) -> str:
        return f"Formula({self.text!r})"


def evaluate(text: str | int | float, values: Mapping[str, int | float]) -> int | float:
    return Formula(text).evaluate(values)

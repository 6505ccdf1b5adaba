"""Formulas of an evaluation configuration: parsed with :mod:`ast`, never evaluated as code.

A formula is an arithmetic or logical expression over column names and constants::

    revenue_10k_cny / area_mu
    (tax_10k_cny + 0.5 * fees_10k_cny) / area_mu
    status == "built" and revenue_10k_cny >= 2000

Allowed: numbers, quoted text (for ``==``/``!=`` comparisons), ``true``/``false``, names,
``+ - * /``, unary ``-``/``+``/``not``, comparisons (``< <= > >= == !=``, chained),
``and``/``or``, parentheses, and the functions ``min(a, b, ...)``, ``max(a, b, ...)``,
``isnull(x)`` and ``notnull(x)``. Everything else (attribute access, subscripts, calls of other
names, lambdas, comprehensions, ``**``, ...) is refused with the key and the offending part, so
``__import__('os')`` is a configuration error, not a call.

Evaluation is vectorised on a DataFrame: a division by zero gives NaN (no value), a comparison
with a missing value is false, arithmetic with a missing value is missing.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

_BINARY = {ast.Add: np.add, ast.Sub: np.subtract, ast.Mult: np.multiply}
_COMPARE = {
    ast.Lt: np.less,
    ast.LtE: np.less_equal,
    ast.Gt: np.greater,
    ast.GtE: np.greater_equal,
}
_FUNCTIONS = ("min", "max", "isnull", "notnull")
_LITERALS = {"true": True, "false": False, "True": True, "False": False}


class FormulaError(ValueError):
    """A formula that is not in the grammar (the message says which part and why)."""


@dataclass(frozen=True)
class Formula:
    """A parsed formula: its text, the column names it reads, and its syntax tree."""

    text: str
    names: frozenset[str]
    tree: ast.expr

    def evaluate(self, frame: pd.DataFrame, constants: Mapping[str, object] | None = None):
        """The formula's value for every row of ``frame`` (a Series on its index)."""
        value = _Evaluator(frame, constants or {}).visit(self.tree)
        if np.ndim(value) == 0:  # a constant formula ("true", "2 * 3"): the same on every row
            if isinstance(value, bool | np.bool_):
                return pd.Series(bool(value), index=frame.index, dtype=bool)
            if isinstance(value, str):
                return pd.Series(value, index=frame.index, dtype=object)
            return pd.Series(float(value), index=frame.index, dtype=float)
        return value


def parse(text: object) -> Formula:
    """Parse ``text`` into a :class:`Formula`; FormulaError for anything outside the grammar."""
    if not isinstance(text, str) or not text.strip():
        raise FormulaError("a formula must be non-empty text")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise FormulaError(f"syntax error at column {exc.offset or 0}: {exc.msg}") from None
    names: set[str] = set()
    _check(tree.body, names)
    return Formula(text=text.strip(), names=frozenset(names - set(_LITERALS)), tree=tree.body)


def _check(node: ast.AST, names: set[str]) -> None:
    """Refuse every node outside the whitelist; collect the names read."""
    if isinstance(node, ast.Constant):
        if isinstance(node.value, bool) or not isinstance(node.value, int | float | str):
            raise FormulaError(f"constant {node.value!r} is not a number or text")
        return
    if isinstance(node, ast.Name):
        if node.id.startswith("_"):
            raise FormulaError(f"name '{node.id}' is not allowed (names may not start with _)")
        names.add(node.id)
        return
    if isinstance(node, ast.BinOp):
        if type(node.op) not in _BINARY and not isinstance(node.op, ast.Div):
            raise FormulaError(f"operator {type(node.op).__name__} is not allowed (+ - * / only)")
        _check(node.left, names)
        _check(node.right, names)
        return
    if isinstance(node, ast.UnaryOp):
        if not isinstance(node.op, ast.USub | ast.UAdd | ast.Not):
            raise FormulaError(f"operator {type(node.op).__name__} is not allowed")
        _check(node.operand, names)
        return
    if isinstance(node, ast.BoolOp):
        for value in node.values:
            _check(value, names)
        return
    if isinstance(node, ast.Compare):
        for op in node.ops:
            if type(op) not in _COMPARE and not isinstance(op, ast.Eq | ast.NotEq):
                raise FormulaError(f"comparison {type(op).__name__} is not allowed")
        for value in (node.left, *node.comparators):
            _check(value, names)
        return
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCTIONS:
            shown = ast.unparse(node.func)
            raise FormulaError(f"call of '{shown}' is not allowed (only {', '.join(_FUNCTIONS)})")
        if node.keywords or not node.args:
            raise FormulaError(f"{node.func.id}() takes positional arguments only")
        if node.func.id in ("isnull", "notnull") and len(node.args) != 1:
            raise FormulaError(f"{node.func.id}() takes one argument")
        for arg in node.args:
            if isinstance(arg, ast.Starred):
                raise FormulaError("* arguments are not allowed")
            _check(arg, names)
        return
    raise FormulaError(f"'{ast.unparse(node)}' ({type(node).__name__}) is not allowed")


class _Evaluator:
    """Evaluates a checked tree on columns (Series) and constants."""

    def __init__(self, frame: pd.DataFrame, constants: Mapping[str, object]) -> None:
        self.frame = frame
        self.constants = constants

    def visit(self, node: ast.AST):
        method: Callable = getattr(self, f"visit_{type(node).__name__}")
        return method(node)

    def visit_Constant(self, node: ast.Constant):
        return node.value

    def visit_Name(self, node: ast.Name):
        if node.id in _LITERALS:
            return _LITERALS[node.id]
        if node.id in self.constants:
            return self.constants[node.id]
        column = self.frame[node.id]
        if not pd.api.types.is_numeric_dtype(column.dtype) and _numeric_text(column):
            return pd.to_numeric(column, errors="coerce")
        return column

    def visit_BinOp(self, node: ast.BinOp):
        left = _number(self.visit(node.left))
        right = _number(self.visit(node.right))
        if isinstance(node.op, ast.Div):
            if np.ndim(right) == 0:
                return left / right if right != 0 else left * np.nan
            return left / right.where(right != 0)
        return _BINARY[type(node.op)](left, right)

    def visit_UnaryOp(self, node: ast.UnaryOp):
        value = self.visit(node.operand)
        if isinstance(node.op, ast.Not):
            return ~_truth(value) if np.ndim(value) else not bool(value)
        value = _number(value)
        return -value if isinstance(node.op, ast.USub) else +value

    def visit_BoolOp(self, node: ast.BoolOp):
        values = [_truth(self.visit(v)) for v in node.values]
        out = values[0]
        for value in values[1:]:
            out = (out & value) if isinstance(node.op, ast.And) else (out | value)
        return out

    def visit_Compare(self, node: ast.Compare):
        left = self.visit(node.left)
        out = True
        for op, comparator in zip(node.ops, node.comparators, strict=True):
            right = self.visit(comparator)
            out = out & _compare(op, left, right)
            left = right
        return out

    def visit_Call(self, node: ast.Call):
        name = node.func.id
        if name in ("isnull", "notnull"):
            value = self.visit(node.args[0])
            missing = pd.isna(value)
            if np.ndim(missing):
                missing = pd.Series(np.asarray(missing, dtype=bool), index=self.frame.index)
            return missing if name == "isnull" else ~missing
        args = [_number(self.visit(a)) for a in node.args]
        stacked = pd.concat(
            [a if np.ndim(a) else pd.Series(a, index=self.frame.index) for a in args], axis=1
        )
        return stacked.min(axis=1) if name == "min" else stacked.max(axis=1)


def _numeric_text(column: pd.Series) -> bool:
    present = column.dropna()
    return len(present) > 0 and all(isinstance(v, int | float) for v in present)


def _number(value):
    if isinstance(value, str):
        raise FormulaError(f"text {value!r} used in arithmetic")
    if np.ndim(value) == 0:
        return np.nan if value is None else float(value)
    if value.dtype == bool:
        return value.astype(float)
    if not pd.api.types.is_numeric_dtype(value.dtype):
        numeric = pd.to_numeric(value, errors="coerce")
        if numeric.isna().sum() > value.isna().sum():
            raise FormulaError(f"column '{value.name}' holds text; it cannot be used in arithmetic")
        return numeric.astype(float)
    return value.astype(float)


def _truth(value):
    if np.ndim(value) == 0:
        return bool(value) if not pd.isna(value) else False
    if value.dtype == bool:
        return value
    if not pd.api.types.is_numeric_dtype(value.dtype):
        return value.notna() & value.astype(object).fillna(False).astype(bool)
    return value.fillna(0) != 0


def _compare(op: ast.cmpop, left, right):
    text = isinstance(left, str) or isinstance(right, str)
    if not text:
        left, right = _number(left), _number(right)
    if isinstance(op, ast.Eq | ast.NotEq):
        equal = left == right
        if np.ndim(equal):
            present = pd.notna(left) & pd.notna(right)
            equal = equal & present
            return equal if isinstance(op, ast.Eq) else (~equal & present)
        return equal if isinstance(op, ast.Eq) else not equal
    if text:
        raise FormulaError(f"'{type(op).__name__}' compares text; use == or != with text")
    result = _COMPARE[type(op)](left, right)
    return result.fillna(False) if hasattr(result, "fillna") else bool(result)


__all__ = ["Formula", "FormulaError", "parse"]

"""Error-analysis cohorts of an RAI insights bundle, as row predicates on Arrow tables.

The bundle stores each cohort's filter as text that is also a valid
``DataFrame.query`` expression (``income <= 2710.5 and purpose in ['car', 'other']``).
A bundle is data, not code: the filter is parsed into a closed grammar — conditions
``column <op> literal`` joined by ``and``, with ``op`` one of ``<``, ``<=``, ``>``,
``>=``, ``==``, ``!=``, ``in``, ``not in`` — and anything else is refused, never
evaluated::

    >>> parse_filter("age <= 30.5 and `home owner` in ['no', 'yes']")
    [Condition(column='age', op='<=', value=30.5), Condition(column='home owner', op='in', value=('no', 'yes'))]
    >>> parse_filter("__import__('os').system('x') == 0")
    Traceback (most recent call last):
    ...
    monitor.errors.SchemaError: cohort filter "__import__('os').system('x') == 0" is not a conjunction of 'column <op> literal' conditions; rebuild the bundle with raiwatch
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from monitor.errors import SchemaError

_OPS: dict[type[ast.cmpop], str] = {
    ast.Lt: "<", ast.LtE: "<=", ast.Gt: ">", ast.GtE: ">=", ast.Eq: "==", ast.NotEq: "!=",
    ast.In: "in", ast.NotIn: "not in",
}  # fmt: skip
_BACKTICK = re.compile(r"`([^`]*)`")


@dataclass(frozen=True)
class Condition:
    """``column <op> value``: one step of a cohort's path in the error tree."""

    column: str
    op: str
    value: Any


@dataclass(frozen=True)
class Cohort:
    """One stored cohort: its id (the tree leaf), filter text and conditions."""

    key: str
    filter: str
    conditions: tuple[Condition, ...]
    error_rate: float | None = None
    size: int | None = None

    @property
    def columns(self) -> list[str]:
        return sorted({c.column for c in self.conditions})


def _refuse(text: str) -> SchemaError:
    return SchemaError(
        f"cohort filter {text!r} is not a conjunction of 'column <op> literal' conditions; "
        "rebuild the bundle with raiwatch"
    )


def _literal(node: ast.expr, text: str) -> Any:
    try:
        value = ast.literal_eval(node)
    except ValueError:
        raise _refuse(text) from None
    if isinstance(value, list | tuple | set):
        if not all(isinstance(v, str | int | float | bool) for v in value):
            raise _refuse(text)
        return tuple(value)
    if not isinstance(value, str | int | float | bool):
        raise _refuse(text)
    return value


def parse_filter(text: str) -> list[Condition]:
    """The conditions of a stored cohort filter (``"all rows"``: none)."""
    if text.strip() == "all rows":
        return []
    names: dict[str, str] = {}

    def _name(match: re.Match[str]) -> str:
        placeholder = f"_raiwatch_col{len(names)}"
        names[placeholder] = match.group(1)
        return placeholder

    try:
        tree = ast.parse(_BACKTICK.sub(_name, text), mode="eval").body
    except SyntaxError:
        raise _refuse(text) from None
    parts = tree.values if isinstance(tree, ast.BoolOp) and isinstance(tree.op, ast.And) else [tree]
    out = []
    for part in parts:
        if not (
            isinstance(part, ast.Compare) and len(part.ops) == 1 and isinstance(part.left, ast.Name)
        ):
            raise _refuse(text)
        op = _OPS.get(type(part.ops[0]))
        if op is None:
            raise _refuse(text)
        value = _literal(part.comparators[0], text)
        if op in ("in", "not in") and not isinstance(value, tuple):
            raise _refuse(text)
        out.append(Condition(names.get(part.left.id, part.left.id), op, value))
    return out


def _as_text(value: Any) -> str:
    # the profiles hold categories as text and booleans as "true"/"false" (conform)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def condition_mask(table: pa.Table, cond: Condition) -> np.ndarray:
    """Rows of a conformed table meeting ``cond`` (nulls never do)."""
    col = table.column(cond.column)
    if cond.op in ("in", "not in"):
        if pa.types.is_floating(col.type):
            values = pa.array([float(v) for v in cond.value], pa.float64())
        else:
            values = pa.array([_as_text(v) for v in cond.value], pa.string())
            col = col.cast(pa.string()) if not pa.types.is_string(col.type) else col
        hit = pc.is_in(col, value_set=values)
        if cond.op == "not in":
            hit = pc.invert(hit)
    else:
        if pa.types.is_floating(col.type) or pa.types.is_integer(col.type):
            scalar = pa.scalar(float(cond.value), pa.float64())
            col = col.cast(pa.float64())
        else:
            scalar = pa.scalar(_as_text(cond.value), pa.string())
            col = col.cast(pa.string())
        fn = {"<": pc.less, "<=": pc.less_equal, ">": pc.greater, ">=": pc.greater_equal,
              "==": pc.equal, "!=": pc.not_equal}[cond.op]  # fmt: skip
        hit = fn(col, scalar)
    return np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)


def cohort_mask(table: pa.Table, cohort: Cohort) -> np.ndarray:
    """Rows of a conformed table inside ``cohort``."""
    mask = np.ones(table.num_rows, dtype=bool)
    for cond in cohort.conditions:
        mask &= condition_mask(table, cond)
    return mask


def _cohort(row: dict[str, Any]) -> Cohort:
    text = str(row["filter"])
    return Cohort(
        key=f"cohort={int(row['leaf'])}", filter=text, conditions=tuple(parse_filter(text)),
        error_rate=float(row["error_rate"]), size=int(row["size"]),
    )  # fmt: skip


def read_cohorts(path: str | Path, *, top: int | None = None) -> list[Cohort]:
    """The error-analysis cohorts stored in the insights bundle at ``path``, worst first."""
    from rai.bundle import InsightsBundle  # the bundle reader (rai/ is imported only here)

    try:
        bundle = InsightsBundle.load(path)
    except (OSError, ValueError) as err:
        raise SchemaError(
            f"cohorts_from: {str(path)!r} cannot be read as an RAI bundle: {err}"
        ) from err
    result = bundle.components.get("error_analysis")
    if result is None or result.status == "failed" or "cohorts" not in result.tables:
        why = (
            "has no error-analysis component"
            if result is None
            else f"error analysis {result.status}"
        )
        raise SchemaError(
            f"cohorts_from: bundle {str(path)!r} {why}; build it with `raiwatch rai build` "
            "with error_analysis among its components"
        )
    table = result.tables["cohorts"].sort_values(["error_rate", "leaf"], ascending=[False, True])
    cohorts = [_cohort(row) for row in table.to_dict("records")]
    return cohorts[:top] if top is not None else cohorts

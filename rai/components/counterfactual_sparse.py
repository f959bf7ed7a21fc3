"""Sparse-first counterfactual search: change one feature, then two, then more.

For each query row the search works in *levels*. Level 1 tries every feature that may
vary on its own (every other category; a grid of the feature's training quantiles
inside its permitted range). Level ``k > 1`` draws ``sample_size`` random candidates
that each change ``k`` distinct features to values seen in training. Candidates the
model gives the desired outcome are then made smaller, each step checked with the
model:

1. **sparsify** — changed features are put back to the query's value one at a time
   (the one farthest from the query first) while the candidate stays valid;
2. **shrink** — for the closest candidate of each move, the numeric changes are pulled
   together toward the query's values along a grid of 16 fractions of the change, then 8
   finer ones, keeping the closest valid point; then sparsify again.

So no counterfactual returned can put back any one of its changed features and still
reach the desired outcome.

One counterfactual is kept per distinct *move* (the features changed, the categories
chosen and the direction of each numeric change: nearly equal counterfactuals are not
shown as different ones), the closest first, and a row stops at the first level that
gives ``total_cfs`` moves. The result is sorted by features changed, then by distance
(mean over features of |change| / MAD, 1 for a changed category).

Rows are searched together in batches, so each level or shrinking step is one model
call over all candidates of the batch. The per-row time limit is checked before and
after every model call against the batch's clock: a row still searching when the
limit has passed is reported as ``timeout`` (a model call in progress is not
interrupted; no timer or signal is involved, so the check cannot be lost). Every random
draw comes from a generator seeded by ``(seed, row)``: a row's counterfactuals do not
depend on which other rows share its batch or process.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

BATCH_ROWS = 64
GRID_QUANTILES = 24
SHRINK_STEPS = (16, 8)


class BatchTimeout(Exception):
    """The batch's clock passed the per-row limit."""


@dataclass(frozen=True)
class FeatureSpace:
    """Where one feature may move: its values (numeric) or levels (categorical)."""

    name: str
    numeric: bool
    values: np.ndarray  # numeric: sorted training values in range; categorical: levels
    grid: np.ndarray  # level-1 values (numeric quantiles, or every level)
    low: float
    high: float
    decimals: int
    scale: float  # MAD (numeric) or 1


@dataclass
class Candidates:
    """Candidate rows as one array per feature, with the batch row each belongs to."""

    columns: dict[str, np.ndarray]
    owner: np.ndarray

    def __len__(self) -> int:
        return len(self.owner)

    def take(self, index: np.ndarray) -> Candidates:
        return Candidates({f: v[index] for f, v in self.columns.items()}, self.owner[index])

    @staticmethod
    def concat(parts: list[Candidates], features: list[str]) -> Candidates:
        parts = [p for p in parts if len(p)]
        if not parts:
            return Candidates({f: np.empty(0, dtype=object) for f in features}, np.empty(0, int))
        return Candidates(
            {f: np.concatenate([p.columns[f] for p in parts]) for f in features},
            np.concatenate([p.owner for p in parts]),
        )


@dataclass
class RowState:
    """One query row being searched."""

    row_id: int
    query: dict[str, Any]
    label: Any
    rng: np.random.Generator
    # values -> (move, features changed, distance, values)
    found: dict[tuple[str, ...], tuple[tuple[Any, ...], int, float, dict[str, Any]]] = field(
        default_factory=dict
    )
    status: str = "searching"  # searching | done | timeout


class SparseSearch:
    """Sparse-first counterfactual search over one model and its training data.

    Parameters
    ----------
    model : object
        Fitted model with ``predict``.
    train : DataFrame
        Training features (no target); gives value ranges, levels, precision and MAD.
    continuous : list of str
        Numeric features; every other feature is categorical.
    features_to_vary : list of str or "all"
    permitted_range : dict
        ``{numeric feature: [min, max]}``; other numeric features stay within training
        min and max.
    is_desired : callable
        ``is_desired(predictions, query_label) -> bool array``.
    total_cfs, sample_size, seed, time_limit
        As in the counterfactual settings.
    clock : callable
        Monotonic clock in seconds (a parameter so tests can drive it).
    """

    def __init__(
        self,
        *,
        model: Any,
        train: pd.DataFrame,
        continuous: list[str],
        features_to_vary: list[str] | str,
        permitted_range: dict[str, list[float]],
        is_desired: Callable[[np.ndarray, Any], np.ndarray],
        total_cfs: int,
        sample_size: int,
        seed: int,
        time_limit: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.model = model
        self.features = list(train.columns)
        self.dtypes = train.dtypes.to_dict()
        vary = self.features if features_to_vary == "all" else list(features_to_vary)
        self.spaces = [
            _space(train[f], f in continuous, permitted_range.get(f)) for f in self.features
        ]
        self.vary = [s for s in self.spaces if s.name in vary and _movable(s)]
        self.is_desired = is_desired
        self.total_cfs = total_cfs
        self.sample_size = sample_size
        self.seed = seed
        self.time_limit = time_limit
        self.clock = clock

    # ---- driver -------------------------------------------------------------------

    def search(self, rows: list[tuple[int, pd.DataFrame]]) -> list[tuple[RowState, str]]:
        """Search every ``(row_id, one-row frame)``; return each row's state and status."""
        results: list[tuple[RowState, str]] = []
        for start in range(0, len(rows), BATCH_ROWS):
            batch = self._states(rows[start : start + BATCH_ROWS])
            self._search_batch(batch)
            results.extend((state, state.status) for state in batch)
        return results

    def _states(self, rows: list[tuple[int, pd.DataFrame]]) -> list[RowState]:
        frames = pd.concat([q[self.features] for _, q in rows], ignore_index=True)
        labels = self.model.predict(frames)
        return [
            RowState(
                row_id=row_id,
                query={f: query[f].iloc[0] for f in self.features},
                label=labels[i],
                rng=np.random.default_rng([self.seed, row_id]),
            )
            for i, (row_id, query) in enumerate(rows)
        ]

    def _search_batch(self, batch: list[RowState]) -> None:
        self.deadline = self.clock() + self.time_limit
        self.query_columns = {
            s.name: np.array([state.query[s.name] for state in batch], dtype=float)
            if s.numeric
            else np.array([state.query[s.name] for state in batch], dtype=object)
            for s in self.spaces
        }
        try:
            for level in range(1, len(self.vary) + 1):
                active = [i for i, s in enumerate(batch) if s.status == "searching"]
                if not active:
                    break
                candidates = Candidates.concat(
                    [self._level_candidates(batch[i], i, level) for i in active], self.features
                )
                valid = candidates.take(np.flatnonzero(self._desired(candidates, batch)))
                valid = self._sparsify(valid, batch)
                shrunk = self._shrink(self._shortlist(valid, batch), batch)
                self._keep(self._sparsify(shrunk, batch), batch)
                self._keep(valid, batch)
                for i in active:
                    if len(batch[i].found) >= self.total_cfs:
                        batch[i].status = "done"
        except BatchTimeout:
            for state in batch:
                if state.status == "searching":
                    state.status = "timeout"
            return
        for state in batch:
            if state.status == "searching":
                state.status = "done"

    # ---- the model, behind the deadline -------------------------------------------

    def _desired(self, candidates: Candidates, batch: list[RowState]) -> np.ndarray:
        """Desired outcome per candidate: one model call, the deadline checked around it."""
        if self.clock() > self.deadline:
            raise BatchTimeout
        if not len(candidates):
            return np.zeros(0, dtype=bool)
        frame = pd.DataFrame(candidates.columns, columns=self.features).astype(self.dtypes)
        predictions = np.asarray(self.model.predict(frame))
        if self.clock() > self.deadline:
            raise BatchTimeout
        labels = np.array([batch[o].label for o in candidates.owner], dtype=object)
        return np.asarray(self.is_desired(predictions, labels), dtype=bool)

    # ---- candidate generation -----------------------------------------------------

    def _repeat_query(self, state: RowState, owner: int, n: int) -> Candidates:
        columns = {}
        for space in self.spaces:
            value = state.query[space.name]
            columns[space.name] = (
                np.full(n, float(value)) if space.numeric else np.full(n, value, dtype=object)
            )
        return Candidates(columns, np.full(n, owner))

    def _level_candidates(self, state: RowState, owner: int, level: int) -> Candidates:
        if level == 1:
            parts = []
            for space in self.vary:
                grid = space.grid[_differs(space, space.grid, state.query[space.name])]
                part = self._repeat_query(state, owner, len(grid))
                part.columns[space.name] = grid.copy()
                parts.append(part)
            return Candidates.concat(parts, self.features)
        n = self.sample_size
        part = self._repeat_query(state, owner, n)
        chosen = state.rng.random((n, len(self.vary))).argsort(axis=1)[:, :level]
        for j, space in enumerate(self.vary):
            rows = np.flatnonzero((chosen == j).any(axis=1))
            draws = state.rng.integers(0, len(space.values), size=len(rows))
            values = space.values[draws]
            if not space.numeric:  # a category other than the query's
                same = values == state.query[space.name]
                others = space.values[space.values != state.query[space.name]]
                if len(others):
                    values[same] = others[state.rng.integers(0, len(others), size=same.sum())]
            part.columns[space.name][rows] = values
        return part

    # ---- shortlist, sparsify, shrink ------------------------------------------------

    def _distance_parts(self, candidates: Candidates, batch: list[RowState]) -> np.ndarray:
        """Per-feature distance to the query (|change| / MAD, or 1 for a category)."""
        parts = np.zeros((len(candidates), len(self.spaces)))
        for j, space in enumerate(self.spaces):
            query = self.query_columns[space.name][candidates.owner]
            values = candidates.columns[space.name]
            if space.numeric:
                parts[:, j] = np.abs(values.astype(float) - query) / space.scale
            else:
                parts[:, j] = values != query
        return parts

    def _move_keys(
        self, candidates: Candidates, batch: list[RowState], parts: np.ndarray
    ) -> list[tuple[Any, ...]]:
        """What a candidate does: features changed, categories chosen, numeric directions."""
        keys = []
        for i in range(len(candidates)):
            state = batch[candidates.owner[i]]
            move: list[Any] = [int(candidates.owner[i])]
            for j, space in enumerate(self.spaces):
                if parts[i, j] <= 1e-12:
                    continue
                value = candidates.columns[space.name][i]
                if space.numeric:
                    move.append((space.name, "+" if value > state.query[space.name] else "-"))
                else:
                    move.append((space.name, str(value)))
            keys.append(tuple(move))
        return keys

    def _shortlist(self, valid: Candidates, batch: list[RowState]) -> Candidates:
        """The closest candidate of each move, at most ``total_cfs`` moves per row."""
        if not len(valid):
            return valid
        parts = self._distance_parts(valid, batch)
        changed = (parts > 1e-12).sum(axis=1)
        cost = parts.mean(axis=1)
        order = np.lexsort((cost, changed, valid.owner))
        keys = self._move_keys(valid, batch, parts)
        seen: set[tuple[Any, ...]] = set()
        per_row: dict[int, int] = {}
        keep = []
        for i in order:
            owner = int(valid.owner[i])
            if keys[i] in seen or per_row.get(owner, 0) >= self.total_cfs:
                continue
            seen.add(keys[i])
            per_row[owner] = per_row.get(owner, 0) + 1
            keep.append(i)
        return valid.take(np.array(keep, dtype=int))

    def _sparsify(self, candidates: Candidates, batch: list[RowState]) -> Candidates:
        """Put changed features back to the query's value while the candidate stays valid."""
        while len(candidates):
            parts = self._distance_parts(candidates, batch)
            changed = parts > 1e-12
            trial_of, trial_feature = np.nonzero(changed & (changed.sum(axis=1) >= 2)[:, None])
            if not len(trial_of):
                break
            trials = candidates.take(trial_of)
            for j, space in enumerate(self.spaces):
                rows = np.flatnonzero(trial_feature == j)
                trials.columns[space.name][rows] = self.query_columns[space.name][
                    trials.owner[rows]
                ]
            ok = self._desired(trials, batch)
            # per candidate, revert the valid feature that is farthest from the query
            gain = np.where(ok, parts[trial_of, trial_feature], -1.0)
            best: dict[int, tuple[float, int]] = {}
            for t in range(len(trial_of)):
                c = int(trial_of[t])
                if gain[t] >= 0 and (c not in best or gain[t] > best[c][0]):
                    best[c] = (float(gain[t]), t)
            if not best:
                break
            for c, (_, t) in best.items():
                name = self.spaces[int(trial_feature[t])].name
                candidates.columns[name][c] = trials.columns[name][t]
        return candidates

    def _shrink(self, candidates: Candidates, batch: list[RowState]) -> Candidates:
        """Pull the numeric changes toward the query, keeping the closest valid point.

        All numeric changes of a candidate move together, by the same fraction of the
        change: a grid of 16 fractions, then 8 finer ones below the closest valid
        fraction (two model calls for the whole batch).
        """
        numeric = [s for s in self.spaces if s.numeric]
        if not len(candidates) or not numeric:
            return candidates
        query = {s.name: self.query_columns[s.name][candidates.owner] for s in numeric}
        target = {s.name: candidates.columns[s.name].astype(float) for s in numeric}
        moving = np.flatnonzero(
            np.any([np.abs(target[s.name] - query[s.name]) > 1e-12 for s in numeric], axis=0)
        )
        lower, upper = np.zeros(len(moving)), np.ones(len(moving))  # invalid / valid fraction
        for steps in SHRINK_STEPS:
            if not len(moving):
                break
            fractions = lower[:, None] + (upper - lower)[:, None] * (np.arange(1, steps) / steps)
            trials = candidates.take(np.repeat(moving, steps - 1))
            inside = np.ones(len(trials), dtype=bool)
            for space in numeric:
                start = np.repeat(query[space.name][moving], steps - 1)
                change = np.repeat(target[space.name][moving], steps - 1) - start
                values = np.round(start + fractions.ravel() * change, space.decimals)
                values = np.where(change == 0, start, values)
                inside &= (values >= space.low - 1e-9) & (values <= space.high + 1e-9) | (
                    change == 0
                )
                trials.columns[space.name] = values
            desired = np.zeros(len(trials), dtype=bool)
            desired[inside] = self._desired(trials.take(np.flatnonzero(inside)), batch)
            ok = desired.reshape(len(moving), steps - 1)
            for k, c in enumerate(moving):
                hits = np.flatnonzero(ok[k])
                if not len(hits):
                    lower[k] = fractions[k, -1]
                    continue
                first = hits[0]
                if first > 0:
                    lower[k] = fractions[k, first - 1]
                upper[k] = fractions[k, first]
                row = k * (steps - 1) + first
                for space in numeric:
                    candidates.columns[space.name][c] = trials.columns[space.name][row]
        return candidates

    def _keep(self, candidates: Candidates, batch: list[RowState]) -> None:
        """Add candidates not seen before (by value) to their row's counterfactuals."""
        if not len(candidates):
            return
        parts = self._distance_parts(candidates, batch)
        keys = self._move_keys(candidates, batch, parts)
        changed = (parts > 1e-12).sum(axis=1)
        cost = parts.mean(axis=1)
        for i in np.lexsort((cost, changed)):
            state = batch[int(candidates.owner[i])]
            values = {f: candidates.columns[f][i] for f in self.features}
            identity = tuple(str(values[f]) for f in self.features)
            if identity not in state.found:
                state.found[identity] = (keys[i][1:], int(changed[i]), float(cost[i]), values)

    def counterfactuals(self, state: RowState) -> pd.DataFrame:
        """The row's best ``total_cfs`` counterfactuals.

        Fewest features changed first; among equally sparse ones the closest of each
        move comes before a second one of the same move (so a row shows different moves
        before variants of one), then by distance.
        """
        entries = sorted(state.found.values(), key=lambda e: (e[1], e[2]))
        seen: dict[tuple[Any, ...], int] = {}
        ranked = []
        for move, changed, cost, values in entries:
            seen[move] = seen.get(move, 0) + 1
            ranked.append(((changed, seen[move], cost), values))
        ranked.sort(key=lambda e: e[0])
        chosen = [values for _, values in ranked[: self.total_cfs]]
        if not chosen:
            return pd.DataFrame(columns=self.features)
        frame = pd.DataFrame(chosen, columns=self.features)
        return frame.astype(self.dtypes).reset_index(drop=True)


def _decimals(values: np.ndarray) -> int:
    """Decimal places of the training values (at most 6)."""
    for decimals in range(7):
        if np.allclose(values, np.round(values, decimals), rtol=0, atol=1e-9):
            return decimals
    return 6


def _space(column: pd.Series, numeric: bool, permitted: list[float] | None) -> FeatureSpace:
    if not numeric:
        levels = np.array(sorted(column.dropna().unique().tolist(), key=str), dtype=object)
        return FeatureSpace(column.name, False, levels, levels, 0.0, 0.0, 0, 1.0)  # type: ignore[arg-type]
    values = column.dropna().to_numpy(dtype=float)
    low, high = (
        (float(permitted[0]), float(permitted[1])) if permitted else (values.min(), values.max())
    )
    inside = np.sort(values[(values >= low) & (values <= high)])
    if not len(inside):  # a permitted range outside the training values
        inside = np.linspace(low, high, GRID_QUANTILES)
    decimals = _decimals(values)
    grid = np.unique(
        np.round(
            np.concatenate([np.quantile(inside, np.linspace(0, 1, GRID_QUANTILES)), [low, high]]),
            decimals,
        )
    )
    grid = grid[(grid >= low - 1e-9) & (grid <= high + 1e-9)]
    mad = float(np.median(np.abs(values - np.median(values))))
    scale = mad if mad > 0 else float(np.std(values, ddof=1) if len(values) > 1 else 0) or 1.0
    return FeatureSpace(column.name, True, inside, grid, low, high, decimals, scale)  # type: ignore[arg-type]


def _movable(space: FeatureSpace) -> bool:
    return len(space.values) > 1 or (space.numeric and space.high > space.low)


def _differs(space: FeatureSpace, values: np.ndarray, query: Any) -> np.ndarray:
    if space.numeric:
        return np.abs(values.astype(float) - float(query)) > 1e-12
    return np.array([v != query for v in values], dtype=bool)

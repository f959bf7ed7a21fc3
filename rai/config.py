"""Declarative settings of an RAI build, read from YAML or built in Python.

The top-level :class:`RaiConfig` holds the data contract (target, task, feature
roles) and one small settings object per component. ``RaiConfig.from_dict`` checks
every field name and value and raises :class:`~rai.errors.RaiConfigError` naming the
field, the bad value and the valid options.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, get_args

import yaml

from rai.errors import RaiConfigError
from rai.gates import GateSpec

Task = Literal["binary", "multiclass", "regression"]
ComponentName = Literal[
    "performance", "explanation", "error_analysis", "causal", "counterfactual", "fairness"
]
ALL_COMPONENTS: tuple[str, ...] = get_args(ComponentName)


@dataclass(frozen=True)
class ExplanationSettings:
    """Permutation importance repeats, SHAP rows and the model-agnostic budget."""

    permutation_repeats: int = 5
    local_rows: int = 100
    background_rows: int = 30
    tree_background_rows: int = 100
    tree_perturbation: Literal["auto", "interventional"] = "auto"
    max_evals: int = 200


@dataclass(frozen=True)
class ErrorAnalysisSettings:
    """Depth and leaf size of the error tree, heatmap features and bin count."""

    max_depth: int = 3
    min_samples_leaf: int = 20
    heatmap_features: tuple[str, ...] = ()
    bins: int = 4


@dataclass(frozen=True)
class CausalSettings:
    """Estimator, estimand, rows used, adjustment (graph or common causes), overlap
    trimming, refutation budget, negative-control outcomes, individual effects and the
    number of processes (treatments are analysed in parallel when ``n_jobs > 1``)."""

    estimator: Literal["auto", "dml", "linear"] = "auto"
    estimand: Literal["ate", "att", "atc"] = "ate"
    data: Literal["train", "test", "both"] = "both"
    graph: str | None = None
    common_causes: tuple[str, ...] = ()
    negative_control_outcomes: tuple[str, ...] = ()
    refutation_simulations: int = 100
    subset_refits: int = 5
    trim: float = 0.0
    max_share_outside: float = 0.1
    individual_effects: bool = False
    max_rows: int = 5000
    n_jobs: int = 1


@dataclass(frozen=True)
class CounterfactualSettings:
    """Which test rows (positions, or an int N for the first N), how many counterfactuals,
    constraints, the search method (``sparse``: raiwatch's sparse-first search;
    ``dice``: DiCE's random search) and the per-row time limit."""

    rows: tuple[int, ...] = (0, 1, 2, 3, 4)
    total_cfs: int = 5
    features_to_vary: tuple[str, ...] = ()
    permitted_range: dict[str, tuple[float, float]] = field(default_factory=dict)
    desired_class: str | int = "opposite"
    desired_range: tuple[float, float] | None = None
    time_limit_seconds: float = 60.0
    n_jobs: int = 1
    sample_size: int = 250
    method: Literal["sparse", "dice"] = "sparse"


@dataclass(frozen=True)
class FairnessSettings:
    """Minimum group size to judge, bootstrap resamples (intervals), permutations (the
    test of no disparity) and intersections."""

    min_group_size: int = 30
    bootstrap: int = 500
    permutations: int = 500
    intersections: bool = True


@dataclass(frozen=True)
class RaiConfig:
    """Everything an RAI build needs besides the model and the data frames.

    Parameters
    ----------
    target : str
        Name of the label column, present in train and test.
    task : {"binary", "multiclass", "regression"}
        Kind of model.
    categorical_features, sensitive_features, treatment_features : tuple of str
        Feature roles; sensitive and treatment features must be model inputs.
    positive_label : str, int or None
        Class treated as positive (binary); ``None`` picks the largest class label.
    components : tuple of str
        Components to run, from ``ALL_COMPONENTS``.
    gates : tuple of GateSpec
        Release gates checked by ``raiwatch rai gate``.
    allow_failed : bool
        When False (default) ``raiwatch rai build`` exits non-zero if a component failed.
    missing : {"refuse", "drop", "impute"}
        Rows with missing values: refuse (default, the error names the columns), drop
        them, or impute features (train median / mode; rows without a label are dropped).
    seed : int
        Seed of every random step; stored in the manifest.
    """

    target: str
    task: Task
    categorical_features: tuple[str, ...] = ()
    sensitive_features: tuple[str, ...] = ()
    treatment_features: tuple[str, ...] = ()
    positive_label: str | int | None = None
    components: tuple[str, ...] = ALL_COMPONENTS
    max_categorical_levels: int = 200
    seed: int = 0
    gates: tuple[GateSpec, ...] = ()
    allow_failed: bool = False
    missing: Literal["refuse", "drop", "impute"] = "refuse"
    explanation: ExplanationSettings = ExplanationSettings()
    error_analysis: ErrorAnalysisSettings = ErrorAnalysisSettings()
    causal: CausalSettings = CausalSettings()
    counterfactual: CounterfactualSettings = CounterfactualSettings()
    fairness: FairnessSettings = FairnessSettings()

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> RaiConfig:
        """Build a config from plain data, checking every field name and value."""
        if not isinstance(data, dict):
            raise RaiConfigError(f"RAI config must be a mapping, got {type(data).__name__}.")
        values = dict(data)
        sections = {
            "explanation": ExplanationSettings,
            "error_analysis": ErrorAnalysisSettings,
            "causal": CausalSettings,
            "counterfactual": CounterfactualSettings,
            "fairness": FairnessSettings,
        }
        for name, section_cls in sections.items():
            if name in values:
                values[name] = _section(section_cls, values[name] or {}, name)
        if "gates" in values:
            values["gates"] = tuple(
                GateSpec.from_dict(g, where=f"gates[{i}]") for i, g in enumerate(values["gates"])
            )
        config = _section(cls, values, "config")
        config.check()
        return config

    def check(self) -> None:
        """Raise :class:`RaiConfigError` when a value breaks a rule (no data needed)."""
        if self.task not in get_args(Task):
            raise RaiConfigError(
                f"Field 'task' must be one of {list(get_args(Task))}, got {self.task!r}."
            )
        unknown = [c for c in self.components if c not in ALL_COMPONENTS]
        if unknown:
            raise RaiConfigError(
                f"Field 'components' has unknown {unknown}; valid: {list(ALL_COMPONENTS)}."
            )
        if self.causal.estimator not in ("auto", "dml", "linear"):
            raise RaiConfigError(
                "Field 'causal.estimator' must be 'auto', 'dml' or 'linear', "
                f"got {self.causal.estimator!r}."
            )
        choices: dict[str, tuple[str, tuple[str, ...]]] = {
            "missing": (self.missing, ("refuse", "drop", "impute")),
            "explanation.tree_perturbation": (
                self.explanation.tree_perturbation,
                ("auto", "interventional"),
            ),
            "causal.estimand": (self.causal.estimand, ("ate", "att", "atc")),
            "causal.data": (self.causal.data, ("train", "test", "both")),
            "counterfactual.method": (self.counterfactual.method, ("sparse", "dice")),
        }
        for field_name, (value, valid) in choices.items():
            if value not in valid:
                raise RaiConfigError(
                    f"Field {field_name!r} must be one of {list(valid)}, got {value!r}."
                )
        if not 0.0 <= self.causal.trim < 0.5:
            raise RaiConfigError(
                f"Field 'causal.trim' must be in [0, 0.5), got {self.causal.trim!r}; 0.05 keeps "
                "rows with a propensity in [0.05, 0.95]."
            )
        if self.causal.refutation_simulations < 50:
            raise RaiConfigError(
                "Field 'causal.refutation_simulations' must be at least 50 (placebo treatments "
                f"are cheap: they reuse the fitted nuisances), got {self.causal.refutation_simulations}."
            )
        for name, (low, high) in self.counterfactual.permitted_range.items():
            if not low <= high:
                raise RaiConfigError(
                    f"Field 'counterfactual.permitted_range.{name}' has min {low} > max {high}; "
                    "give [min, max]."
                )
        if not self.counterfactual.time_limit_seconds > 0:
            raise RaiConfigError(
                "Field 'counterfactual.time_limit_seconds' must be above 0, got "
                f"{self.counterfactual.time_limit_seconds!r}; it is the wall-clock limit per row."
            )
        positive_ints = {
            "fairness.min_group_size": self.fairness.min_group_size,
            "fairness.bootstrap": self.fairness.bootstrap,
            "fairness.permutations": self.fairness.permutations,
            "counterfactual.total_cfs": self.counterfactual.total_cfs,
            "counterfactual.n_jobs": self.counterfactual.n_jobs,
            "counterfactual.sample_size": self.counterfactual.sample_size,
            "causal.n_jobs": self.causal.n_jobs,
            "causal.subset_refits": self.causal.subset_refits,
            "explanation.permutation_repeats": self.explanation.permutation_repeats,
            "error_analysis.max_depth": self.error_analysis.max_depth,
        }
        for name, number in positive_ints.items():
            if number < 1:
                raise RaiConfigError(f"Field {name!r} must be at least 1, got {number}.")
        for gate in self.gates:
            gate.check_against(self.task, self.sensitive_features)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-ready form (tuples become lists); ``from_dict`` reverses it."""
        return _plain(dataclasses.asdict(self))


def load_yaml(path: str | Path) -> dict[str, Any]:
    """Read a YAML file into a mapping, naming the file on any error."""
    path = Path(path)
    if not path.is_file():
        raise RaiConfigError(f"Config file {str(path)!r} does not exist; pass -f PATH to rai.yaml.")
    try:
        data = yaml.safe_load(path.read_text())
    except yaml.YAMLError as exc:
        raise RaiConfigError(f"Config file {str(path)!r} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise RaiConfigError(f"Config file {str(path)!r} must hold a mapping at the top level.")
    return data


def _section(cls: Any, data: Any, where: str) -> Any:
    if not isinstance(data, dict):
        raise RaiConfigError(f"Field {where!r} must be a mapping, got {type(data).__name__}.")
    fields = {f.name: f for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise RaiConfigError(
            f"Unknown field(s) {unknown} in {where!r}; valid fields: {sorted(fields)}."
        )
    required = [n for n, f in fields.items() if _is_required(f) and n not in data]
    if required:
        raise RaiConfigError(f"Missing required field(s) {required} in {where!r}.")
    kwargs: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, list):
            value = tuple(tuple(v) if isinstance(v, list) else v for v in value)
        if key == "rows" and isinstance(value, int):  # "rows: 10" means the first 10 test rows
            value = tuple(range(value))
        if key == "permitted_range" and isinstance(value, dict):
            value = {k: tuple(v) for k, v in value.items()}
        kwargs[key] = value
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise RaiConfigError(f"Invalid value in {where!r}: {exc}") from exc


def _is_required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value

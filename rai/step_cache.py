"""Reuse a component's result when nothing it depends on changed.

A component's fingerprint is the sha256 of: its name, the model's sha256, the train
and test data fingerprints, the config fields it reads (the data contract, the seed
and its own settings section — never the gates), the installed library versions and
the source of the :mod:`rai` package. Results are stored as JSON and Parquet (never
pickles) under ``<cache_dir>/<component>/<fingerprint>/``; only finished results
(``ok`` or ``warning``) are stored.

>>> a = component_fingerprint("fairness", {"seed": 0}, {"model": "m"})
>>> a == component_fingerprint("fairness", {"seed": 0}, {"model": "m"})
True
>>> a == component_fingerprint("fairness", {"seed": 1}, {"model": "m"})
False
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pandas as pd

from rai.results import ComponentResult, to_jsonable

CONTRACT_FIELDS = (
    "target",
    "task",
    "categorical_features",
    "sensitive_features",
    "treatment_features",
    "positive_label",
    "max_categorical_levels",
    "missing",
    "seed",
)
SECTIONS = {
    "performance": None,
    "explanation": "explanation",
    "error_analysis": "error_analysis",
    "causal": "causal",
    "counterfactual": "counterfactual",
    "fairness": "fairness",
}


def source_fingerprint() -> str:
    """sha256 over the source files of the :mod:`rai` package (sorted by path)."""
    root = Path(__file__).resolve().parent
    digest = hashlib.sha256()
    for path in sorted(root.rglob("*.py")):
        digest.update(str(path.relative_to(root)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def component_inputs(name: str, config: dict[str, Any]) -> dict[str, Any]:
    """The config fields component ``name`` reads (plain data)."""
    fields = {k: config.get(k) for k in CONTRACT_FIELDS}
    section = SECTIONS.get(name)
    if section is not None:
        fields[section] = config.get(section)
    return fields


def component_fingerprint(name: str, config: dict[str, Any], context: dict[str, Any]) -> str:
    """sha256 of the component name, the config fields it reads and ``context`` (model,
    data, library and source fingerprints)."""
    payload = {"component": name, "config": component_inputs(name, config), "context": context}
    text = json.dumps(to_jsonable(payload), sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class StepCache:
    """A directory of component results keyed by fingerprint."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _folder(self, name: str, key: str) -> Path:
        return self.root / name / key

    def get(self, name: str, key: str) -> ComponentResult | None:
        """The stored result, or ``None`` when absent or incomplete."""
        folder = self._folder(name, key)
        meta_path = folder / "meta.json"
        if not meta_path.is_file():
            return None
        meta = json.loads(meta_path.read_text())
        result = ComponentResult(name, meta["status"], seconds=meta["seconds"])
        result.summary = json.loads((folder / "summary.json").read_text())
        for table in meta["tables"]:
            file = folder / f"{table}.parquet"
            if not file.is_file():
                return None
            result.tables[table] = pd.read_parquet(file)
        return result

    def put(self, name: str, key: str, result: ComponentResult) -> None:
        """Store a finished result (failed ones are never cached)."""
        if not result.ok:
            return
        folder = self._folder(name, key)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "summary.json").write_text(
            json.dumps(to_jsonable(result.summary), sort_keys=True)
        )
        for table, frame in sorted(result.tables.items()):
            frame.to_parquet(folder / f"{table}.parquet", index=False)
        meta = {"status": result.status, "seconds": result.seconds, "tables": sorted(result.tables)}
        (folder / "meta.json").write_text(json.dumps(meta))  # written last: marks completion

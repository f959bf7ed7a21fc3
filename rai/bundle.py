"""The insights bundle: a directory of JSON and Parquet files, never pickles.

Layout::

    bundle/
      manifest.json                  schema version, fingerprints, config, seed,
                                     library versions, timings, component status
      <component>/summary.json       JSON figures of an ``ok`` component
      <component>/<table>.parquet    its row-level tables
      scorecard.html, scorecard.pdf  written by :mod:`rai.scorecard`

``InsightsBundle.load(path)`` gives back the same content that was saved.
"""

from __future__ import annotations

import json
import platform
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

import pandas as pd

from rai.config import RaiConfig
from rai.errors import BundleError
from rai.gates import GateVerdict, evaluate_gates
from rai.results import ComponentResult, to_jsonable

SCHEMA_VERSION = 2  # 2: causal estimand/overlap/refutation rules, fairness p-values, status "warning"
LIBRARIES = ("numpy", "pandas", "scikit-learn", "shap", "dowhy", "dice-ml", "fairlearn", "econml")


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries the components use (``None`` if absent)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


@dataclass
class InsightsBundle:
    """Manifest plus component results; save/load to a directory.

    Parameters
    ----------
    manifest : dict
        JSON-ready manifest (see module docstring).
    components : dict of str to ComponentResult
        Results keyed by component name, failed ones included.
    path : Path or None
        Directory the bundle was saved to or loaded from.
    """

    manifest: dict[str, Any]
    components: dict[str, ComponentResult] = field(default_factory=dict)
    path: Path | None = field(default=None, compare=False)

    @property
    def config(self) -> RaiConfig:
        """The configuration the bundle was built with."""
        return RaiConfig.from_dict(self.manifest["config"])

    def gate_verdicts(self) -> list[GateVerdict]:
        """Judge the configured gates against this bundle's figures."""
        return evaluate_gates(self.config.gates, self.components)

    def save(self, path: str | Path) -> Path:
        """Write the bundle under ``path`` (created if needed) and return it."""
        root = Path(path)
        root.mkdir(parents=True, exist_ok=True)
        entries = {}
        for name, result in self.components.items():
            files = []
            if result.ok:
                folder = root / name
                folder.mkdir(exist_ok=True)
                _write_json(folder / "summary.json", result.summary)
                files.append(f"{name}/summary.json")
                for table, frame in sorted(result.tables.items()):
                    frame.to_parquet(folder / f"{table}.parquet", index=False)
                    files.append(f"{name}/{table}.parquet")
            entries[name] = {"status": result.status, "error": result.error, "files": files}
        self.manifest["components"] = entries
        self.manifest["timings"]["components"] = {
            name: round(result.seconds, 4) for name, result in self.components.items()
        }
        _write_json(root / "manifest.json", self.manifest)
        self.path = root
        return root

    @classmethod
    def load(cls, path: str | Path) -> InsightsBundle:
        """Read a bundle written by :meth:`save`."""
        root = Path(path)
        manifest_path = root / "manifest.json"
        if not manifest_path.is_file():
            raise BundleError(
                f"{str(root)!r} is not an insights bundle: manifest.json is missing. Build one "
                "with `raiwatch rai build -f rai.yaml`."
            )
        manifest = json.loads(manifest_path.read_text())
        if manifest.get("schema_version") != SCHEMA_VERSION:
            raise BundleError(
                f"Bundle {str(root)!r} has schema version {manifest.get('schema_version')!r}; "
                f"this raiwatch reads version {SCHEMA_VERSION}. Rebuild the bundle."
            )
        components = {}
        for name, entry in manifest["components"].items():
            result = ComponentResult(
                name,
                entry["status"],
                error=entry["error"],
                seconds=manifest["timings"]["components"].get(name, 0.0),
            )
            for relative in entry["files"]:
                file = root / relative
                if not file.is_file():
                    raise BundleError(
                        f"Bundle file {relative!r} listed in the manifest is missing."
                    )
                if file.suffix == ".json":
                    result.summary = json.loads(file.read_text())
                else:
                    result.tables[file.stem] = pd.read_parquet(file)
            components[name] = result
        return cls(manifest, components, root)


def _write_json(path: Path, data: Any) -> None:
    path.write_text(json.dumps(to_jsonable(data), indent=2, sort_keys=True) + "\n")

"""The same inputs and seed give byte-identical component results in fresh processes
with different ``PYTHONHASHSEED`` (string hashing, set order), DML included."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{root!r}, {tests!r}]
    from conftest import base_config, forest_pipeline, known_classification
    from rai.pipeline import build_from_frames

    frame = known_classification(500)
    train, test = frame.iloc[:380].reset_index(drop=True), frame.iloc[380:].reset_index(drop=True)
    config = base_config(
        sensitive_features=["sex", "colour"],
        treatment_features=["noise_a", "sex"],
        causal={{"estimator": "dml", "subset_refits": 1, "individual_effects": True}},
        fairness={{"bootstrap": 100, "permutations": 100}},
    )
    build_from_frames(forest_pipeline(train), train, test, config=config, out_dir=sys.argv[1])
    """
)


@pytest.mark.slow
def test_bundles_are_byte_identical_across_hash_seeds(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    script = tmp_path / "build.py"
    script.write_text(SCRIPT.format(root=str(root), tests=str(root / "tests" / "rai")))
    outputs = []
    for hash_seed in ("1", "4242"):
        out = tmp_path / f"bundle_{hash_seed}"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        done = subprocess.run(
            [sys.executable, str(script), str(out)],
            env=env,
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert done.returncode == 0, done.stderr[-3000:]
        outputs.append(out)
    first, second = outputs
    manifest = json.loads((first / "manifest.json").read_text())
    assert manifest["components"]["causal"]["status"] in ("ok", "warning")
    files = sorted(
        str(p.relative_to(first))
        for p in first.rglob("*")
        if p.is_file() and p.parent != first  # component files; manifest holds timings
    )
    assert any(f.startswith("causal/") for f in files)
    for name in files:
        assert (first / name).read_bytes() == (second / name).read_bytes(), name
    other = json.loads((second / "manifest.json").read_text())
    for key in ("config", "model", "data", "components", "seed"):
        assert manifest[key] == other[key], key

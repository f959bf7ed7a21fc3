"""Shared pieces of the benchmarks: the seeded data set, the model version, child-process measuring.

The data set has 20 numeric and 3 categorical feature columns plus the model's
``prediction`` column (raiwatch needs one). The *current* data differs from the
*reference* in a known subset of columns (:data:`SHIFTED`); every other column is
an independent draw from the same distribution. Data is generated in chunks of
at most ``chunk_rows`` rows, each from its own seeded generator, and streamed to
Parquet, so generating 20 million rows needs little memory.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

BENCH_DIR = Path(__file__).resolve().parent
DATA_DIR = BENCH_DIR / "data"
RESULTS_DIR = BENCH_DIR / "results"
GENERATOR_VERSION = 1  # bump when the columns below change, so cached files are rebuilt

Draw = Callable[[np.random.Generator, int, bool], np.ndarray]


def _normal(mean: float, sd: float, shift: float = 0.0, scale: float = 1.0) -> Draw:
    def draw(rng: np.random.Generator, n: int, current: bool) -> np.ndarray:
        x = rng.normal(mean, sd, n)
        return (x - mean) * scale + mean + shift if current else x

    return draw


def _lognormal_scaled(mu: float, sigma: float, factor: float) -> Draw:
    def draw(rng: np.random.Generator, n: int, current: bool) -> np.ndarray:
        x = rng.lognormal(mu, sigma, n)
        return x * factor if current else x

    return draw


def _shifted(make: Callable[[np.random.Generator, int], np.ndarray], shift: float = 0.0) -> Draw:
    def draw(rng: np.random.Generator, n: int, current: bool) -> np.ndarray:
        x = np.asarray(make(rng, n), dtype=np.float64)
        return x + shift if current else x

    return draw


def _levels(p_ref: list[float], p_cur: list[float]) -> Draw:
    def draw(rng: np.random.Generator, n: int, current: bool) -> np.ndarray:
        p = p_cur if current else p_ref
        return rng.choice(len(p), size=n, p=p).astype(np.float64)

    return draw


def _with_nulls(inner: Draw, share: float) -> Draw:
    def draw(rng: np.random.Generator, n: int, current: bool) -> np.ndarray:
        x = inner(rng, n, current)
        x[rng.random(n) < share] = np.nan
        return x

    return draw


def _mixture(rng: np.random.Generator, n: int) -> np.ndarray:
    pick = rng.random(n) < 0.3
    return np.where(pick, rng.normal(-2.0, 0.5, n), rng.normal(3.0, 1.0, n))


#: 20 numeric features: (generator, how the current window differs).
NUMERIC: dict[str, tuple[Draw, str]] = {
    "num_00": (_normal(10.0, 2.0, shift=1.0), "normal(10, 2); current mean +1 (0.5 sd)"),
    "num_01": (_normal(0.0, 1.0, scale=1.5), "normal(0, 1); current sd x1.5"),
    "num_02": (_lognormal_scaled(0.0, 0.75, 1.3), "lognormal(0, 0.75); current x1.3"),
    "num_03": (_shifted(lambda r, n: r.exponential(3.0, n), 0.6), "exponential(3); current +0.6"),
    "num_04": (_shifted(lambda r, n: r.uniform(0, 100, n), 5.0), "uniform(0, 100); current +5"),
    "num_05": (
        _normal(0.0, 1.0, shift=0.05),
        "normal(0, 1); current mean +0.05 (mild, below threshold)",
    ),
    "num_06": (_shifted(lambda r, n: r.poisson(20, n)), "poisson(20), integer values; unchanged"),
    "num_07": (
        _levels([0.4, 0.3, 0.2, 0.1], [0.1, 0.2, 0.3, 0.4]),
        "4 levels 0-3 (judged as categorical); shares reversed",
    ),
    "num_08": (_with_nulls(_normal(50.0, 10.0), 0.01), "normal(50, 10), 1% nulls; unchanged"),
    "num_09": (_shifted(lambda r, n: r.standard_t(3, n)), "student t(3), heavy tails; unchanged"),
    "num_10": (_shifted(lambda r, n: r.gamma(2.0, 2.0, n)), "gamma(2, 2); unchanged"),
    "num_11": (_shifted(lambda r, n: r.beta(2.0, 5.0, n)), "beta(2, 5); unchanged"),
    "num_12": (_normal(-3.0, 0.5), "normal(-3, 0.5); unchanged"),
    "num_13": (_lognormal_scaled(3.0, 1.0, 1.0), "lognormal(3, 1), long right tail; unchanged"),
    "num_14": (_shifted(lambda r, n: r.uniform(-1, 1, n)), "uniform(-1, 1); unchanged"),
    "num_15": (_shifted(lambda r, n: r.integers(0, 1000, n)), "integers 0-999; unchanged"),
    "num_16": (_normal(0.0, 1000.0), "normal(0, 1000); unchanged"),
    "num_17": (_shifted(lambda r, n: r.exponential(1.0, n)), "exponential(1); unchanged"),
    "num_18": (_shifted(_mixture), "bimodal normal mixture; unchanged"),
    "num_19": (
        _normal(0.0, 1.0, shift=0.08),
        "normal(0, 1); current mean +0.08 (mild, below threshold)",
    ),
}

_CAT1_WEIGHTS = 1.0 / np.arange(1, 51)
_CAT2 = [f"c2_{i:03d}" for i in range(200)]

#: 3 categorical features: (categories, reference shares, current shares, description).
CATEGORICAL: dict[str, tuple[list[str], np.ndarray, np.ndarray, str]] = {
    "cat_0": (
        ["A", "B", "C", "D"],
        np.array([0.4, 0.3, 0.2, 0.1]),
        np.array([0.2, 0.2, 0.3, 0.3]),
        "4 categories; current shares changed",
    ),
    "cat_1": (
        [f"c1_{i:02d}" for i in range(50)],
        _CAT1_WEIGHTS / _CAT1_WEIGHTS.sum(),
        _CAT1_WEIGHTS / _CAT1_WEIGHTS.sum(),
        "50 categories, Zipf shares; unchanged",
    ),
    "cat_2": (
        [*_CAT2, "c2_new"],
        np.append(np.full(200, 1 / 200), 0.0),
        np.append(np.full(200, 0.995 / 200), 0.005),
        "200 categories; current has 0.5% of a new category (below threshold)",
    ),
}

#: Columns whose distribution differs in the current data by design.
SHIFTED: tuple[str, ...] = ("num_00", "num_01", "num_02", "num_03", "num_04", "num_07", "cat_0")
#: Columns shifted by design but by less than the default threshold.
MILD: tuple[str, ...] = ("num_05", "num_19", "cat_2")

NUMERIC_COLUMNS: list[str] = [*NUMERIC, "prediction"]
CATEGORICAL_COLUMNS: list[str] = list(CATEGORICAL)
ALL_COLUMNS: list[str] = [*NUMERIC, *CATEGORICAL, "prediction"]


def generate_chunk(seed: int, role: str, chunk: int, n: int) -> pa.Table:
    """Rows of one chunk; ``role`` is ``reference`` or ``current``."""
    current = role == "current"
    rng = np.random.default_rng([seed, 1 if current else 0, chunk])
    cols: dict[str, pa.Array] = {}
    for name, (draw, _) in NUMERIC.items():
        cols[name] = pa.array(draw(rng, n, current), pa.float64(), from_pandas=True)
    for name, (cats, p_ref, p_cur, _) in CATEGORICAL.items():
        idx = rng.choice(len(cats), size=n, p=p_cur if current else p_ref)
        cols[name] = pa.array(np.asarray(cats, dtype=object)[idx], pa.string())
    z0 = (cols["num_00"].to_numpy() - 10.0) / 2.0
    prediction = (
        0.5 * z0
        + 0.8 * cols["num_01"].to_numpy()
        + 0.3 * np.log(cols["num_02"].to_numpy())
        + rng.normal(0.0, 0.5, n)
    )
    cols["prediction"] = pa.array(prediction, pa.float64())
    return pa.table(cols)


def write_dataset(
    path: Path,
    *,
    rows: int,
    seed: int,
    role: str,
    chunk_rows: int = 1_000_000,
    row_group_rows: int = 262_144,
) -> dict[str, Any]:
    """Write the data set to ``path`` once; an existing file with the same parameters is reused.

    Returns the parameters, the seconds spent generating (0 when reused) and the file size.
    """
    params = {
        "generator_version": GENERATOR_VERSION,
        "rows": rows,
        "seed": seed,
        "role": role,
        "chunk_rows": chunk_rows,
    }
    key = b"raiwatch_bench"
    if path.exists():
        meta = pq.read_schema(path).metadata or {}
        if meta.get(key) == json.dumps(params, sort_keys=True).encode():
            return {**params, "generated_s": 0.0, "bytes": path.stat().st_size}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    t0 = time.perf_counter()
    schema = generate_chunk(seed, role, 0, 1).schema.with_metadata(
        {key: json.dumps(params, sort_keys=True)}
    )
    with pq.ParquetWriter(tmp, schema) as writer:
        for i, start in enumerate(range(0, rows, chunk_rows)):
            table = generate_chunk(seed, role, i, min(chunk_rows, rows - start))
            writer.write_table(
                table.replace_schema_metadata(schema.metadata), row_group_size=row_group_rows
            )
    tmp.replace(path)
    return {
        **params,
        "generated_s": round(time.perf_counter() - t0, 2),
        "bytes": path.stat().st_size,
    }


def model_version_document() -> dict[str, Any]:
    """The raiwatch model version of the data set (a regression model)."""
    features = {name: "numeric" for name in NUMERIC} | {name: "categorical" for name in CATEGORICAL}
    return {
        "name": "bench",
        "version": "1",
        "task": "regression",
        "features": features,
        "prediction": "prediction",
    }


def run_child(args: list[str]) -> dict[str, Any]:
    """Run ``python <args>`` and measure its wall time and CPU time.

    The child reports its own peak memory (:func:`self_peak_rss_mb`). The
    ``ru_maxrss`` that ``wait4`` returns is kept only as a cross-check: on Linux
    it is at least the parent's resident size when the child was started
    (``execve`` folds the parent's high-water mark into it), so it overstates a
    small child started from a big parent.
    """
    cmd = [sys.executable, *args]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise RuntimeError(
            f"benchmark child failed with exit code {proc.returncode}: {' '.join(cmd)}"
        )
    return {
        "process_wall_s": round(wall, 3),
        "cpu_user_s": round(usage.ru_utime, 3),
        "cpu_sys_s": round(usage.ru_stime, 3),
        "wait4_ru_maxrss_mb": round(usage.ru_maxrss / 1024, 1),
    }


def self_peak_rss_mb() -> float:
    """Peak resident memory of this process so far, in MiB (``VmHWM``, imports included)."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    import resource  # not Linux: ru_maxrss (KiB on Linux, bytes on macOS)

    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)


def _git(*args: str) -> str | None:
    try:
        out = subprocess.run(
            ["git", *args], cwd=BENCH_DIR, capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return None
    return out.stdout.strip()


def machine() -> dict[str, Any]:
    """What the figures were measured on (load average: the machine is shared)."""
    import importlib.metadata as md

    versions = {}
    for pkg in ("evidently", "pandas", "pyarrow", "numpy", "scipy", "raiwatch"):
        try:
            versions[pkg] = md.version(pkg)
        except md.PackageNotFoundError:
            versions[pkg] = None
    mem_gb = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return {
        "raiwatch_commit": _git("rev-parse", "--short", "HEAD"),
        "monitor_uncommitted_changes": bool(_git("status", "--porcelain", "--", "monitor")),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "cpus": os.cpu_count(),
        "memory_gb": round(mem_gb, 1),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
        "versions": versions,
    }


def write_json(path: Path, doc: dict[str, Any]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(doc, indent=2, sort_keys=False) + "\n")


def _suffix(rows: int, full_rows: int) -> str:
    return "" if rows == full_rows else f"_{rows}rows"


def result_document(
    name: str,
    *,
    rows: int,
    full_rows: int,
    seed: int,
    started: dict[str, Any],
    data: dict[str, Any],
    summary: dict[str, Any],
    **parts: Any,
) -> dict[str, Any]:
    """The results document every data benchmark writes: what ran, where, on which data."""
    return {
        "benchmark": name,
        "command": f"python bench/{name}.py" + ("" if rows == full_rows else f" --rows {rows}"),
        "rows": rows,
        "finished_at": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
        "machine": started,
        "load_average_at_end": [round(x, 2) for x in os.getloadavg()],
        "data": {
            "seed": seed,
            "columns": f"{len(NUMERIC)} numeric + {len(CATEGORICAL)} categorical features + numeric `prediction`",
            **data,
        },
        "summary": summary,
        **parts,
    }


def save_results(
    doc: dict[str, Any], out: Path | None, full_rows: int, markdown: Callable[[dict[str, Any]], str]
) -> Path:
    """Write ``<name>[_<rows>rows].json`` and ``.md`` under results/ (or ``out``); print the table."""
    base = out or RESULTS_DIR / (doc["benchmark"] + _suffix(doc["rows"], full_rows))
    write_json(base.with_suffix(".json"), doc)
    base.with_suffix(".md").write_text(markdown(doc))
    print(markdown(doc))
    return base

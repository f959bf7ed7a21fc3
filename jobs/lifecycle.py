"""Promote a monitor's challenger to champion (``raiwatch monitor promote``).

Promotion switches the monitor to the challenger's version: later windows are
evaluated against the challenger version's own baseline (its reference
profile, fitted state and reference performance); past runs keep the version
they ran with and stay readable; the promotion is recorded with the verdict's
evidence at that time. It refuses unless the latest verdict is ``better``
(``force`` overrides, e.g. to roll a version out for reasons outside the data).
"""

from __future__ import annotations

import copy
from typing import Any

from monitor.errors import ConflictError, NotFoundError, SchemaError
from monitor.spec.monitor import MonitorSpec
from monitor.store import PromotionRecord, Store


def latest_verdict(store: Store, monitor: str) -> dict[str, Any] | None:
    """The newest stored ``challenger`` result of ``monitor`` as a dict (``None``: none yet)."""
    for run in store.list_runs(monitor=monitor, limit=50):
        found = next((r for r in store.get_run(run.id).results if r.signal == "challenger"), None)
        if found is not None and found.status != "no_data":
            return {"run_id": run.id, "window_end": run.window_end.isoformat(), **found.to_dict()}
    return None


def promote(store: Store, monitor: str, *, force: bool = False) -> PromotionRecord:
    """Make the challenger of ``monitor`` its champion (see the module docstring)."""
    record = store.get_monitor(monitor)
    spec = MonitorSpec.from_stored(record.spec)
    if spec.challenger is None:
        raise SchemaError(
            f"monitor {monitor!r} declares no challenger; add 'challenger: {{version: ..., mode: shadow}}' "
            "to its YAML and 'raiwatch monitor add -f' it first"
        )
    version = spec.challenger.version
    try:
        store.get_model_version(spec.model, version)
        store.load_baseline(spec.model, version)
    except NotFoundError as err:
        raise NotFoundError(f"cannot promote {spec.model}:{version}: {err}") from err
    evidence = latest_verdict(store, monitor)
    verdict = (evidence or {}).get("details", {}).get("verdict")
    if verdict != "better" and not force:
        raise ConflictError(
            f"the challenger {spec.model}:{version} of monitor {monitor!r} is "
            f"{verdict or 'not judged yet'!s}, not 'better'; wait for the verdict or pass --force"
        )
    stored = copy.deepcopy(record.spec)
    stored["version"] = version
    stored["challenger"] = None
    stored.setdefault("signals", {}).setdefault("challenger", {})["enabled"] = False
    MonitorSpec.from_stored(stored)  # still a valid monitor
    return store.promote_monitor(
        monitor, stored, from_version=spec.version, to_version=version,
        evidence={"verdict": verdict, "forced": bool(force and verdict != "better"), "result": evidence},
    )  # fmt: skip

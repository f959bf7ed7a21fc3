"""Every name exported by ``monitor.store`` imports, and the facade has the documented methods."""

from __future__ import annotations

import importlib

import monitor.store as store_pkg


def test_every_exported_name_imports() -> None:
    module = importlib.import_module("monitor.store")
    missing = [name for name in store_pkg.__all__ if not hasattr(module, name)]
    assert missing == []


def test_store_facade_methods() -> None:
    expected = {
        "migrate", "register_model_version", "get_model_version", "list_model_versions",
        "save_baseline", "load_baseline", "save_run", "list_runs", "get_run", "latest_runs",
        "upsert_monitor", "get_monitor", "list_monitors", "acquire_lease", "release_lease",
        "list_alert_states", "list_alert_events", "claim_deliveries", "record_attempt",
        "list_deliveries", "redeliver", "delivery_counts", "create_api_key", "verify_api_key",
        "revoke_api_key", "load_detector_state", "save_detector_state",
    }  # fmt: skip
    assert expected <= set(dir(store_pkg.Store))

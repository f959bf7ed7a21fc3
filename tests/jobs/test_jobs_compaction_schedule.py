"""``serve`` compacts the log store on its own, every ``compaction_interval_s``."""

from __future__ import annotations

import time
from pathlib import Path

from fastapi.testclient import TestClient

from jobs.service import Service, ServiceOptions
from monitor.ingest.logstore import LogStore
from monitor.spec.settings import Settings
from tests.jobs.fakes import FakeEvaluator
from tests.monitor.test_core_compaction import MV, _files, _fill, _ids


def test_serve_compacts_small_files_in_the_background(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path / "home", compaction_interval_s=0.2, compaction_min_files=2)
    service = Service(settings, ServiceOptions(reconcile_interval_s=60), evaluator=FakeEvaluator())
    service.store.register_model_version(MV)
    ids = _fill(LogStore(settings.home))
    days = len(LogStore(settings.home).days(MV))
    assert _files(settings.home) > days
    with TestClient(service.app):
        deadline = time.monotonic() + 20
        while _files(settings.home) > days and time.monotonic() < deadline:
            time.sleep(0.1)
    assert _files(settings.home) == days
    assert sorted(_ids(LogStore(settings.home))) == sorted(ids)

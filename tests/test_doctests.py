"""Every example in the README and in the docstrings of monitor/, jobs/ and rai/ runs.

Modules are found by walking the packages, so a new module's examples are checked
without a change here.
"""

from __future__ import annotations

import doctest
import importlib
import pkgutil
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("monitor", "jobs", "rai")
# Modules whose import needs something only a running service has (none today).
SKIP: frozenset[str] = frozenset()


def _modules() -> list[str]:
    names = []
    for package in PACKAGES:
        mod = importlib.import_module(package)
        for info in pkgutil.walk_packages(mod.__path__, prefix=f"{package}."):
            if info.name not in SKIP and ".migrations." not in info.name:
                names.append(info.name)
    return sorted(names)


def _with_examples(names: list[str]) -> list[str]:
    finder = doctest.DocTestFinder()
    out = []
    for name in names:
        module = importlib.import_module(name)
        if any(t.examples for t in finder.find(module, module=module)):
            out.append(name)
    return out


MODULES = _with_examples(_modules())


def test_modules_with_examples_are_found() -> None:
    assert "monitor.signals.thresholds" in MODULES and "monitor.metrics._two_sample" in MODULES


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_readme_examples() -> None:
    result = doctest.testfile(str(ROOT / "README.md"), module_relative=False, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0
    assert result.failed == 0

"""Finding and loading insights bundles for the RAI review page (cached)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import streamlit as st

from rai.bundle import InsightsBundle
from rai.errors import BundleError

#: How deep under the bundle directory bundles are looked for (``rai review`` writes
#: ``<bundles>/adhoc/<name>``, scheduled reviews ``<bundles>/<monitor>/<window end>``).
MAX_DEPTH = 4


def find_bundles(bundle_dir: str, *, max_depth: int = MAX_DEPTH) -> list[str]:
    """Every bundle directory (one holding ``manifest.json``) at or under ``bundle_dir``,
    at most ``max_depth`` levels down, sorted by path; a bundle's own sub-directories are
    not searched."""
    root = Path(bundle_dir)
    if not root.is_dir():
        return []
    found: list[str] = []
    for current, dirs, files in os.walk(root):
        depth = len(Path(current).relative_to(root).parts)
        if "manifest.json" in files:
            found.append(current)
            dirs[:] = []  # a bundle's component folders hold no bundles
        elif depth >= max_depth:
            dirs[:] = []
        else:
            dirs[:] = sorted(d for d in dirs if not d.startswith("."))
    return sorted(found)


def bundle_label(bundle: str, bundle_dir: str) -> str:
    """``credit-daily / 20261005T000000Z``: the bundle's path under the bundle directory."""
    relative = Path(bundle).relative_to(bundle_dir).parts if bundle != bundle_dir else ()
    return " / ".join(relative) or Path(bundle).name


@st.cache_data(ttl=300, show_spinner="Loading the insights bundle…")
def load_bundle(path: str) -> InsightsBundle | str:
    """The bundle at ``path``, or the reason it cannot be read."""
    try:
        return InsightsBundle.load(path)
    except (BundleError, OSError, ValueError, KeyError) as err:
        return f"{type(err).__name__}: {err}"


@st.cache_resource(show_spinner="Loading the model…")
def load_model(reference: str) -> Any:
    """The bundle's model, for the what-if editor (``None`` when it cannot be loaded)."""
    from rai.model import load_model as _load

    try:
        return _load(reference)
    except Exception:  # any loader failure means "not loadable here": the editor says so
        return None

"""Finding and loading insights bundles for the RAI review page (cached)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import streamlit as st

from rai.bundle import InsightsBundle
from rai.errors import BundleError


def find_bundles(bundle_dir: str) -> list[str]:
    """Bundle directories: ``bundle_dir`` itself when it is one, and its sub-directories that are."""
    root = Path(bundle_dir)
    if not root.is_dir():
        return []
    found = [root] if (root / "manifest.json").is_file() else []
    found += sorted(p for p in root.iterdir() if p.is_dir() and (p / "manifest.json").is_file())
    return [str(p) for p in found]


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

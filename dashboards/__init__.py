"""The raiwatch Streamlit dashboard: fleet health, model pages, alerts and RAI review.

The dashboard reads what the store and the insights bundles hold and never
recomputes a monitoring result. Start it with ``raiwatch dashboard``; the app
script is :data:`APP_PATH`. Importing this package does not import Streamlit, so
the command line can locate the app without loading it.
"""

from pathlib import Path

#: The Streamlit entry script (``streamlit run`` target).
APP_PATH: Path = Path(__file__).with_name("app.py")

__all__ = ["APP_PATH"]

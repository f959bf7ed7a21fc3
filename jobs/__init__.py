"""Side effects of raiwatch: the CLI, the service (API, scheduler, deliverer), demos."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("raiwatch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

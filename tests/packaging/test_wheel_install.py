"""raiwatch installs from a wheel built by the project into a fresh virtual environment,
and the imports of the README's "Use it from your code" section work there.

The fresh venv gets only the wheel (``--no-deps``); the dependencies come from the test's
own environment through a ``.pth`` file, so the test runs offline and in seconds. The
assertions check that every raiwatch package is imported *from the wheel*, not from the
source tree or an editable install.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import textwrap
import venv
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("monitor", "rai", "jobs", "dashboards")

pytestmark = pytest.mark.slow


def _readme_imports() -> str:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Use it from your code", 1)[1].split("\n## ", 1)[0]
    [block] = re.findall(r"```python\n(.*?)```", section, flags=re.S)
    return block


@pytest.fixture(scope="module", autouse=True)
def _no_checkout_on_the_path() -> Iterator[None]:
    """The Spark engine puts this checkout on ``PYTHONPATH`` for its executors; a wheel
    test must not see it (it would build and import the checkout, not the wheel)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv("PYTHONPATH", raising=False)
        yield


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory, _no_checkout_on_the_path: None) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(ROOT)],
        check=True, cwd=tmp_path_factory.mktemp("build"),
    )  # fmt: skip
    [built] = out.glob("raiwatch-*.whl")
    return built


def test_wheel_installs_into_a_fresh_venv_and_the_documented_imports_work(
    wheel: Path, tmp_path: Path
) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=False).create(env_dir)
    python = env_dir / "bin" / "python"
    site = Path(
        subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                       capture_output=True, text=True, check=True).stdout.strip()
    )  # fmt: skip
    # the dependencies, borrowed from this environment (after the venv's own site-packages)
    (site / "zz_borrowed_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    subprocess.run(
        [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "-q",
         str(wheel)],
        check=True,
    )  # fmt: skip
    script = _readme_imports() + textwrap.dedent(
        f"""
        import importlib, importlib.metadata, pathlib
        site = pathlib.Path({str(site)!r})
        for name in {PACKAGES!r}:
            module = importlib.import_module(name)
            where = pathlib.Path(module.__file__).resolve()
            assert site in where.parents, (name, where)
        from jobs import __version__
        assert __version__ == importlib.metadata.version("raiwatch"), __version__
        import dashboards, monitor.migrations
        assert pathlib.Path(dashboards.APP_PATH).is_file()
        assert (pathlib.Path(monitor.migrations.__file__).parent / "script.py.mako").is_file()
        print("ok", __version__)
        """
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    result = subprocess.run([python, "-c", script], capture_output=True, text=True, env=env,
                            cwd=tmp_path)  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.startswith("ok ")
    # the installed console script runs
    cli = subprocess.run([env_dir / "bin" / "raiwatch", "--version"], capture_output=True,
                         text=True, env=env, cwd=tmp_path)  # fmt: skip
    assert cli.returncode == 0 and cli.stdout.startswith("raiwatch "), cli.stderr[-2000:]

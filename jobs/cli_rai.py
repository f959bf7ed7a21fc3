"""``raiwatch rai``: build an insights bundle and judge its release gates.

Exit codes: 0 success / all gates pass, 1 a gate fails, 2 bad input, 3 a component of
``rai build`` failed (unless ``allow_failed: true`` in rai.yaml or ``--allow-failed``).
``rai gate`` with no gates configured says so and exits 0 without claiming a pass.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import typer
from rich.console import Console
from rich.markup import escape

from monitor.errors import RaiwatchError

app = typer.Typer(
    help=(
        "Responsible-AI review: build an insights bundle (explanations, error analysis, causal "
        "effects, counterfactuals, fairness, scorecard) and check its release gates. The model "
        "file named in rai.yaml is loaded with joblib/pickle, which runs its code: use only "
        "model files you trust."
    ),
    no_args_is_help=True,
)
console = Console()


@app.command("build")
def build_command(
    config: Path = typer.Option(..., "-f", "--file", help="Path to rai.yaml."),
    out: Path | None = typer.Option(None, "--out", help="Bundle directory (overrides 'out')."),
    seed: int | None = typer.Option(None, "--seed", help="Seed (overrides 'seed')."),
    allow_failed: bool = typer.Option(
        False, "--allow-failed", help="Exit 0 even if a component failed (as 'allow_failed')."
    ),
    no_cache: bool = typer.Option(
        False, "--no-cache", help="Recompute every component (ignore .rai_cache next to rai.yaml)."
    ),
) -> None:
    """Build the insights bundle and scorecard described by rai.yaml; exit 3 if a component
    failed (unless allowed)."""
    from rai.pipeline import build

    try:
        bundle = build(config, out_dir=out, seed=seed, progress=True, use_cache=not no_cache)
    except (RaiwatchError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from exc
    for name, result in bundle.components.items():
        status = (
            "[green]ok[/green]"
            if result.status == "ok"
            else "[yellow]warning[/yellow] " + escape("; ".join(result.summary.get("warnings", [])))
            if result.ok
            else f"[red]failed[/red] {escape(str(result.error))}"
        )
        step = bundle.manifest.get("steps", {}).get(name, "computed")
        console.print(f"{name:<15} {status} ({step}, {result.seconds:.1f}s)", soft_wrap=True)
    console.print(
        f"bundle written to {bundle.path}; judge it with `raiwatch rai gate {bundle.path}`",
        soft_wrap=True,
    )
    failed = [name for name, result in bundle.components.items() if result.status == "failed"]
    if failed and not (allow_failed or bundle.config.allow_failed):
        console.print(
            f"[red]{len(failed)} component(s) failed: {', '.join(failed)}[/red]; fix the error "
            "above, drop the component from 'components', or set 'allow_failed: true' "
            "(--allow-failed) to accept a partial bundle.",
            soft_wrap=True,
        )
        raise typer.Exit(3)


@app.command("gate")
def gate_command(
    bundle_path: Path = typer.Argument(..., metavar="BUNDLE", help="Insights bundle directory."),
) -> None:
    """Print every gate with value, threshold and verdict; exit 1 if any gate fails."""
    from rai.bundle import InsightsBundle

    try:
        bundle = InsightsBundle.load(bundle_path)
        verdicts = bundle.gate_verdicts()
    except (RaiwatchError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from exc
    # One plain line per gate: readable in narrow terminals and CI logs alike.
    for verdict in verdicts:
        gate = verdict.gate
        value = "-" if verdict.value is None else f"{verdict.value:.4g}"
        mark = "[green]PASS[/green]" if verdict.passed else "[red]FAIL[/red]"
        scope = f" ({escape(gate.sensitive_feature)})" if gate.sensitive_feature else ""
        line = f"{mark} {gate.metric}{scope}: value {value}, threshold {gate.threshold_text}"
        if verdict.reason:
            line += f" - {escape(verdict.reason)}"
        console.print(line, soft_wrap=True)
    if not verdicts:
        console.print(
            "no gates configured: nothing was judged (this is not a pass); add 'gates' to rai.yaml"
        )
        return
    failed = [v for v in verdicts if not v.passed]
    if failed:
        console.print(f"[red]{len(failed)} of {len(verdicts)} gate(s) failed[/red]")
        raise typer.Exit(1)
    console.print(f"all {len(verdicts)} gate(s) passed")


def review_settings(file: Path | None, missing: str | None) -> dict[str, Any]:
    """The settings of a ``rai.yaml`` for a review: the file keys of ``rai build`` (model,
    train, test, out) are dropped; ``missing`` overrides the file's policy."""
    from rai.config import load_yaml
    from rai.errors import RaiConfigError
    from rai.pipeline import FILE_KEYS

    settings = load_yaml(file) if file is not None else {}
    settings = {k: v for k, v in settings.items() if k not in (*FILE_KEYS, "out")}
    if missing is not None:
        if missing not in ("refuse", "drop", "impute"):
            raise RaiConfigError(
                f"--missing must be 'refuse', 'drop' or 'impute', got {missing!r}."
            )
        settings["missing"] = missing
    return settings


@app.command("review")
def review_command(
    model: str = typer.Option(..., "--model", "-m", help="registered model name"),
    version: str = typer.Option(..., "--version", "-v", help="model version"),
    start: str = typer.Option(..., help="window start (ISO), inclusive"),
    end: str = typer.Option(..., help="window end (ISO), exclusive"),
    file: Path | None = typer.Option(
        None,
        "--file",
        "-f",
        help="the rai.yaml of `rai build` (its model/train/test/out are ignored: the window "
        "and the model version supply them)",
    ),
    missing: str | None = typer.Option(
        None,
        "--missing",
        help="rows with missing values: refuse (default), drop or impute (overrides rai.yaml)",
    ),
    out: Path | None = typer.Option(
        None, help="bundle directory (default <home>/bundles/adhoc/<end>)"
    ),
    min_labels: int = typer.Option(200, help="labelled rows the window needs"),
    home: Path | None = typer.Option(None, help="data directory"),
) -> None:
    """Build a bundle from a window's labelled production rows (the model version's model_uri
    is loaded with joblib/pickle: a trusted choice); prints the gate verdicts."""
    from jobs.cli_common import load_baseline, open_store, parse_range, settings_for
    from jobs.rai_job import review_window
    from monitor.baseline.model_loader import load_model
    from monitor.ingest.logstore import LogStore
    from monitor.spec.monitor import RaiReviewSpec

    try:
        settings = settings_for(home)
        store = open_store(settings)
        baseline = load_baseline(store, model, version)
        mv = baseline.model_version
        t0, t1 = parse_range(start, end)
        extra = review_settings(file, missing)
        review = RaiReviewSpec(settings=extra, min_labels=min_labels)
        target = (
            out or settings.bundle_dir / "adhoc" / f"{mv.name}-{mv.version}-{t1:%Y%m%dT%H%M%SZ}"
        )
        loaded = load_model(mv.model_uri) if mv.model_uri else None
        result = review_window(
            mv, baseline, LogStore(settings.home), t0, t1, review, loaded, target
        )
    except (RaiwatchError, FileNotFoundError, ValueError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from exc
    if result["status"] != "built":
        console.print(f"no bundle: {escape(result['reason'])}")
        raise typer.Exit(2)
    for gate in result["gates"]:
        value = "-" if gate["value"] is None else f"{gate['value']:.4g}"
        console.print(f"{'PASS' if gate['passed'] else 'FAIL'} {gate['metric']}: value {value}")
    if not result["gates"]:
        console.print("no gates configured: nothing was judged (this is not a pass)")
    console.print(f"bundle written to {result['bundle']} ({result['labelled_rows']} labelled rows)")
    if result["gates_passed"] is False:
        raise typer.Exit(1)

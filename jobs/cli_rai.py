"""``raiwatch rai``: build an insights bundle and judge its release gates.

Exit codes: 0 success / all gates pass, 1 a gate fails, 2 bad input.
"""

from __future__ import annotations

from pathlib import Path

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
) -> None:
    """Build the insights bundle and scorecard described by rai.yaml."""
    from rai.pipeline import build

    try:
        bundle = build(config, out_dir=out, seed=seed, progress=True)
    except (RaiwatchError, FileNotFoundError) as exc:
        console.print(f"[red]error:[/red] {escape(str(exc))}", soft_wrap=True)
        raise typer.Exit(2) from exc
    for name, result in bundle.components.items():
        status = (
            "[green]ok[/green]" if result.ok else f"[red]failed[/red] {escape(str(result.error))}"
        )
        console.print(f"{name:<15} {status} ({result.seconds:.1f}s)", soft_wrap=True)
    console.print(
        f"bundle written to {bundle.path}; judge it with `raiwatch rai gate {bundle.path}`",
        soft_wrap=True,
    )


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
        console.print("no gates configured")
    failed = [v for v in verdicts if not v.passed]
    if failed:
        console.print(f"[red]{len(failed)} of {len(verdicts)} gate(s) failed[/red]")
        raise typer.Exit(1)
    console.print(f"all {len(verdicts)} gate(s) passed")


@app.command("review")
def review_command(
    model: str = typer.Option(..., "--model", "-m", help="registered model name"),
    version: str = typer.Option(..., "--version", "-v", help="model version"),
    start: str = typer.Option(..., help="window start (ISO), inclusive"),
    end: str = typer.Option(..., help="window end (ISO), exclusive"),
    file: Path | None = typer.Option(
        None, "--file", "-f", help="rai.yaml settings (components, gates...)"
    ),
    out: Path | None = typer.Option(
        None, help="bundle directory (default <home>/bundles/adhoc/<end>)"
    ),
    min_labels: int = typer.Option(200, help="labelled rows the window needs"),
    home: Path | None = typer.Option(None, help="data directory"),
) -> None:
    """Build a bundle from a window's labelled production rows (the model version's model_uri
    is loaded with joblib/pickle: a trusted choice); prints the gate verdicts."""
    import yaml

    from jobs.cli_common import load_baseline, open_store, parse_time, settings_for
    from jobs.rai_job import review_window
    from monitor.baseline.model_loader import load_model
    from monitor.ingest.logstore import LogStore
    from monitor.spec.monitor import RaiReviewSpec

    try:
        settings = settings_for(home)
        store = open_store(settings)
        baseline = load_baseline(store, model, version)
        mv = baseline.model_version
        t0, t1 = parse_time(start, "--start"), parse_time(end, "--end")
        extra = yaml.safe_load(file.read_text()) if file is not None else {}
        review = RaiReviewSpec(settings=extra or {}, min_labels=min_labels)
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
    console.print(f"bundle written to {result['bundle']} ({result['labelled_rows']} labelled rows)")
    if not result["gates_passed"]:
        raise typer.Exit(1)

"""A progress bar of sources done, shown only when standard error is a terminal."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from veille.collect import SourceOutcome


@contextmanager
def collect_progress(total: int) -> Iterator[Callable[[SourceOutcome], None]]:
    """Yield the callback to call as each source finishes."""
    console = Console(stderr=True)
    if not console.is_terminal or total == 0:
        yield lambda outcome: None
        return
    columns = (TextColumn("collecting"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.description}"),
               TimeElapsedColumn())
    with Progress(*columns, console=console, transient=True) as progress:
        task = progress.add_task("", total=total)

        def done(outcome: SourceOutcome) -> None:
            mark = "✗" if outcome.status == "failed" else "✓"
            progress.update(task, advance=1, description=f"{mark} {outcome.source.name}")

        yield done


@contextmanager
def counted_progress(label: str, total: int) -> Iterator[Callable[[int], None]]:
    """Yield a callback advancing a bar of `total` steps (shown only on a terminal)."""
    console = Console(stderr=True)
    if not console.is_terminal or total == 0:
        yield lambda n: None
        return
    with Progress(TextColumn(label), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), console=console,
                  transient=True) as progress:
        task = progress.add_task("", total=total)
        yield lambda n: progress.update(task, advance=n)

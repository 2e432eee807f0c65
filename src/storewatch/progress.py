"""Progress display for long jobs (rich, on standard error so standard output stays machine-readable)."""

from __future__ import annotations

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)
from rich.text import Text


class RateColumn(ProgressColumn):
    """Items per second, e.g. ``31.2 fps``."""

    def __init__(self, unit: str = "fps") -> None:
        super().__init__()
        self.unit = unit

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:5.1f} {self.unit}" if speed else f"  ... {self.unit}", style="cyan")


def frame_progress(*, disabled: bool = False) -> Progress:
    """A progress bar counting frames, with rate and time left."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        RateColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=Console(stderr=True),
        disable=disabled,
    )


def fraction_progress(*, disabled: bool = False) -> Progress:
    """A percentage bar with a changing description, for work reported as ``(fraction, message)``."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f} %"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=disabled,
    )


def item_progress(unit: str, *, disabled: bool = False) -> Progress:
    """A running count with its rate (``12,000 rows  48,210.3 rows/s``), for work of no known total."""
    return Progress(
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.completed:,.0f} " + unit),
        RateColumn(f"{unit}/s"),
        TimeElapsedColumn(),
        console=Console(stderr=True),
        disable=disabled,
    )

"""The progress bar of a run: one bar over tasks, and a second over a learned codec's epochs."""

from __future__ import annotations

from typing import Any

from codecbench.runner.grid import Task


class RunProgress:
    """A rich progress bar over tasks, with a second bar for a learned codec's epochs."""

    def __init__(self, enabled: bool, total: int) -> None:
        self.enabled = enabled
        self.total = total

    def __enter__(self) -> RunProgress:
        if self.enabled:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

            self.progress = Progress(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                TimeElapsedColumn(),
                transient=False,
            )
            self.progress.__enter__()
            self.main = self.progress.add_task("tasks", total=self.total)
            self.sub: Any = None
        return self

    def __exit__(self, *exc: object) -> None:
        if self.enabled:
            self.progress.__exit__(None, None, None)

    def start_task(self, task: Task) -> None:
        if self.enabled:
            self.progress.update(self.main, description=f"{task.config.get('id')} on {task.dataset}")
            if self.sub is not None:
                self.progress.remove_task(self.sub)
                self.sub = None

    def epoch(self, epoch: int, n_epochs: int, **metrics: float) -> None:
        if not self.enabled:
            return
        desc = "  epoch " + " ".join(f"{k}={v:.4g}" for k, v in metrics.items())
        if self.sub is None:
            self.sub = self.progress.add_task(desc, total=n_epochs)
        self.progress.update(self.sub, completed=epoch, total=n_epochs, description=desc)

    def advance(self, rec: dict[str, Any]) -> None:
        if self.enabled and ((rec.get("search") or {}).get("role") or "target") != "probe":  # one step per task
            self.progress.advance(self.main)
            self.progress.update(self.main, description=f"done: {rec.get('codec')} on {rec.get('dataset')}")

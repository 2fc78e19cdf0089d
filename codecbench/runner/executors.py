"""Where tasks run: in this process (``serial``), in child processes (``process``), or on Dask (``dask``).

Every executor takes tasks (small, picklable: a codec config and a dataset name, never the data),
runs ``codecbench.runner.targeted.run_task`` on each (one record, or the probes of a target search)
and yields the records as tasks finish, so the run can stream them to disk. A task whose worker
died or that timed out gets ``failed_record``; a target search is one task, so ``timeout`` covers
all of its probes.

- ``serial``: one task after another in this process. With a ``timeout``, each task runs in a child
  process instead, so a hung codec can be stopped.
- ``process``: up to ``workers`` child processes, one fresh process per task (timings and memory
  are not shared between tasks); a task past ``timeout`` seconds is killed and gets a failed record.
- ``dask``: ``dask.distributed`` on a ``LocalCluster`` (``workers`` processes, one thread each) or
  an existing scheduler (``scheduler="tcp://host:8786"``). Workers load datasets through the same
  registry and cache. A task past ``timeout`` gets a failed record; Dask cannot kill the running
  thread, so its worker is restarted when the run ends.
"""

from __future__ import annotations

import multiprocessing as mp
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from codecbench.errors import ConfigError
from codecbench.runner.grid import Task
from codecbench.runner.targeted import run_task
from codecbench.runner.task import failed_record

EXECUTORS = ("serial", "process", "dask")

#: Modules the fork server imports once, so each task's fresh process starts without importing them.
PRELOAD = ["codecbench.runner.preload"]
#: Thread counts of native libraries in a worker when several workers share the machine (as Dask
#: sets them for its workers): one core per worker, no oversubscription.
WORKER_THREADS_ENV = {
    "BLOSC_NTHREADS": "1",
    "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1",
    "OPENBLAS_NUM_THREADS": "1",
}


def _context() -> Any:
    """A multiprocessing context whose processes start clean and cheaply.

    ``forkserver`` (where available): every task is a new process forked from a server that has
    imported codecbench but never run a task, ran no torch or BLAS threads, and holds no data. The
    fallback ``spawn`` starts a new interpreter per task (slower: about half a second of imports).
    """
    if "forkserver" in mp.get_all_start_methods():
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(PRELOAD)
        _start_forkserver_ignoring_sigint()
        return ctx
    return mp.get_context("spawn")


def _start_forkserver_ignoring_sigint() -> None:
    """Start the fork server with Ctrl-C ignored, so the workers it forks ignore it from birth.

    The parent handles Ctrl-C and stops the workers; a worker that took the signal itself could
    print a traceback while it is still starting.
    """
    import signal
    import threading
    from multiprocessing import forkserver

    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        forkserver.ensure_running()
    finally:
        signal.signal(signal.SIGINT, previous)


def _child(conn: Any, task: Task, env: dict[str, str] | None = None, path: list[str] | None = None) -> None:
    import signal

    # Ctrl-C is the parent's to handle: it stops every worker itself (and records nothing half done).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The fork server was started earlier: take the parent's environment and import path as they
    # are now (a test or a user may have changed the data path or installed a plugin since).
    if env is not None:
        import os
        import sys

        os.environ.clear()
        os.environ.update(env)
        if path is not None and path != sys.path:
            sys.path[:] = path  # the registry rescans entry points when sys.path changed
        if "BLOSC_NTHREADS" in env:
            try:
                import blosc2

                blosc2.set_nthreads(int(env["BLOSC_NTHREADS"]))
            except (ImportError, ValueError):
                pass
    try:
        recs: Any = run_task(task)
    except BaseException as exc:  # pragma: no cover - measure_task catches codec errors itself
        recs = {"__error__": f"{type(exc).__name__}: {exc}"}
    try:
        conn.send(recs)
    except (BrokenPipeError, EOFError, OSError):
        pass  # the parent is gone (interrupted or killed): nobody is waiting for this record
    finally:
        conn.close()


def _start_uninterrupted(proc: Any) -> None:
    """Start ``proc`` with SIGINT held back until the start completes.

    A Ctrl-C arriving while the parent hands a task to the fork server would leave a half-started
    child printing a traceback of its own; held back, it is raised here right after the start, and
    the caller stops every worker as for any other interrupt.
    """
    import signal
    import threading

    if not hasattr(signal, "pthread_sigmask") or threading.current_thread() is not threading.main_thread():
        proc.start()
        return
    old = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        proc.start()
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def run_serial(
    tasks: Sequence[Task],
    progress: Callable[..., None] | None = None,
    on_start: Callable[[Task], None] | None = None,
) -> Iterator[dict[str, Any]]:
    """Run tasks one by one in this process."""
    for task in tasks:
        if on_start:
            on_start(task)
        yield from run_task(task, progress=progress)


def run_processes(tasks: Sequence[Task], workers: int = 2, timeout: float | None = None) -> Iterator[dict[str, Any]]:
    """Run each task in its own child process, ``workers`` at a time; kill those past ``timeout``."""
    if workers < 1:
        raise ConfigError("--workers must be at least 1")
    import os
    import sys

    ctx = _context()
    pending = list(tasks)
    running: list[tuple[Task, Any, Any, float]] = []  # (task, process, parent_conn, started)
    try:
        while pending or running:
            while pending and len(running) < workers:
                task = pending.pop(0)
                parent, child = ctx.Pipe(duplex=False)
                env = dict(os.environ)
                if workers > 1:
                    env = {**WORKER_THREADS_ENV, **env}  # the user's own settings win
                proc = ctx.Process(target=_child, args=(child, task, env, list(sys.path)), daemon=True)
                _start_uninterrupted(proc)
                child.close()
                running.append((task, proc, parent, time.monotonic()))
            still: list[tuple[Task, Any, Any, float]] = []
            for task, proc, conn, started in running:
                if conn.poll():
                    try:
                        recs = conn.recv()
                    except EOFError:
                        recs = None
                    proc.join(5)
                    if not isinstance(recs, list):
                        why = recs["__error__"] if recs else f"worker process exited with code {proc.exitcode}"
                        recs = [failed_record(task, why, "worker")]
                    yield from recs
                elif not proc.is_alive():
                    proc.join()
                    yield failed_record(task, f"worker process died (exit code {proc.exitcode})", "worker")
                elif timeout is not None and time.monotonic() - started > timeout:
                    proc.kill()
                    proc.join()
                    yield failed_record(task, f"timed out after {timeout:g} s and was stopped", "timeout")
                else:
                    still.append((task, proc, conn, started))
            running = still
            if running:
                time.sleep(0.01)
    finally:
        for _, proc, _, _ in running:
            proc.kill()
            proc.join()


def measure_in_child(task: Task, timeout: float) -> list[dict[str, Any]]:
    """Run one task in a child process and stop it after ``timeout`` seconds (used on Dask workers)."""
    return list(run_processes([task], workers=1, timeout=timeout))


def run_dask(
    tasks: Sequence[Task],
    workers: int = 2,
    timeout: float | None = None,
    scheduler: str | None = None,
) -> Iterator[dict[str, Any]]:
    """Run tasks on dask.distributed: a LocalCluster on 127.0.0.1, or the cluster at ``scheduler``.

    With a ``timeout``, each task runs in a child process of its worker, which is killed when the
    timeout passes (the worker itself survives).
    """
    try:
        import dask
        from dask.distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise ConfigError("the dask executor needs dask.distributed: pip install 'codecbench[dask]'") from exc
    cluster = None
    with dask.config.set({"distributed.worker.daemon": False}):
        if scheduler:
            client = Client(scheduler)
        else:
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
            )
            client = Client(cluster)
    try:
        if timeout is None:
            futures = {client.submit(run_task, t, pure=False): t for t in tasks}
        else:
            futures = {client.submit(measure_in_child, t, timeout, pure=False): t for t in tasks}
        for fut in as_completed(futures):
            try:
                recs = fut.result()
            except Exception as exc:  # the worker died or the task was lost
                recs = [failed_record(futures[fut], f"dask task failed: {type(exc).__name__}: {exc}", "worker")]
            yield from recs
    finally:
        client.close()
        if cluster is not None:
            cluster.close()

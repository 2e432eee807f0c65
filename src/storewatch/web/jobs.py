"""Long operations off the request: a job runs on a small worker pool, reports progress (a fraction and a sentence),
and leaves a file its owner downloads when it is done (an evidence pack today).

Why our own: a task queue (Celery, RQ, arq) would add a broker to a single-process app for a handful of jobs an
hour; what is needed is a bounded pool, progress a page can poll, and results that expire. Jobs live in memory:
a restart forgets them (the page then says so) and their result files are removed at close.

Bounded: at most ``max_waiting`` jobs wait; one more is refused with a clear message instead of queueing without
end. A job's owner sees it; an administrator sees every job. Finished jobs and their files are kept ``keep_s``.

>>> import tempfile; from pathlib import Path
>>> runner = JobRunner(workers=1)
>>> def work(progress, folder):
...     progress(0.5, "half way")
...     out = folder / "r.txt"; out.write_text("ok"); return out
>>> job = runner.submit("demo", "A demo", owner="u1", store="s1", work=work)
>>> runner.wait(job.id, 5).state.value, runner.get(job.id).progress, runner.get(job.id).result.read_text()
('done', 1.0, 'ok')
>>> runner.close()
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path

from storewatch.errors import StorewatchError
from storewatch.store.models import new_id

log = logging.getLogger(__name__)


class JobState(StrEnum):
    WAITING = "waiting"
    RUNNING = "running"
    DONE = "done"
    FAILED = "failed"


Progress = Callable[[float, str], None]
"""Told how far a job is: a fraction 0..1 and a sentence for the person waiting."""


Work = Callable[[Progress, Path], Path]
"""What a job does: given a progress callback and a fresh folder of its own, returns the result file (in it)."""


class JobsBusyError(StorewatchError):
    """Too many jobs are waiting."""


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    kind: str
    title: str
    owner: str
    store: str | None
    state: JobState = JobState.WAITING
    progress: float = 0.0
    message: str = "Waiting for a free worker"
    error: str | None = None
    result: Path | None = None
    link: str | None = None
    """A page to go back to when it is done (e.g. the alert whose clip it prepared)."""
    created: float = field(default_factory=time.time)
    finished: float | None = None

    @property
    def ended(self) -> bool:
        return self.state in (JobState.DONE, JobState.FAILED)


class JobRunner:
    def __init__(self, *, workers: int = 1, max_waiting: int = 8, keep_s: float = 3600.0) -> None:
        self.max_waiting = max_waiting
        self.keep_s = keep_s
        self._pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="job")
        self._jobs: dict[str, Job] = {}
        self._folders: dict[str, Path] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)

    def submit(
        self, kind: str, title: str, *, owner: str, store: str | None, work: Work, link: str | None = None
    ) -> Job:
        """Queue ``work``; ``JobsBusyError`` when ``max_waiting`` jobs already wait."""
        with self._lock:
            self._expire()
            waiting = sum(1 for j in self._jobs.values() if j.state == JobState.WAITING)
            if waiting >= self.max_waiting:
                raise JobsBusyError(f"{waiting} jobs are already waiting; try again when one has finished")
            job = Job(new_id(), kind, title, owner, store, link=link)
            self._jobs[job.id] = job
        self._pool.submit(self._run, job.id, work)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def jobs(self, owner: str | None = None) -> list[Job]:
        """Newest first; ``owner`` None: everybody's."""
        with self._lock:
            found = [j for j in self._jobs.values() if owner is None or j.owner == owner]
        return sorted(found, key=lambda j: j.created, reverse=True)

    def wait(self, job_id: str, timeout_s: float) -> Job:
        """The job once it has ended (or as it is at the timeout)."""
        deadline = time.monotonic() + timeout_s
        with self._changed:
            while not self._jobs[job_id].ended and (left := deadline - time.monotonic()) > 0:
                self._changed.wait(left)
            return self._jobs[job_id]

    def close(self) -> None:
        """Stop taking jobs, let the running ones end, remove every result."""
        self._pool.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            for folder in self._folders.values():
                shutil.rmtree(folder, ignore_errors=True)
            self._folders.clear()

    # --- the worker side ----------------------------------------------------------------------------------------
    def _run(self, job_id: str, work: Work) -> None:
        folder = Path(tempfile.mkdtemp(prefix="storewatch-job-"))
        with self._lock:
            self._folders[job_id] = folder
        self._update(job_id, state=JobState.RUNNING, message="Started")

        def progress(fraction: float, message: str) -> None:
            self._update(job_id, progress=min(1.0, max(0.0, fraction)), message=message)

        try:
            result = work(progress, folder)
        except StorewatchError as exc:
            self._end(job_id, error=exc.message)
        except Exception as exc:  # a bug in the work: logged with its trace, the page says it failed
            log.exception("job %s failed", job_id)
            self._end(job_id, error=f"it failed unexpectedly ({type(exc).__name__}); the log has the details")
        else:
            self._update(job_id, state=JobState.DONE, progress=1.0, message="Ready", result=result,
                         finished=time.time())  # fmt: skip

    def _end(self, job_id: str, *, error: str) -> None:
        self._update(job_id, state=JobState.FAILED, message="Failed", error=error, finished=time.time())

    def _update(self, job_id: str, **changes: object) -> None:
        with self._changed:
            self._jobs[job_id] = replace(self._jobs[job_id], **changes)  # type: ignore[arg-type]
            self._changed.notify_all()

    def _expire(self) -> None:
        """Forget ended jobs older than ``keep_s`` and remove their files (called with the lock held)."""
        now = time.time()
        for job in [j for j in self._jobs.values() if j.finished is not None and now - j.finished > self.keep_s]:
            del self._jobs[job.id]
            folder = self._folders.pop(job.id, None)
            if folder is not None:
                shutil.rmtree(folder, ignore_errors=True)

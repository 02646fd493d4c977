"""Per-item jobs on a Dask distributed cluster (corpus preparation beyond one machine).

Why Dask distributed (and not Ray): the preparation's unit of work is one clip, whose result a worker writes
atomically into a per-clip cache on a shared filesystem (:mod:`lip2audspec.data.prepare`); the client only
needs a ``concurrent.futures``-style executor that runs the *same* module-level job function on other
machines and hands back small status records or the job's exception. Dask's :class:`distributed.Client` is
exactly that (``submit``/``map``, ``as_completed``, ``future.result()`` re-raising the worker's exception
with its original type), it is pure Python (``pip install "dask[distributed]"``; workers need nothing but
this package), runs on one laptop (``LocalCluster``) or on an existing cluster (``dask scheduler`` +
``dask worker``, SSH, Kubernetes, HPC job queues through ``dask-jobqueue``), and needs no object store:
results never travel through it. Ray's strengths (an object store for large in-memory results, actors,
GPU scheduling) are unused by a job that persists its own output, and it is a heavier install with a
daemon per node.

What the caller gets, whatever the scheduler:

* the same jobs and job function as the local process pool, so a cluster run and a laptop run give the
  same results;
* a per-process set-up (``setup(*setup_args)``, e.g. loading a face detector) run once per worker process
  and configuration (again when a later run brings other settings); jobs in one worker process run one at
  a time (a lock), so a worker started with several threads cannot run non-thread-safe models concurrently;
* checks before the first job: the scheduler is reachable and has workers, every worker runs the same
  ``lip2audspec`` version, and every worker sees the shared folder the results go to (a token file written
  by the client must be readable by each worker) and the input files;
* a job that raises re-raises its exception in the caller (remaining jobs are cancelled); a job that
  kills its worker repeatedly (crash, out of memory) becomes a :class:`~lip2audspec.errors.DataError`
  naming the job.

Scheduler specifications (:func:`parse_scheduler`)
-------------------------------------------------
``local`` / ``local:N``
    Start a local cluster of N single-threaded worker processes (``N`` defaults to the caller's
    ``workers``) and shut it down afterwards.
``tcp://HOST:PORT`` (or ``tls://``, ``ws://``, ``wss://``, ``inproc://``, ``ucx://``)
    Connect to a running scheduler (``dask scheduler`` prints its address; start workers with
    ``dask worker tcp://HOST:8786 --nthreads 1 --nworkers N``).
``PATH.json``
    A scheduler file (``dask scheduler --scheduler-file PATH.json``), as on HPC clusters.

The connection timeout is Dask's ``distributed.comm.timeouts.connect`` (default 30 s; set
``DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT=10s`` to change it).

Public API
----------
parse_scheduler(spec, *, workers=1) -> (kind, value)
dask_client(spec, *, workers=1) -> context manager yielding a distributed.Client
run_jobs(client, fn, jobs, *, setup=None, setup_args=(), shared_folder=None, input_paths=(), describe=repr, on_done=None)
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import threading
from pathlib import Path

from . import __version__
from .errors import DataError, ParameterError

__all__ = ["INSTALL_HINT", "parse_scheduler", "dask_client", "run_jobs"]

log = logging.getLogger(__name__)

INSTALL_HINT = 'distributed preparation needs Dask: pip install "lip2audspec[distributed]" (or "dask[distributed]")'
_ADDRESS = re.compile(r"^(tcp|tls|ws|wss|inproc|ucx)://\S+$")
#: Seconds to wait for a connected cluster to have at least one worker.
WORKER_WAIT_S = 60.0


def parse_scheduler(spec, *, workers: int = 1) -> tuple:
    """What a scheduler specification asks for.

    Parameters
    ----------
    spec : str
        ``"local"``, ``"local:N"``, a scheduler address (``"tcp://host:8786"``) or a scheduler file
        (``"scheduler.json"``); see the module docstring.
    workers : int
        Worker processes of ``"local"`` without a count.

    Returns
    -------
    tuple
        ``("local", n_workers)``, ``("address", address)`` or ``("file", path)``.

    Raises
    ------
    ParameterError
        Anything else (an address without its protocol, ``local:0``, ...).

    Examples
    --------
    >>> parse_scheduler("local:2")
    ('local', 2)
    >>> parse_scheduler("tcp://10.0.0.5:8786")
    ('address', 'tcp://10.0.0.5:8786')
    """
    if not isinstance(spec, str) or not spec.strip():
        raise ParameterError(f"scheduler must be 'local', 'local:N', an address like tcp://host:8786 or a "
                             f"scheduler .json file, got {spec!r}")
    spec = spec.strip()
    if spec == "local":
        if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
            raise ParameterError(f"workers must be a positive integer, got {workers!r}")
        return "local", workers
    m = re.fullmatch(r"local:(\d+)", spec)
    if m:
        n = int(m.group(1))
        if n < 1:
            raise ParameterError(f"scheduler {spec!r}: a local cluster needs at least 1 worker")
        return "local", n
    if _ADDRESS.match(spec):
        return "address", spec
    if spec.endswith(".json"):
        if not Path(spec).is_file():
            raise ParameterError(f"scheduler file {spec} does not exist (written by `dask scheduler --scheduler-file {spec}`)")
        return "file", spec
    raise ParameterError(f"scheduler {spec!r} is not 'local', 'local:N', an address with its protocol "
                         "(tcp://host:8786) or a scheduler .json file")


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise ParameterError(INSTALL_HINT) from None
    return distributed


@contextlib.contextmanager
def dask_client(spec, *, workers: int = 1):
    """A :class:`distributed.Client` for ``spec`` (see :func:`parse_scheduler`), closed on exit.

    ``"local:N"`` starts N single-threaded worker processes (the dashboard on a free port) and stops them
    on exit; an address or scheduler file connects to a running cluster, which is left running.

    Raises
    ------
    ParameterError
        A bad specification, or a scheduler that cannot be reached (the message names it).
        Also when Dask distributed is not installed (the message says how to install it).
    """
    kind, value = parse_scheduler(spec, workers=workers)
    distributed = _import_distributed()
    if kind == "local":
        log.info("starting a local Dask cluster of %d worker processes", value)
        cluster = distributed.LocalCluster(n_workers=value, threads_per_worker=1, processes=True,
                                           dashboard_address=":0", silence_logs=logging.WARNING)
        try:
            with distributed.Client(cluster) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = (distributed.Client(value) if kind == "address" else distributed.Client(scheduler_file=value))
    except (OSError, TimeoutError) as exc:
        raise ParameterError(f"cannot connect to the Dask scheduler {value}: {exc}. Start one with `dask scheduler` "
                             "and workers with `dask worker ADDRESS --nthreads 1`, or use --scheduler local:N") from None
    log.info("connected to the Dask scheduler %s", client.scheduler.address)
    try:
        yield client
    finally:
        client.close()


# ---------------------------------------------------------------------------------------------- worker side
_LOCK = threading.Lock()
_CURRENT_SETUP = {"key": None}


def _run_one(fn, setup, setup_args, job):
    """Worker: the per-process set-up when (setup, args) differ from the last job's, then ``fn(job)``, one job
    at a time per process (a run with other settings on the same cluster sets the worker up again)."""
    with _LOCK:
        if setup is not None:
            key = (setup.__module__, setup.__qualname__, json.dumps(setup_args, sort_keys=True, default=str))
            if key != _CURRENT_SETUP["key"]:
                _CURRENT_SETUP["key"] = None
                setup(*setup_args)
                _CURRENT_SETUP["key"] = key
        return fn(job)


def _worker_report(token_path: str | None, input_paths: tuple) -> dict:
    """Worker: its package version, threads, and whether it reads the client's token and the inputs."""
    token = None
    if token_path is not None:
        try:
            token = Path(token_path).read_text()
        except OSError:
            token = None
    return {"version": __version__, "token": token, "pid": os.getpid(),
            "missing": [p for p in input_paths if not os.path.exists(p)]}


# ---------------------------------------------------------------------------------------------- client side
def _check_workers(client, shared_folder, input_paths) -> None:
    try:
        client.wait_for_workers(1, timeout=WORKER_WAIT_S)
    except (TimeoutError, OSError) as exc:
        raise ParameterError(f"the Dask cluster at {client.scheduler.address} has no workers "
                             f"(waited {WORKER_WAIT_S:.0f} s: {exc}); start some with `dask worker "
                             f"{client.scheduler.address} --nthreads 1`") from None
    token_path, token = None, None
    if shared_folder is not None:
        token = secrets.token_hex(16)
        token_path = Path(shared_folder).resolve() / f".cluster-check-{token[:8]}"
        token_path.write_text(token)
    try:
        reports = client.run(_worker_report, None if token_path is None else str(token_path), tuple(map(str, input_paths)))
    finally:
        if token_path is not None:
            token_path.unlink(missing_ok=True)
    threads = {w: info.get("nthreads", 1) for w, info in client.scheduler_info().get("workers", {}).items()}
    for worker, rep in reports.items():
        if rep["version"] != __version__:
            raise ParameterError(f"Dask worker {worker} runs lip2audspec {rep['version']}, this client {__version__}: "
                                 "install the same version on every worker")
        if token is not None and rep["token"] != token:
            raise DataError(f"Dask worker {worker} cannot see the output folder {shared_folder} (a file written there "
                            "by the client is not readable by the worker): the output folder must be on a filesystem "
                            "shared by the client and every worker, at the same path")
        if rep["missing"]:
            raise DataError(f"Dask worker {worker} cannot see the input files {rep['missing'][:3]}: the corpus must be "
                            "on a filesystem shared by the client and every worker, at the same path")
    multi = sorted(w for w, n in threads.items() if n > 1)
    if multi:
        log.info("Dask workers %s have several threads; jobs run one at a time per worker process (start workers "
                 "with --nthreads 1 --nworkers N to use N cores)", multi)


def run_jobs(client, fn, jobs, *, setup=None, setup_args=(), shared_folder=None, input_paths=(), describe=repr,
             on_done=None) -> int:
    """Run ``fn(job)`` for every job on the cluster of ``client``.

    Parameters
    ----------
    client : distributed.Client
    fn : callable
        A module-level function (pickled by reference: the workers import it from this package) that
        persists its own result; its return value is passed to ``on_done``.
    jobs : sequence
        Picklable job descriptions.
    setup : callable, optional
        Module-level per-process set-up, run as ``setup(*setup_args)`` in a worker process before its first
        job, and again whenever a job brings other ``setup_args`` than the last one there.
    setup_args : tuple
        JSON-serialisable arguments of ``setup``.
    shared_folder : str or Path, optional
        A folder the client writes and every worker must see at the same path (checked before any job).
    input_paths : sequence of str or Path
        Files every worker must see (e.g. the first job's input; checked before any job).
    describe : callable
        ``describe(job)`` -> text naming a job in error messages.
    on_done : callable, optional
        Called in the client with each job's return value as it completes.

    Returns
    -------
    int
        Jobs run.

    Raises
    ------
    ParameterError
        No workers; a worker with another version of the package.
    DataError
        A worker cannot see ``shared_folder`` or ``input_paths``; a job killed its worker repeatedly.
    Exception
        Whatever a job raised, with its original type (the remaining jobs are cancelled).
    """
    distributed = _import_distributed()
    jobs = list(jobs)
    if not jobs:
        return 0
    _check_workers(client, shared_folder, input_paths)
    futures = client.map(_run_one, [fn] * len(jobs), [setup] * len(jobs), [tuple(setup_args)] * len(jobs), jobs,
                         pure=False)
    index = {f.key: i for i, f in enumerate(futures)}
    done = 0
    try:
        for fut in distributed.as_completed(futures):
            try:
                result = fut.result()
            except distributed.KilledWorker as exc:
                raise DataError(f"{describe(jobs[index[fut.key]])} killed its Dask worker repeatedly (a crash or out of "
                                f"memory): {exc}") from None
            done += 1
            if on_done is not None:
                on_done(result)
    finally:
        if done < len(futures):
            client.cancel(futures)
    return done

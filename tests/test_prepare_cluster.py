"""Preparation on a Dask cluster (lip2audspec.cluster): a local cluster of 2 workers gives the local dataset.

tiny_grid: 2 speakers x 4 clips, 1 damaged. Two local clusters are started: one shared by the tests
(``client``, passed to the API) and the one the CLI's ``--scheduler local:2`` starts and stops. Dask comes
with the ``[dev]`` extra (``make test``), so this module is not skipped when Dask is missing: it fails.
"""

import json
import socket

import pytest

from test_prepare import CFG, _arrays, _assert_same, _temp_files  # the local reference's helpers

from lip2audspec import DataError, ParameterError
from lip2audspec.cli.main import main
from lip2audspec.cluster import dask_client, parse_scheduler
from lip2audspec.data.crop import CropConfig
from lip2audspec.data.prepare import prepare_grid


@pytest.fixture(scope="module")
def local_run(tiny_grid, tmp_path_factory):
    out = tmp_path_factory.mktemp("local_run")
    return out, prepare_grid(tiny_grid, out, config=CFG, workers=1, progress=False)


@pytest.fixture(scope="module")
def client():
    with dask_client("local:2") as c:
        yield c


def _cached(work) -> dict:
    """Per-clip cache files -> modification time."""
    return {p.name: p.stat().st_mtime_ns for p in work.rglob("*") if p.name.endswith((".npz", ".excluded.json"))}


def test_cluster_run_equals_local_run_and_resumes(local_run, tiny_grid, tmp_path, capsys, client):
    """Interrupted on one local cluster (API), resumed on another (CLI): the local run's arrays, exclusions."""
    ref, ref_summary = local_run
    out = tmp_path / "cluster"
    s = prepare_grid(tiny_grid, out, config=CFG, scheduler=client, progress=False, max_clips=3)
    assert s["status"] == "interrupted" and not (out / "dataset.h5").exists()
    first = _cached(out / "work")
    assert len(first) == 3 and _temp_files(out / "work") == []  # no token or temporary file left
    CFG.replace(audio_source="wav").save_json(tmp_path / "config.json")
    assert main(["prepare", str(tiny_grid), "-o", str(out), "--config", str(tmp_path / "config.json"),
                 "--scheduler", "local:2", "--quiet"]) == 0
    assert "7 clips (1 excluded" in capsys.readouterr().out
    resumed = _cached(out / "work")
    assert len(resumed) == 8 and {k: resumed[k] for k in first} == first  # finished clips were not redone
    _assert_same(_arrays(ref / "dataset.h5"), _arrays(out / "dataset.h5"))
    assert json.loads((out / "exclusions.json").read_text()) == ref_summary["exclusions"]  # same reason, same stage


def test_worker_failures_as_locally(local_run, tiny_grid, tmp_path, client):
    """Every clip fails on the workers (the landmark model is missing): excluded with the local reasons,
    then the same "no valid clips" error as a local run. The same workers then prepare with the first
    settings again (they are set up anew) and give the local dataset."""
    broken = CFG.replace(crop=CropConfig(method="landmarks", size=32, landmark_model=str(tmp_path / "none.dat")))
    errors, reasons = [], []
    for name, kw in (("local", {}), ("cluster", {"scheduler": client})):
        with pytest.raises(DataError, match="no valid clips") as exc:
            prepare_grid(tiny_grid, tmp_path / name, config=broken, progress=False, **kw)
        errors.append(str(exc.value).replace(str(tmp_path / name), "OUT"))
        reasons.append(sorted(json.loads(p.read_text())["reason"] for p in (tmp_path / name / "work").rglob("*.excluded.json")))
    assert errors[0] == errors[1] and reasons[0] == reasons[1]
    assert sum("landmark model not found" in r for r in reasons[1]) == 7
    prepare_grid(tiny_grid, tmp_path / "again", config=CFG, scheduler=client, progress=False)
    _assert_same(_arrays(local_run[0] / "dataset.h5"), _arrays(tmp_path / "again" / "dataset.h5"))


def test_bad_or_unreachable_scheduler(tiny_grid, tmp_path, capsys):
    assert parse_scheduler("local", workers=3) == ("local", 3) and parse_scheduler("tls://h:1") == ("address", "tls://h:1")
    for bad in ("local:0", "host:8786", "local:x", ""):
        with pytest.raises(ParameterError, match="scheduler"):
            prepare_grid(tiny_grid, tmp_path / "bad", config=CFG, scheduler=bad, progress=False)
    assert not (tmp_path / "bad").exists()  # refused before any work
    import dask

    with socket.socket() as s:  # a free port: nothing listens there
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with dask.config.set({"distributed.comm.timeouts.connect": "1s"}):
        code = main(["prepare", str(tiny_grid), "-o", str(tmp_path / "p"), "--cropper", "haar", "--crop-size", "32",
                     "--scheduler", f"tcp://127.0.0.1:{port}", "--quiet"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 2 and len(err) == 1, err
    assert err[0].startswith("lip2audspec prepare: error: cannot connect to the Dask scheduler tcp://127.0.0.1:")
    assert _cached(tmp_path / "p" / "work") == {}


def test_a_job_error_is_raised_with_its_type(client):
    """An error in a job (not a clip exclusion) reaches the caller with its type; the other jobs are cancelled."""
    from lip2audspec.cluster import run_jobs

    done = []
    assert run_jobs(client, parse_scheduler, ["local:1", "local:2"], on_done=done.append) == 2
    assert sorted(done) == [("local", 1), ("local", 2)]
    with pytest.raises(ParameterError, match="'nope' is not 'local'"):
        run_jobs(client, parse_scheduler, ["local:1", "nope"] + ["local:3"] * 20)

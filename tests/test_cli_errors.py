"""Command-line error reporting: one ``PROG: error: MESSAGE`` line on stderr, exit status 2, no traceback.

Every entry point (``lip2audspec COMMAND``, ``train_autoencoder``, ``train_main``) goes through
:func:`lip2audspec.cli._runner.run_command`; ``--debug`` / ``LIP2AUDSPEC_DEBUG=1`` re-raise instead.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from lip2audspec.cli import train_autoencoder as train_autoencoder_cli
from lip2audspec.cli import train_main as train_main_cli
from lip2audspec.cli._runner import DEBUG_ENV, error_message, run_command
from lip2audspec.cli.main import main
from lip2audspec.errors import DataError, ModelError, ParameterError

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(autouse=True)
def _no_debug_env(monkeypatch):
    monkeypatch.delenv(DEBUG_ENV, raising=False)


def one_error_line(capsys, prog: str) -> str:
    """The single stderr line of a failed command (asserts its format); returns the message."""
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    prefix = f"{prog}: error: "
    assert lines[0].startswith(prefix), lines[0]
    return lines[0][len(prefix):]


@pytest.fixture(scope="module")
def keras_file(tmp_path_factory) -> Path:
    """A small, valid ``.keras`` file."""
    import keras

    path = tmp_path_factory.mktemp("keras") / "tiny.keras"
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.save(path)
    return path


@pytest.fixture
def corrupt_lip_run(tmp_path, keras_file) -> Path:
    """A lip network run folder whose ``best.keras`` is truncated (as after a full disk or a broken copy)."""
    from lip2audspec.data.prepare import PrepareConfig

    ae, lip = tmp_path / "ae", tmp_path / "lip"
    for run, kind in ((ae, "autoencoder"), (lip, "lipnet")):
        run.mkdir()
        cfg = {"kind": kind, "data": {"prepare_config": PrepareConfig().to_dict()}}
        if kind == "lipnet":
            cfg["autoencoder_run"] = str(ae)
        (run / "config.json").write_text(json.dumps(cfg))
        data = keras_file.read_bytes()
        (run / "best.keras").write_bytes(data if kind == "autoencoder" else data[: len(data) // 2])
    return lip


# ---------------------------------------------------------------------------------------------------------------
# lip2audspec sub-commands
def test_reconstruct_with_a_truncated_model_is_one_error_line(corrupt_lip_run, tmp_path, capsys):
    rc = main(["reconstruct", str(tmp_path / "speaker.mp4"), "-m", str(corrupt_lip_run), "-o", str(tmp_path / "out.wav")])
    assert rc == 2
    msg = one_error_line(capsys, "lip2audspec reconstruct")
    assert msg.startswith(f"cannot load model from {corrupt_lip_run / 'best.keras'}: ")
    assert "truncated" in msg


def test_reconstruct_without_a_trained_model_names_the_missing_file(corrupt_lip_run, tmp_path, capsys):
    (corrupt_lip_run / "best.keras").unlink()
    rc = main(["reconstruct", str(tmp_path / "speaker.mp4"), "-m", str(corrupt_lip_run), "-o", str(tmp_path / "out.wav")])
    assert rc == 2
    assert "best.keras not found" in one_error_line(capsys, "lip2audspec reconstruct")


def test_prepare_with_a_stale_config_names_the_unknown_key(tmp_path, capsys):
    # needs PrepareConfig on the configuration base (unknown keys -> ParameterError, not TypeError)
    from lip2audspec.data.prepare import PrepareConfig

    stale = tmp_path / "stale.json"
    stale.write_text(json.dumps({**PrepareConfig().to_dict(), "mouth_detector": "haar"}))
    rc = main(["prepare", str(tmp_path / "grid"), "-o", str(tmp_path / "out"), "--config", str(stale), "--quiet"])
    assert rc == 2
    assert "mouth_detector" in one_error_line(capsys, "lip2audspec prepare")


def test_debug_option_shows_the_traceback(corrupt_lip_run, tmp_path, monkeypatch):
    argv = ["reconstruct", str(tmp_path / "speaker.mp4"), "-m", str(corrupt_lip_run), "-o", str(tmp_path / "out.wav")]
    with pytest.raises(ModelError) as info:
        main(["--debug", *argv])
    assert isinstance(info.value.__cause__, Exception)  # the Keras error stays chained
    with pytest.raises(ModelError):
        main([*argv, "--debug"])  # after the command name too
    monkeypatch.setenv(DEBUG_ENV, "1")
    with pytest.raises(ModelError):
        main(argv)


# ---------------------------------------------------------------------------------------------------------------
# train_autoencoder / train_main console scripts
@pytest.fixture
def garbage_dataset(tmp_path) -> Path:
    data = tmp_path / "prepared"
    data.mkdir()
    (data / "dataset.h5").write_bytes(b"not an HDF5 file\n" * 64)
    return data


def test_train_autoencoder_on_an_unreadable_dataset_is_one_error_line(garbage_dataset, tmp_path, capsys):
    rc = train_autoencoder_cli.main([str(garbage_dataset), "--run", str(tmp_path / "run"), "--epochs", "1"])
    assert rc == 2
    assert "dataset.h5" in one_error_line(capsys, "train_autoencoder")


def test_train_autoencoder_debug_raises(garbage_dataset, tmp_path):
    with pytest.raises(DataError):
        train_autoencoder_cli.main([str(garbage_dataset), "--run", str(tmp_path / "run"), "--debug"])


def test_train_main_without_data_folder(tmp_path, capsys):
    rc = train_main_cli.main([str(tmp_path / "missing"), "--run", str(tmp_path / "run")])
    assert rc == 2
    assert str(tmp_path / "missing") in one_error_line(capsys, "train_main")


def test_train_subcommand_reports_like_the_console_script(tmp_path, capsys):
    rc = main(["train-main", str(tmp_path / "missing"), "--run", str(tmp_path / "run")])
    assert rc == 2
    assert str(tmp_path / "missing") in one_error_line(capsys, "lip2audspec train-main")


# ---------------------------------------------------------------------------------------------------------------
# run_command and the model loader
def _raise(exc):
    def run(args):
        raise exc

    return run


@pytest.mark.parametrize("exc, message", [
    (ParameterError("bad value\nexpected 3"), "bad value; expected 3"),
    (PermissionError(13, "Permission denied", "/data/x.h5"), "Permission denied: /data/x.h5"),
    (FileNotFoundError("no run at runs/x (no config.json)"), "no run at runs/x (no config.json)"),
    (OSError(28, "No space left on device"), "[Errno 28] No space left on device"),
])
def test_run_command_reports_user_errors(exc, message, capsys):
    assert error_message(exc) == message
    assert run_command("prog", _raise(exc), None) == 2
    assert one_error_line(capsys, "prog") == message


def test_run_command_interrupt_and_bugs(capsys):
    assert run_command("prog", _raise(KeyboardInterrupt()), None) == 130
    assert capsys.readouterr().err.strip() == "prog: interrupted"
    with pytest.raises(TypeError):  # a bug keeps its traceback
        run_command("prog", _raise(TypeError("unexpected")), None)
    assert run_command("prog", lambda args: None, None) == 0


def test_load_keras_model_errors(keras_file, tmp_path):
    from lip2audspec.training.runs import load_keras_model

    assert load_keras_model(keras_file).output_shape == (None, 2)
    with pytest.raises(FileNotFoundError, match="no model file"):
        load_keras_model(tmp_path / "missing.keras")
    empty = tmp_path / "empty.keras"
    empty.write_bytes(b"")
    with pytest.raises(ModelError, match=r"not a complete \.keras \(zip\) archive"):
        load_keras_model(empty)
    odd = tmp_path / "odd.keras"  # a valid zip that is not a Keras model
    with zipfile.ZipFile(odd, "w") as zf:
        zf.writestr("config.json", "{not json")
    with pytest.raises(ModelError, match=f"cannot load model from {odd}: ") as info:
        load_keras_model(odd)
    assert "\n" not in str(info.value)


# ---------------------------------------------------------------------------------------------------------------
def test_no_tensorflow_start_up_lines_in_a_failed_command(garbage_dataset, tmp_path):
    """TensorFlow's INFO lines (oneDNN notice, absl preamble) are filtered from the command-line tools' stderr."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_ENABLE_ONEDNN_OPTS": "1"}  # oneDNN on: its notice is printed
    for key in ("TF_CPP_MIN_LOG_LEVEL", DEBUG_ENV):
        env.pop(key, None)
    proc = subprocess.run([sys.executable, "-m", "lip2audspec.cli.main", "train-autoencoder", str(garbage_dataset),
                           "--run", str(tmp_path / "run")], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("lip2audspec train-autoencoder: error: "), proc.stderr


def test_building_the_command_line_does_not_import_tensorflow():
    """`lip2audspec --help` and every sub-command's parser stay free of Keras/TensorFlow (cold start; the
    TensorFlow start-up filter is installed only once a command runs)."""
    code = ("import sys; from lip2audspec.cli.main import build_parser; build_parser(); "
            "print(sorted(m for m in ('tensorflow', 'keras') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(ROOT)},
                          timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "[]"


def test_train_main_help_names_every_family():
    from lip2audspec.cli.train_main import ARCH_HELP
    from lip2audspec.models.families import ARCHS

    assert [a for a in ARCHS if a in ARCH_HELP] == list(ARCHS)


def test_commands_turn_on_onednn_unless_the_user_set_it(monkeypatch):
    """TensorFlow's oneDNN CPU kernels (2-3x faster training here) are on for the command-line tools; a user's
    TF_ENABLE_ONEDNN_OPTS is left as it is."""
    from argparse import Namespace

    from lip2audspec.cli._runner import ONEDNN_ENV

    monkeypatch.delenv(ONEDNN_ENV, raising=False)
    seen = {}
    assert run_command("x", lambda a: seen.setdefault("v", os.environ.get(ONEDNN_ENV)) and 0, Namespace(debug=True)) == 0
    assert seen["v"] == "1"
    monkeypatch.setenv(ONEDNN_ENV, "0")
    seen.clear()
    run_command("x", lambda a: seen.setdefault("v", os.environ.get(ONEDNN_ENV)) and 0, Namespace(debug=True))
    assert seen["v"] == "0"

"""``reconstruct --batch`` pipelined (lip2audspec.batch): the same audio as clip-by-clip from_video,
unusable videos skipped with their reason, bad settings refused. Uses the bundled grid-s1 model and
two clips of the real s1 fixture (GRID, CC BY 4.0)."""

import os
import shutil
from pathlib import Path

import numpy as np
import pytest

from lip2audspec import pretrained
from lip2audspec.auditory import read_wav
from lip2audspec.errors import ParameterError

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = Path(os.environ.get("LIP2AUDSPEC_REAL_GRID", ROOT.parent / "shared" / "real_grid")) / "s1_fixture" / "s1"

pytestmark = [pytest.mark.skipif("grid-s1" not in pretrained.available(), reason="no bundled grid-s1 model"),
              pytest.mark.skipif(not FIXTURE.is_dir(), reason=f"real GRID fixture not found at {FIXTURE}")]


@pytest.fixture(scope="module")
def rec():
    return pretrained.reconstructor_for("grid-s1", n_iter=2)


def test_batch_equals_one_by_one_and_skips_bad_videos(rec, tmp_path):
    from lip2audspec.batch import reconstruct_batch

    videos = sorted(FIXTURE.glob("*.mpg"))[:2]
    src = tmp_path / "in"
    src.mkdir()
    for v in videos:
        shutil.copy(v, src / v.name)
    (src / "broken.mpg").write_bytes(b"not a video")
    inputs = sorted(src.glob("*.mpg"))
    items = reconstruct_batch(rec, inputs, [tmp_path / "out" / (v.stem + ".wav") for v in inputs], workers=2,
                              prefetch=2)
    assert [i.video for i in items] == inputs
    bad = [i for i in items if i.error is not None]
    assert [i.video.name for i in bad] == ["broken.mpg"] and not bad[0].output.exists()
    for item in items:
        if item.error is not None:
            continue
        one = rec.from_video(item.video)
        np.testing.assert_array_equal(item.result.audio, one.audio)
        assert item.result.key == one.key and item.result.restarts == one.restarts
        assert {"read", "crop", "lipnet", "decode", "aud2wav"} <= set(item.timings)
        audio, sr = read_wav(item.output)
        assert sr == one.sr and len(audio) == len(one.audio)


def test_batch_refuses_bad_settings(rec, tmp_path):
    from lip2audspec.batch import reconstruct_batch

    with pytest.raises(ParameterError, match="outputs"):
        reconstruct_batch(rec, ["a.mpg"], [])
    with pytest.raises(ParameterError, match="workers"):
        reconstruct_batch(rec, ["a.mpg"], ["a.wav"], workers=0)
    with pytest.raises(ParameterError, match="prefetch"):
        reconstruct_batch(rec, ["a.mpg"], ["a.wav"], prefetch=0)

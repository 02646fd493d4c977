"""GRID grammar, utterance ids, .align files, time units and the layout resolver."""

from __future__ import annotations

import pytest

from lip2audspec.corpora import grid
from lip2audspec.errors import DataError, ParameterError

EXAMPLE = """0 23750 sil
23750 29500 bin
29500 34000 blue
34000 35500 at
35500 41000 f
41000 47250 two
47250 53000 now
53000 74500 sil
"""


def test_id_sentence_examples():
    assert grid.sentence_from_id("bbaf2n") == ("bin", "blue", "at", "f", "two", "now")
    assert grid.id_from_sentence("set white with a zero again") == "swwaza"
    assert grid.id_from_sentence(["lay", "red", "by", "x", "nine", "soon"]) == "lrbx9s"


def test_id_index_bijection():
    ids = [grid.id_from_index(i) for i in range(grid.N_SENTENCES)]
    assert len(set(ids)) == grid.N_SENTENCES == 64000
    assert all(grid.is_valid_id(u) for u in ids[::97])
    assert all(grid.index_from_id(ids[i]) == i for i in range(0, grid.N_SENTENCES, 131))
    assert all(grid.id_from_sentence(grid.sentence_from_id(u)) == u for u in ids[::53])
    assert not any("w" == u[3] for u in ids)  # no letter w


@pytest.mark.parametrize("bad", ["bbawf2n", "bbaw2n", "xbaf2n", "bbaf0n", "BBAF2N", "", 12])
def test_invalid_ids(bad):
    assert not grid.is_valid_id(bad)
    with pytest.raises(ParameterError):
        grid.sentence_from_id(bad)


def test_invalid_sentences():
    with pytest.raises(ParameterError, match="6 words"):
        grid.id_from_sentence("bin blue at f two")
    with pytest.raises(ParameterError, match="word 4"):
        grid.id_from_sentence("bin blue at w two now")


def test_align_parse_round_trip(tmp_path):
    rows = grid.parse_align(EXAMPLE)
    assert rows[0] == (0, 23750, "sil") and rows[-1] == (53000, 74500, "sil")
    assert grid.align_words(rows) == ["bin", "blue", "at", "f", "two", "now"]
    p = grid.write_align(tmp_path / "a" / "bbaf2n.align", rows)
    assert p.read_text() == EXAMPLE
    assert grid.read_align(p) == rows


@pytest.mark.parametrize("text,msg", [("0 10\n", "start end word"), ("a 10 sil\n", "integers"),
                                      ("10 5 sil\n", "start <= end"), ("0 10 sil\n5 20 bin\n", "before the previous"),
                                      ("\n", "empty")])
def test_align_malformed(text, msg):
    with pytest.raises(DataError, match=msg):
        grid.parse_align(text)


def test_read_align_missing(tmp_path):
    with pytest.raises(FileNotFoundError):
        grid.read_align(tmp_path / "nope.align")


def test_time_units():
    assert grid.seconds_to_align(1.0) == 25000
    assert grid.frame_to_align(75) == 75000 and grid.frame_to_align(1) == 1000
    assert grid.align_to_frame(74500) == pytest.approx(74.5)
    assert grid.align_to_seconds(12500) == 0.5


def test_speaker_names():
    assert grid.speaker_name(3) == "s3" and grid.speaker_name("s12") == "s12"
    assert grid.speaker_number("s34") == 34
    for bad in (0, "x1", True, "s0"):
        with pytest.raises(ParameterError):
            grid.speaker_number(bad)


def _touch(path):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"x")


def test_layout_download_variant_single_speaker(tmp_path):
    # s1.mpg_vcd.zip -> s1/*.mpg, alignments zip -> align/*.align, audio -> s1/*.wav
    for u in ("bbaf2n", "lrbx9s"):
        _touch(tmp_path / "s1" / f"{u}.mpg")
        _touch(tmp_path / "s1" / f"{u}.wav")
        _touch(tmp_path / "align" / f"{u}.align")
    lay = grid.GridLayout.discover(tmp_path)
    assert lay.speakers == ["s1"]
    assert lay.utterances("s1", require=("video", "audio", "align")) == ["bbaf2n", "lrbx9s"]
    cp = lay.clip_paths(1, "bbaf2n")
    assert cp.video == tmp_path / "s1" / "bbaf2n.mpg"
    assert cp.audio == tmp_path / "s1" / "bbaf2n.wav"
    assert cp.align == tmp_path / "align" / "bbaf2n.align"
    assert cp.mouth_params is None


def test_layout_multi_speaker_variant(tmp_path):
    for s in ("s2", "s10"):
        _touch(tmp_path / s / "video" / "mpg_6000" / "bbaf2n.mpg")
        _touch(tmp_path / "audio_25k" / s / "bbaf2n.wav")
        _touch(tmp_path / "alignments" / s / "bbaf2n.align")
    _touch(tmp_path / "audio_25k" / "s2" / "sgaz1p.wav")  # audio only
    lay = grid.GridLayout.discover(tmp_path)
    assert lay.speakers == ["s2", "s10"]
    assert lay.utterances("s2", require=("audio",)) == ["bbaf2n", "sgaz1p"]
    assert lay.utterances("s2", require=("video", "audio", "align")) == ["bbaf2n"]
    cp = lay.clip_paths("s10", "bbaf2n")
    assert cp.video == tmp_path / "s10" / "video" / "mpg_6000" / "bbaf2n.mpg"
    assert cp.align == tmp_path / "alignments" / "s10" / "bbaf2n.align"
    assert lay.clip_paths("s2", "sgaz1p").video is None


def test_layout_errors(tmp_path):
    with pytest.raises(FileNotFoundError):
        grid.GridLayout.discover(tmp_path / "missing")
    with pytest.raises(DataError, match="no GRID speaker"):
        grid.GridLayout.discover(tmp_path)
    with pytest.raises(ParameterError):
        grid.GridLayout(tmp_path, audio_rate="8k")

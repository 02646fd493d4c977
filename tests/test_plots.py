"""Figure helpers: they draw what they are given, and reject what they cannot draw."""

import csv

import numpy as np
import pytest

from lip2audspec import ParameterError
from lip2audspec.evaluation import compare_reports
from lip2audspec.plots import (
    _pyplot,
    plot_auditory_spectrogram,
    plot_code_pca,
    plot_codes,
    plot_confusion,
    plot_crops,
    plot_error_curve,
    plot_filterbank,
    plot_history,
    plot_speaker_scores,
    read_history,
)

plt = _pyplot()


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


def _report(corr_by_speaker, words=0.5):
    def group(c):
        return {"n_clips": 2, "conditions": {
            "original": {"metrics": {}, "words": {"accuracy": 0.9}},
            "recon": {"metrics": {"corr2d": {"mean": c, "n": 2, "n_nan": 0}, "stoi": {"mean": None, "n": 0, "n_nan": 2}},
                      "words": {"accuracy": words}}}}
    return {"speakers": {s: group(c) for s, c in corr_by_speaker.items()},
            "overall": group(float(np.mean(list(corr_by_speaker.values()))))}


def test_spectrogram_codes_and_error_curve(rng):
    ax = plot_auditory_spectrogram(rng.random((50, 128)), frame_ms=10, title="t")
    assert ax.get_title() == "t" and ax.images[0].get_extent()[1] == pytest.approx(0.5)
    with pytest.raises(ParameterError, match="shape"):
        plot_auditory_spectrogram(rng.random(10))
    ax = plot_codes(rng.random((40, 32)))
    assert ax.images[0].get_array().shape == (32, 40)
    with pytest.raises(ParameterError):
        plot_codes(rng.random((2, 3, 4)))
    ax = plot_error_curve(np.array([[50.0, 1], [20, 1], [10, 1]]), label="x")
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), [50, 20, 10])


def test_filterbank_peaks_sit_at_the_centre_frequencies():
    from lip2audspec.auditory.filterbank import center_frequencies

    ax = plot_filterbank(channels=[20, 60, 100])
    cf = center_frequencies()
    for line, ch in zip(ax.lines, [20, 60, 100]):
        f, db = line.get_xdata(), line.get_ydata()
        assert abs(np.log2(f[np.argmax(db)] / cf[ch])) < 0.15  # peak within ~1/7 octave of the CF


def test_crops_strip(rng):
    crops = rng.integers(0, 255, (75, 16, 16), dtype=np.uint8)
    ax = plot_crops(crops, n=5)
    assert ax.images[0].get_array().shape == (16, 80)
    assert [t.get_text() for t in ax.get_xticklabels()][-1] == "2.96s"
    with pytest.raises(ParameterError):
        plot_crops(np.zeros((0, 4, 4)))


def test_history_from_csv_and_errors(tmp_path):
    with open(tmp_path / "history.csv", "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["epoch", "loss", "val_loss"])
        w.writerows([[0, 1.0, 1.2], [1, 0.5, 0.8]])
    h = read_history(tmp_path)
    np.testing.assert_array_equal(h["val_loss"], [1.2, 0.8])
    ax = plot_history(tmp_path, metrics=["loss"])
    assert [l.get_label() for l in ax.lines] == ["loss", "val_loss"]
    np.testing.assert_array_equal(ax.lines[0].get_xdata(), [1, 2])
    with pytest.raises(ParameterError, match="no column"):
        plot_history(tmp_path, metrics=["pearson_r"])
    with pytest.raises(ParameterError, match="no training history"):
        read_history(tmp_path / "missing")


def test_speaker_scores_and_comparison_table():
    reports = {"seen": _report({"s1": 0.8, "s2": 0.6}), "unseen": _report({"s3": 0.4}, words=0.25)}
    ax = plot_speaker_scores(reports, metric="corr2d")
    heights = [p.get_height() for p in ax.patches]
    assert heights == pytest.approx([0.8, 0.6, 0.7, 0.4, 0.4])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["s1", "s2", "all", "s3", "all"]
    ax = plot_speaker_scores(reports, metric="word_accuracy")
    assert [p.get_height() for p in ax.patches][-1] == pytest.approx(25.0)
    with pytest.raises(ParameterError, match="no metric"):
        plot_speaker_scores(reports, metric="pesq_nb")
    table = compare_reports(reports)
    lines = table.strip().splitlines()
    assert len(lines) == 4 and lines[2].startswith("| seen | 2 | 0.700 |") and "25.0%" in lines[3]
    assert lines[2].split("|")[-4].strip() == "90.0%"  # words of the original
    with pytest.raises(ParameterError):
        compare_reports({})


def test_confusion_matrix_figure():
    counts = [[3, 1, 0, 1], [0, 2, 0, 0], [0, 0, 4, 2]]  # 3 true words; heard: the 3 words + "(none)"
    ax = plot_confusion(counts, ["b", "d", "e", "(none)"], title="letter")
    assert ax.get_title() == "letter" and ax.get_xlabel() == "heard" and ax.get_ylabel() == "true"
    assert [t.get_text() for t in ax.get_xticklabels()] == ["b", "d", "e", "(none)"]
    assert ax.images[0].get_array().shape == (4, 4)  # padded with an empty "(none)" row
    texts = sorted(t.get_text() for t in ax.texts if t.get_text())
    assert texts == sorted(["3", "1", "1", "2", "4", "2"])  # zero cells are blank
    ax = plot_confusion(counts, ["b", "d", "e", "(none)"], normalize=True)
    assert "0.60" in [t.get_text() for t in ax.texts]
    with pytest.raises(ParameterError):
        plot_confusion(counts, ["b", "d"])
    with pytest.raises(ParameterError):
        plot_confusion([[1, -1], [0, 1]], ["a", "b"])


def test_code_pca_scatter(rng):
    codes = rng.random((300, 8))
    codes[:, 0] *= 5  # the first unit carries most of the variance
    ax = plot_code_pca(codes, labels=np.repeat(["s1", "s2", "s3"], 100), max_points=150, title="codes")
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["s1", "s2", "s3"]
    assert sum(len(c.get_offsets()) for c in ax.collections) == 150
    assert ax.get_xlabel().startswith("PC1 (") and ax.get_title() == "codes"
    ax = plot_code_pca(codes, labels=codes.sum(axis=1))  # numeric labels: colour scale with a colour bar
    assert len(ax.figure.axes) == 2 and len(ax.collections[0].get_offsets()) == 300
    for bad in ({"codes": codes[:, :1]}, {"codes": codes, "labels": np.zeros(5)}, {"codes": codes, "max_points": 0}):
        with pytest.raises(ParameterError):
            plot_code_pca(**bad)

"""Evaluation: spectrogram and intelligibility metrics, GRID word recognition, reports.

* :mod:`.metrics`: Corr2D and frame correlation of spectrograms;
* :mod:`.spectral`: :func:`score_autoencoder` / :func:`score_lipnet`, spectrogram-domain scores of trained
  models on a prepared split;
* :mod:`.intelligibility`: STOI, ESTOI (pystoi), PESQ narrow-band (8 kHz) and wide-band (16 kHz);
* :mod:`.asr`: :class:`GridRecognizer` (pocketsphinx + GRID JSGF grammar), :func:`align_slots` and
  :func:`word_accuracy`;
* :mod:`.summary`: :class:`ClipResult`, :func:`score_condition`, statistics (:func:`bootstrap_ci`,
  :func:`grammar_chance`, :func:`confusion_matrices`, :func:`top_confusions`) and the aggregation
  (:func:`aggregate`, :func:`summarize`: the ``report.json`` document);
* :mod:`.report`: rendering: :func:`write_report` (JSON, Markdown, HTML, figures) and :func:`compare_reports`;
* :mod:`.browser`: headless-Chromium :func:`screenshot` of the HTML report.

pystoi, pesq, jiwer and pocketsphinx are imported only when used.
"""

from .asr import SLOT_NAMES, GridRecognizer, align_slots, word_accuracy
from .browser import find_chromium, screenshot
from .intelligibility import estoi, intelligibility_metrics, pesq_nb, pesq_wb, stoi
from .metrics import corr2d, frame_correlation_np
from .report import compare_reports, write_report
from .spectral import bundle_fixture_check, score_autoencoder, score_lipnet, score_videos
from .summary import (CONDITIONS, METRICS, ClipResult, aggregate, bootstrap_ci, confusion_matrices, grammar_chance,
                      score_condition, summarize, top_confusions)

__all__ = [
    "CONDITIONS", "METRICS", "SLOT_NAMES", "ClipResult", "GridRecognizer", "aggregate", "align_slots", "bootstrap_ci",
    "compare_reports", "confusion_matrices", "corr2d", "estoi", "find_chromium", "frame_correlation_np", "grammar_chance",
    "intelligibility_metrics", "pesq_nb", "pesq_wb", "score_autoencoder", "score_condition", "score_lipnet", "score_videos", "screenshot",
    "stoi", "summarize", "top_confusions", "word_accuracy", "write_report",
]

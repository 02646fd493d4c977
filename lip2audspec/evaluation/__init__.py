"""Evaluation: spectrogram and intelligibility metrics."""

from .metrics import corr2d, frame_correlation_np

__all__ = ["corr2d", "frame_correlation_np"]

"""Datasets: the GRID corpus layout and grammar (:mod:`.grid`) and a synthetic GRID-format corpus (:mod:`.synthetic`)."""

from .grid import GridLayout, ClipPaths, read_align, write_align, sentence_from_id, id_from_sentence

__all__ = ["GridLayout", "ClipPaths", "read_align", "write_align", "sentence_from_id", "id_from_sentence"]

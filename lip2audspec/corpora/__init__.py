"""Corpora: where the audio-visual clips come from, before any feature preparation.

* :mod:`.grid`: the GRID corpus grammar, utterance ids, ``.align`` files and folder layouts
  (:class:`GridLayout`);
* :mod:`.download`: resumable download and unpacking of the GRID archives;
* :mod:`.synthetic`: a synthetic GRID-format corpus (espeak-ng speech and rendered talking faces).

Feature preparation from a corpus (mouth crops, auditory targets, HDF5 datasets) is :mod:`lip2audspec.data`.
"""

from .grid import GridLayout, ClipPaths, read_align, write_align, sentence_from_id, id_from_sentence

__all__ = ["GridLayout", "ClipPaths", "read_align", "write_align", "sentence_from_id", "id_from_sentence"]

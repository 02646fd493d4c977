"""The GRID audio-visual corpus: sentence grammar, utterance ids, ``.align`` files and folder layouts.

GRID (Cooke et al. 2006) has 34 speakers (``s1`` .. ``s34``) x 1000 sentences of the form
``command colour preposition letter digit adverb`` ("bin blue at f two now"), 3 s each, video 360x288 at
25 fps. An utterance id is the six word initials (``bbaf2n``; digit zero is ``z``).

``.align`` files hold one ``start end word`` line per word with times in 1/25000 s (25 kHz samples, i.e.
video frame index x 1000 at 25 fps), ``sil`` at both ends (and occasionally ``sp`` short pauses).

:class:`GridLayout` finds video, audio and alignment files for the common ways a GRID download unpacks,
including the layout written by :mod:`lip2audspec.corpora.synthetic`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from ..errors import DataError, ParameterError
from ..fileio import write_text_atomic

__all__ = [
    "COMMANDS", "COLOURS", "PREPOSITIONS", "LETTERS", "DIGITS", "ADVERBS", "SLOTS", "SILENCE_WORDS",
    "ALIGN_RATE", "VIDEO_FPS", "N_FRAMES", "CLIP_SECONDS", "N_SENTENCES",
    "sentence_from_id", "id_from_sentence", "id_from_index", "index_from_id", "is_valid_id",
    "read_align", "write_align", "parse_align", "format_align", "align_words",
    "seconds_to_align", "align_to_seconds", "frame_to_align", "align_to_frame",
    "speaker_name", "speaker_number", "ClipPaths", "GridLayout",
]

COMMANDS = ("bin", "lay", "place", "set")
COLOURS = ("blue", "green", "red", "white")
PREPOSITIONS = ("at", "by", "in", "with")
LETTERS = tuple("abcdefghijklmnopqrstuvxyz")  # no w
DIGITS = ("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine")
ADVERBS = ("again", "now", "please", "soon")
#: The six word slots of a GRID sentence, in order.
SLOTS = (COMMANDS, COLOURS, PREPOSITIONS, LETTERS, DIGITS, ADVERBS)
SILENCE_WORDS = ("sil", "sp")
#: Time unit of ``.align`` files: 25000 per second.
ALIGN_RATE = 25000
VIDEO_FPS = 25
N_FRAMES = 75
CLIP_SECONDS = 3.0
#: Number of distinct GRID sentences (4 * 4 * 4 * 25 * 10 * 4).
N_SENTENCES = 64000

_DIGIT_CHARS = ("z", "1", "2", "3", "4", "5", "6", "7", "8", "9")
_ID_RE = re.compile(r"^[blps][bgrw][abiw][a-vx-z][z1-9][anps]$")
_RADICES = tuple(len(s) for s in SLOTS)


def _initial(slot: int, word: str) -> str:
    return _DIGIT_CHARS[DIGITS.index(word)] if slot == 4 else word[0]


def is_valid_id(utt_id) -> bool:
    """True if ``utt_id`` is a well-formed GRID utterance id (e.g. ``"bbaf2n"``)."""
    return isinstance(utt_id, str) and bool(_ID_RE.match(utt_id))


def sentence_from_id(utt_id: str) -> tuple:
    """The six words of GRID utterance ``utt_id``.

    Examples
    --------
    >>> sentence_from_id("bbaf2n")
    ('bin', 'blue', 'at', 'f', 'two', 'now')
    >>> sentence_from_id("swwaza")
    ('set', 'white', 'with', 'a', 'zero', 'again')
    """
    if not is_valid_id(utt_id):
        raise ParameterError(f"not a GRID utterance id: {utt_id!r}; expected 6 characters like 'bbaf2n' "
                             "(command, colour, preposition, letter a-z without w, digit with z for zero, adverb)")
    words = []
    for slot, ch in enumerate(utt_id):
        if slot == 4:
            words.append(DIGITS[_DIGIT_CHARS.index(ch)])
        else:
            words.append(next(w for w in SLOTS[slot] if w[0] == ch))
    return tuple(words)


def id_from_sentence(words) -> str:
    """GRID utterance id of a six-word sentence (sequence of words or a space-separated string).

    Examples
    --------
    >>> id_from_sentence("bin blue at f two now")
    'bbaf2n'
    """
    if isinstance(words, str):
        words = words.split()
    words = [str(w).lower() for w in words]
    if len(words) != 6:
        raise ParameterError(f"a GRID sentence has 6 words (command colour preposition letter digit adverb), got {words!r}")
    for slot, w in enumerate(words):
        if w not in SLOTS[slot]:
            raise ParameterError(f"word {slot + 1} of a GRID sentence must be one of {SLOTS[slot]}, got {w!r}")
    return "".join(_initial(s, w) for s, w in enumerate(words))


def id_from_index(index: int) -> str:
    """The ``index``-th GRID sentence id (0 <= index < 64000), mixed-radix over the six slots."""
    if isinstance(index, bool) or not isinstance(index, int) and not hasattr(index, "__index__"):
        raise ParameterError(f"index must be an integer in [0, {N_SENTENCES}), got {index!r}")
    index = int(index)
    if not 0 <= index < N_SENTENCES:
        raise ParameterError(f"index must be in [0, {N_SENTENCES}), got {index}")
    words = []
    for slot in range(5, -1, -1):
        index, r = divmod(index, _RADICES[slot])
        words.append(SLOTS[slot][r])
    return id_from_sentence(words[::-1])


def index_from_id(utt_id: str) -> int:
    """Inverse of :func:`id_from_index`."""
    words = sentence_from_id(utt_id)
    index = 0
    for slot, w in enumerate(words):
        index = index * _RADICES[slot] + SLOTS[slot].index(w)
    return index


# ---------------------------------------------------------------------------------------------- time units
def seconds_to_align(t) -> int:
    """Seconds -> ``.align`` units (1/25000 s), rounded."""
    return int(round(float(t) * ALIGN_RATE))


def align_to_seconds(units) -> float:
    """``.align`` units (1/25000 s) -> seconds."""
    return float(units) / ALIGN_RATE


def frame_to_align(frame, *, fps: float = VIDEO_FPS) -> int:
    """Video frame index -> ``.align`` units (frame x 1000 at 25 fps)."""
    return int(round(float(frame) * ALIGN_RATE / fps))


def align_to_frame(units, *, fps: float = VIDEO_FPS) -> float:
    """``.align`` units -> (fractional) video frame index."""
    return float(units) * fps / ALIGN_RATE


# ---------------------------------------------------------------------------------------------- .align I/O
def parse_align(text: str, *, source: str = "<string>") -> list:
    """Parse the text of a ``.align`` file.

    Returns
    -------
    list of (start, end, word)
        ``start``, ``end`` are ints in 1/25000 s.

    Raises
    ------
    DataError
        A line is not ``start end word``, times are negative, decreasing, or overlap.
    """
    rows = []
    for n, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line:
            continue
        parts = line.split()
        if len(parts) != 3:
            raise DataError(f"{source}:{n}: expected 'start end word', got {line!r}")
        try:
            start, end = int(parts[0]), int(parts[1])
        except ValueError:
            raise DataError(f"{source}:{n}: start and end must be integers (1/25000 s), got {line!r}") from None
        if start < 0 or end < start:
            raise DataError(f"{source}:{n}: need 0 <= start <= end, got {line!r}")
        if rows and start < rows[-1][1]:
            raise DataError(f"{source}:{n}: word starts at {start}, before the previous one ends ({rows[-1][1]})")
        rows.append((start, end, parts[2]))
    if not rows:
        raise DataError(f"{source}: empty alignment")
    return rows


def read_align(path) -> list:
    """Read a GRID ``.align`` file -> list of ``(start, end, word)`` (times in 1/25000 s)."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no alignment file at {path}")
    try:
        text = path.read_text(encoding="ascii")
    except (UnicodeDecodeError, OSError) as exc:
        raise DataError(f"cannot read alignment {path}: {exc}") from exc
    return parse_align(text, source=str(path))


def format_align(rows) -> str:
    """Text of a ``.align`` file for ``rows`` of ``(start, end, word)``."""
    out = []
    prev_end = 0
    for row in rows:
        if len(row) != 3:
            raise ParameterError(f"alignment rows must be (start, end, word), got {row!r}")
        start, end, word = int(row[0]), int(row[1]), str(row[2])
        if start < prev_end or end < start or not word or any(c.isspace() for c in word):
            raise ParameterError(f"alignment rows must be non-overlapping, increasing, with one-token words; got {row!r}")
        prev_end = end
        out.append(f"{start} {end} {word}\n")
    if not out:
        raise ParameterError("an alignment needs at least one row")
    return "".join(out)


def write_align(path, rows) -> Path:
    """Write ``rows`` of ``(start, end, word)`` (1/25000 s) as a GRID ``.align`` file, atomically."""
    path = Path(path)
    write_text_atomic(path, format_align(rows))
    return path


def align_words(rows) -> list:
    """The spoken words of an alignment (``sil`` and ``sp`` removed)."""
    return [w for _, _, w in rows if w not in SILENCE_WORDS]


# ---------------------------------------------------------------------------------------------- layout
def speaker_name(speaker) -> str:
    """``3`` or ``"s3"`` -> ``"s3"``."""
    return f"s{speaker_number(speaker)}"


def speaker_number(speaker) -> int:
    """``"s3"`` or ``3`` -> ``3``."""
    if isinstance(speaker, str) and re.fullmatch(r"s?\d+", speaker):
        n = int(speaker.lstrip("s"))
    elif isinstance(speaker, int) and not isinstance(speaker, bool):
        n = speaker
    else:
        raise ParameterError(f"speaker must be a positive int or 's<N>', got {speaker!r}")
    if n < 1:
        raise ParameterError(f"speaker numbers start at 1, got {speaker!r}")
    return n


@dataclass(frozen=True)
class ClipPaths:
    """Files of one clip; a path is ``None`` where the layout has no such file."""

    speaker: str
    utt_id: str
    video: Path | None
    audio: Path | None
    align: Path | None
    mouth_params: Path | None = None


# candidate folders, relative to the root, for each kind of file; {s} is the speaker name
_VIDEO_DIRS = ("{s}", "video/{s}", "{s}/video/mpg_6000", "{s}/video", "videos/{s}", "s{n}.mpg_vcd/{s}")
_VIDEO_EXTS = (".mpg", ".mpeg", ".mp4", ".avi")
_AUDIO_DIRS = ("audio_25k/{s}", "audio/{s}", "{s}", "{s}/audio", "audio_50k/{s}", "audio_16k/{s}")
_ALIGN_DIRS = ("alignments/{s}", "align/{s}", "{s}/align", "alignments/{s}/align", "align")
_MOUTH_DIRS = ("mouth_params/{s}",)


class GridLayout:
    """Locate GRID clips under ``root`` for the common unpacked layouts.

    Recognised (per speaker ``sN``; the first folder that holds files wins):

    - video: ``sN/*.mpg`` (the video zips), ``video/sN/``, ``sN/video/mpg_6000/``, ``sN/video/``
    - audio: ``audio_25k/sN/*.wav``, ``audio/sN/``, ``sN/*.wav``, ``sN/audio/``, ``audio_50k/sN/``, ``audio_16k/sN/``
    - align: ``alignments/sN/*.align``, ``align/sN/``, ``sN/align/``, ``align/*.align`` (single-speaker
      downloads, used only when exactly one speaker is present)

    The synthetic corpus (:mod:`lip2audspec.corpora.synthetic`) writes ``sN/*.mpg``, ``audio_25k/sN/*.wav``,
    ``audio_16k/sN/*.wav``, ``alignments/sN/*.align`` and ``mouth_params/sN/*.csv``.

    Parameters
    ----------
    root : str or Path
        Folder the corpus was unpacked into.
    audio_rate : {"25k", "16k", "50k", None}
        Prefer this audio folder (``audio_<rate>``); None: the first found in the order above.

    Examples
    --------
    >>> layout = GridLayout.discover("data/grid_synth")            # doctest: +SKIP
    >>> layout.speakers                                             # doctest: +SKIP
    ['s1', 's2']
    >>> layout.clip_paths("s1", "bbaf2n").video                      # doctest: +SKIP
    PosixPath('data/grid_synth/s1/bbaf2n.mpg')
    """

    def __init__(self, root, *, audio_rate: str | None = None):
        self.root = Path(root)
        if not self.root.is_dir():
            raise FileNotFoundError(f"GRID root folder not found: {self.root}")
        if audio_rate not in (None, "25k", "16k", "50k"):
            raise ParameterError(f"audio_rate must be '25k', '16k', '50k' or None, got {audio_rate!r}")
        self.audio_rate = audio_rate
        self._cache: dict = {}
        names = set()
        for base in (self.root, self.root / "video", self.root / "videos", self.root / "audio_25k", self.root / "audio",
                     self.root / "alignments", self.root / "align", self.root / "audio_16k", self.root / "audio_50k"):
            if base.is_dir():
                names.update(p.name for p in base.iterdir() if p.is_dir() and re.fullmatch(r"s\d+", p.name))
        self.speakers = sorted(names, key=speaker_number)

    @classmethod
    def discover(cls, root, *, audio_rate: str | None = None) -> "GridLayout":
        """Scan ``root`` and return its layout; raises DataError if no speaker folder is found."""
        layout = cls(root, audio_rate=audio_rate)
        if not layout.speakers:
            raise DataError(f"no GRID speaker folders (s1, s2, ...) found under {layout.root}; expected e.g. "
                            "s1/*.mpg, audio_25k/s1/*.wav, alignments/s1/*.align")
        return layout

    def _dir(self, kind: str, speaker: str) -> tuple:
        key = (kind, speaker)
        if key in self._cache:
            return self._cache[key]
        n = speaker_number(speaker)
        if kind == "video":
            cands, exts = _VIDEO_DIRS, _VIDEO_EXTS
        elif kind == "audio":
            cands, exts = _AUDIO_DIRS, (".wav",)
            if self.audio_rate:
                cands = (f"audio_{self.audio_rate}/{{s}}",) + tuple(c for c in cands if "audio_" not in c)
        elif kind == "align":
            cands, exts = _ALIGN_DIRS, (".align",)
            if len(self.speakers) != 1:
                cands = tuple(c for c in cands if "{s}" in c)
        else:
            cands, exts = _MOUTH_DIRS, (".csv",)
        found = (None, None)
        for c in cands:
            d = self.root / c.format(s=speaker, n=n)
            if d.is_dir():
                for ext in exts:
                    if any(d.glob(f"*{ext}")):
                        found = (d, ext)
                        break
            if found[0] is not None:
                break
        self._cache[key] = found
        return found

    def folder(self, kind: str, speaker) -> Path | None:
        """The folder holding ``kind`` files ('video', 'audio', 'align', 'mouth_params') of ``speaker``."""
        if kind not in ("video", "audio", "align", "mouth_params"):
            raise ParameterError(f"kind must be 'video', 'audio', 'align' or 'mouth_params', got {kind!r}")
        return self._dir(kind, speaker_name(speaker))[0]

    def utterances(self, speaker, *, require: tuple = ("video",)) -> list:
        """Sorted utterance ids of ``speaker`` that have all kinds in ``require`` (e.g. ``("video", "align")``)."""
        speaker = speaker_name(speaker)
        sets = []
        for kind in require:
            d, ext = self._dir(kind, speaker)
            ids = set() if d is None else {p.stem for p in d.glob(f"*{ext}") if is_valid_id(p.stem)}
            sets.append(ids)
        if not sets:
            raise ParameterError("require must name at least one of 'video', 'audio', 'align'")
        return sorted(set.intersection(*sets))

    def clip_paths(self, speaker, utt_id: str) -> ClipPaths:
        """Paths of one clip's files (``None`` for a kind the layout lacks or a file that does not exist)."""
        speaker = speaker_name(speaker)
        if not is_valid_id(utt_id):
            raise ParameterError(f"not a GRID utterance id: {utt_id!r}")
        paths = {}
        for kind in ("video", "audio", "align", "mouth_params"):
            d, ext = self._dir(kind, speaker)
            p = None if d is None else d / f"{utt_id}{ext}"
            paths[kind] = p if p is not None and p.is_file() else None
        return ClipPaths(speaker=speaker, utt_id=utt_id, **paths)

    def __repr__(self):
        return f"GridLayout({str(self.root)!r}, speakers={self.speakers})"

"""Download and unpack GRID corpus archives: resumable HTTP, integrity checks, normalised layout.

GRID (Cooke et al. 2006) is distributed per speaker as three archives (relative to a base URL, by
default the University of Sheffield server :data:`DEFAULT_BASE_URL`):

==========  ==================================  =================================================
part        relative path (speaker ``sN``)      content
==========  ==================================  =================================================
``video``   ``sN/video/sN.mpg_vcd.zip``         normal-quality videos ``bbaf2n.mpg`` ...
``audio``   ``sN/audio/sN.tar``                 25 kHz audio ``bbaf2n.wav`` ...
``align``   ``sN/align/sN.tar``                 word alignments ``bbaf2n.align`` ...
==========  ==================================  =================================================

Speaker ``s21`` has no video. Any mirror that keeps these relative paths works as ``base_url``.

Unpacked files are *normalised* into the layout the synthetic corpus also uses, whatever folders the
archive stores them in::

    <out>/sN/*.mpg                 video
    <out>/audio_25k/sN/*.wav       audio
    <out>/alignments/sN/*.align    alignments

Only regular archive members whose file name is ``<GRID id>.mpg|.mpeg|.wav|.align`` (e.g.
``bbaf2n.mpg``) are extracted; anything else (read-me files, ``__MACOSX/._*`` resource forks, links) is
ignored. Members with absolute names or ``..`` components reject the whole archive, and so do folder
names of another speaker (``s7/...`` inside the archive of ``s1``).

Everything is resumable: downloads continue from ``<archive>.part`` with HTTP ``Range`` requests, each
extracted file is written atomically and skipped when already in place, and ``download_manifest.json``
records finished speaker/part pairs so that a rerun does nothing for them. Only the standard library
is used for networking (:mod:`urllib`).
"""

from __future__ import annotations

import hashlib
import http.client
import json
import logging
import os
import re
import shutil
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
import zipfile
import zlib
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath

from ..errors import DataError, ParameterError
from ..fileio import atomic_path, write_json_atomic
from .grid import is_valid_id, speaker_name, speaker_number

__all__ = [
    "DEFAULT_BASE_URL", "PARTS", "N_SPEAKERS", "SPEAKERS_WITHOUT_VIDEO", "ARCHIVE_PATHS", "MANIFEST_NAME",
    "grid_urls", "archive_name", "download_file", "verify_archive", "extract_speaker", "fetch_grid",
    "file_sha256", "target_folder",
]

log = logging.getLogger(__name__)

#: Default distribution server (University of Sheffield).
DEFAULT_BASE_URL = "https://spandh.dcs.shef.ac.uk/gridcorpus"
#: Archive kinds, in download order.
PARTS = ("video", "audio", "align")
#: GRID speakers are s1 .. s34.
N_SPEAKERS = 34
#: Speakers for which the corpus has no video.
SPEAKERS_WITHOUT_VIDEO = (21,)
#: Archive path relative to the base URL, per part; ``{n}`` is the speaker number.
ARCHIVE_PATHS = {
    "video": "s{n}/video/s{n}.mpg_vcd.zip",
    "audio": "s{n}/audio/s{n}.tar",
    "align": "s{n}/align/s{n}.tar",
}
#: Name of the manifest written into the output folder.
MANIFEST_NAME = "download_manifest.json"

#: File extension -> part, for archive members.
_PART_BY_EXT = {".mpg": "video", ".mpeg": "video", ".wav": "audio", ".align": "align"}
#: Target folder relative to the output root, per part; ``{s}`` is the speaker name.
_TARGET_DIRS = {"video": "{s}", "audio": "audio_25k/{s}", "align": "alignments/{s}"}
_USER_AGENT = "lip2audspec-download/1 (+https://spandh.dcs.shef.ac.uk/gridcorpus/)"
_MANIFEST_VERSION = 1
_RANGE_RE = re.compile(r"^\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*$", re.IGNORECASE)
_RANGE_UNSAT_RE = re.compile(r"^\s*bytes\s+\*/(\d+)\s*$", re.IGNORECASE)


# ---------------------------------------------------------------------------------------------- arguments
def _check_speaker(speaker) -> int:
    n = speaker_number(speaker)
    if not 1 <= n <= N_SPEAKERS:
        raise ParameterError(f"GRID speakers are s1 .. s{N_SPEAKERS}, got {speaker!r}")
    return n


def _check_parts(parts) -> tuple:
    if isinstance(parts, str):
        parts = (parts,)
    try:
        parts = tuple(parts)
    except TypeError:
        raise ParameterError(f"parts must be a sequence drawn from {PARTS}, got {parts!r}") from None
    if not parts:
        raise ParameterError(f"parts must name at least one of {PARTS}")
    bad = [p for p in parts if p not in PARTS]
    if bad:
        raise ParameterError(f"unknown part(s) {bad}; choose from {PARTS}")
    return tuple(dict.fromkeys(parts))


def _check_base_url(base_url) -> str:
    if not isinstance(base_url, str) or not base_url.strip():
        raise ParameterError(f"base_url must be a non-empty URL string, got {base_url!r}")
    scheme = urllib.parse.urlsplit(base_url.strip()).scheme.lower()
    if scheme not in ("http", "https", "file"):
        raise ParameterError(f"base_url must start with http://, https:// or file://, got {base_url!r}")
    return base_url.strip().rstrip("/")


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


def archive_name(speaker, part: str) -> str:
    """File name of the ``part`` archive of ``speaker`` (``s3.mpg_vcd.zip`` for video, ``s3.tar`` otherwise)."""
    n = _check_speaker(speaker)
    (part,) = _check_parts((part,))
    return PurePosixPath(ARCHIVE_PATHS[part].format(n=n)).name


def grid_urls(speaker, *, base_url: str = DEFAULT_BASE_URL, parts=PARTS) -> dict:
    """Download URLs of one speaker's GRID archives.

    Parameters
    ----------
    speaker : int or str
        Speaker number 1..34, or ``"s7"``.
    base_url : str
        Server or mirror root holding ``s{N}/video/s{N}.mpg_vcd.zip``, ``s{N}/audio/s{N}.tar`` and
        ``s{N}/align/s{N}.tar``.
    parts : sequence of {"video", "audio", "align"}
        Archives wanted.

    Returns
    -------
    dict
        ``{part: url}`` in the order of ``parts``.

    Raises
    ------
    ParameterError
        Speaker out of range, unknown part, bad URL, or video requested for speaker 21 (GRID has none).

    Examples
    --------
    >>> grid_urls(3, parts=("align",))
    {'align': 'https://spandh.dcs.shef.ac.uk/gridcorpus/s3/align/s3.tar'}
    """
    n = _check_speaker(speaker)
    parts = _check_parts(parts)
    base_url = _check_base_url(base_url)
    if "video" in parts and n in SPEAKERS_WITHOUT_VIDEO:
        raise ParameterError(f"GRID has no video for speaker s{n}; request parts=('audio', 'align') for it")
    return {p: f"{base_url}/{ARCHIVE_PATHS[p].format(n=n)}" for p in parts}


def target_folder(out_root, speaker, part: str) -> Path:
    """Folder that :func:`extract_speaker` writes ``part`` files of ``speaker`` into."""
    (part,) = _check_parts((part,))
    return Path(out_root) / _TARGET_DIRS[part].format(s=speaker_name(_check_speaker(speaker)))


# ---------------------------------------------------------------------------------------------- download
class _Retry(Exception):
    """A transient failure: the attempt may be repeated (resuming from the ``.part`` file)."""


def file_sha256(path, *, chunk: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in chunks."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while True:
            buf = fh.read(chunk)
            if not buf:
                break
            h.update(buf)
    return h.hexdigest()


def _check_file(path: Path, expected_size, sha256) -> tuple:
    """(size, sha256 hex, problem or None) of a complete file against the expectations."""
    size = path.stat().st_size
    if expected_size is not None and size != expected_size:
        return size, None, f"size is {size} bytes, expected {expected_size}"
    digest = file_sha256(path)
    if sha256 is not None and digest != sha256:
        return size, digest, f"sha256 is {digest}, expected {sha256}"
    return size, digest, None


def _attempt(url: str, part: Path, *, expected_size, chunk: int, progress: bool, timeout: float, stats: dict) -> None:
    """One HTTP request appending to (or restarting) ``part``; raises :class:`_Retry` on transient failures."""
    offset = part.stat().st_size if part.is_file() else 0
    if expected_size is not None and offset > expected_size:
        log.warning("%s is larger than the expected %d bytes; restarting", part, expected_size)
        part.unlink()
        offset = 0
    if expected_size is not None and 0 < offset == expected_size:
        return  # a previous run finished the transfer but stopped before the rename
    headers = {"User-Agent": _USER_AGENT}
    if offset:
        headers["Range"] = f"bytes={offset}-"
    request = urllib.request.Request(url, headers=headers)
    try:
        resp = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        code, reason, hdrs = exc.code, exc.reason, exc.headers
        exc.close()
        if code == 416 and offset:
            m = _RANGE_UNSAT_RE.match((hdrs or {}).get("Content-Range", "") or "")
            if m and int(m.group(1)) == offset:
                return  # the .part already holds the whole file
            part.unlink()
            raise _Retry(f"server refused to resume at byte {offset} (HTTP 416); restarting from 0") from None
        if code in (408, 429) or code >= 500:
            raise _Retry(f"HTTP {code} {reason}") from None
        raise DataError(f"download of {url} failed: HTTP {code} {reason}") from None
    except (urllib.error.URLError, OSError, http.client.HTTPException) as exc:
        raise _Retry(f"cannot fetch: {getattr(exc, 'reason', exc)}") from None

    with resp:
        status = getattr(resp, "status", None) or 200
        length = resp.headers.get("Content-Length")
        length = int(length) if length and length.strip().isdigit() else None
        if status == 206:
            m = _RANGE_RE.match(resp.headers.get("Content-Range", "") or "")
            if not m or int(m.group(1)) != offset:
                part.unlink()
                raise _Retry(f"server answered the resume request with Content-Range "
                             f"{resp.headers.get('Content-Range')!r} instead of bytes {offset}-; restarting from 0")
            total = int(m.group(3)) if m.group(3) != "*" else (offset + length if length is not None else None)
            mode = "ab"
        elif status == 200:
            if offset:
                log.info("server ignored the Range request for %s; restarting from byte 0", url)
            offset, mode, total = 0, "wb", length
        else:
            raise DataError(f"download of {url} failed: unexpected HTTP status {status}")
        if expected_size is not None and total is not None and total != expected_size:
            if part.is_file():
                part.unlink()
            raise DataError(f"download of {url}: the server reports {total} bytes, expected {expected_size}")

        from tqdm.auto import tqdm

        bar = tqdm(total=total, initial=offset, unit="B", unit_scale=True, unit_divisor=1024,
                   desc=part.name[:-len(".part")], disable=not progress, leave=False)
        try:
            with open(part, mode) as fh:
                while True:
                    try:
                        buf = resp.read(chunk)
                    except (OSError, http.client.HTTPException) as exc:
                        raise _Retry(f"connection lost after {fh.tell()} bytes: {exc or type(exc).__name__}") from None
                    if not buf:
                        break
                    fh.write(buf)
                    stats["transferred"] += len(buf)
                    bar.update(len(buf))
        finally:
            bar.close()
        if mode == "ab" and offset:
            stats["resumed_from"] = offset
    got = part.stat().st_size
    if total is not None and got < total:
        raise _Retry(f"transfer truncated: got {got} of {total} bytes")
    if total is not None and got > total:
        part.unlink()
        raise _Retry(f"received {got} bytes but the server announced {total}; restarting from 0")


def download_file(url: str, dest, *, expected_size: int | None = None, sha256: str | None = None, chunk: int = 1 << 20,
                  progress: bool = True, retries: int = 3, timeout: float = 60, backoff: float = 1.0) -> dict:
    """Download ``url`` to ``dest``, resumably, verifying size and (optionally) SHA-256.

    Data goes to ``dest + ".part"``; a later call continues from there with an HTTP ``Range`` request
    (a server that ignores ``Range`` and answers 200 makes the transfer restart cleanly from byte 0).
    When the transfer is complete and verified, the ``.part`` file is renamed onto ``dest`` atomically.
    An existing ``dest`` that verifies is not downloaded again.

    Parameters
    ----------
    url : str
        ``http://``, ``https://`` or ``file://`` URL.
    dest : str or Path
        Destination file; parent folders are created.
    expected_size : int, optional
        Required size in bytes. Without it, the server's ``Content-Length`` / ``Content-Range`` total
        is the reference (truncated transfers are always detected when the server announces a size).
    sha256 : str, optional
        Required SHA-256 (64 hex digits).
    chunk : int
        Read size in bytes.
    progress : bool
        Show a tqdm progress bar.
    retries : int
        Extra attempts after a transient failure (connection error, timeout, truncated transfer, HTTP
        5xx/408/429), each resuming from the ``.part`` file, with exponential ``backoff``.
    timeout : float
        Socket timeout in seconds (connect and each read).
    backoff : float
        Delay before the first retry in seconds; doubled for each further retry.

    Returns
    -------
    dict
        ``url``, ``path``, ``size``, ``sha256``, ``action`` (``"skipped"`` when ``dest`` already
        verified, else ``"downloaded"``), ``transferred`` (bytes received by this call) and
        ``resumed_from`` (byte offset a resumed transfer started at, else 0).

    Raises
    ------
    DataError
        HTTP client errors (404 ...), repeated transient failures (the ``.part`` file is kept so a rerun
        resumes), or a size/SHA-256 mismatch of the finished transfer (the ``.part`` file is removed).
    ParameterError
        Invalid arguments.
    """
    if not isinstance(url, str) or urllib.parse.urlsplit(url).scheme.lower() not in ("http", "https", "file"):
        raise ParameterError(f"url must be an http://, https:// or file:// URL string, got {url!r}")
    if expected_size is not None and (isinstance(expected_size, bool) or not isinstance(expected_size, int)
                                      or expected_size < 0):
        raise ParameterError(f"expected_size must be a non-negative int or None, got {expected_size!r}")
    if sha256 is not None:
        if not isinstance(sha256, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", sha256):
            raise ParameterError(f"sha256 must be 64 hex digits or None, got {sha256!r}")
        sha256 = sha256.lower()
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise ParameterError(f"chunk must be a positive int, got {chunk!r}")
    if isinstance(retries, bool) or not isinstance(retries, int) or retries < 0:
        raise ParameterError(f"retries must be a non-negative int, got {retries!r}")
    if not isinstance(timeout, (int, float)) or isinstance(timeout, bool) or not timeout > 0:
        raise ParameterError(f"timeout must be a positive number of seconds, got {timeout!r}")
    if not isinstance(backoff, (int, float)) or isinstance(backoff, bool) or backoff < 0:
        raise ParameterError(f"backoff must be a non-negative number of seconds, got {backoff!r}")
    dest = Path(dest)
    part = dest.with_name(dest.name + ".part")
    result = {"url": url, "path": str(dest), "size": None, "sha256": None, "action": "downloaded",
              "transferred": 0, "resumed_from": 0}

    if dest.exists():
        if not dest.is_file():
            raise DataError(f"cannot download to {dest}: it exists and is not a file")
        size, digest, problem = _check_file(dest, expected_size, sha256)
        if problem is None:
            log.info("%s already downloaded (%d bytes)", dest, size)
            result.update(size=size, sha256=digest, action="skipped")
            return result
        log.warning("%s exists but its %s; downloading it again", dest, problem)
        dest.unlink()
    dest.parent.mkdir(parents=True, exist_ok=True)

    stats = {"transferred": 0, "resumed_from": 0}
    last_error = None
    for attempt in range(retries + 1):
        if attempt:
            delay = backoff * 2 ** (attempt - 1)
            log.warning("%s: %s; retry %d/%d in %.1f s", url, last_error, attempt, retries, delay)
            time.sleep(delay)
        try:
            _attempt(url, part, expected_size=expected_size, chunk=chunk, progress=progress, timeout=timeout, stats=stats)
        except _Retry as exc:
            last_error = exc
            continue
        break
    else:
        kept = f"; {part.stat().st_size} bytes kept in {part}, rerun to resume" if part.is_file() else ""
        raise DataError(f"download of {url} failed after {retries + 1} attempt(s): {last_error}{kept}")

    if not part.is_file():  # zero-byte body: nothing was written
        part.touch()
    size, digest, problem = _check_file(part, expected_size, sha256)
    if problem is not None:
        part.unlink()
        raise DataError(f"download of {url} is corrupt: {problem} (the partial file was removed)")
    os.replace(part, dest)
    log.info("downloaded %s -> %s (%d bytes)", url, dest, size)
    result.update(size=size, sha256=digest, **stats)
    return result


# ---------------------------------------------------------------------------------------------- archives
def _archive_format(path: Path) -> str:
    if not path.is_file():
        raise FileNotFoundError(f"no archive at {path}")
    if zipfile.is_zipfile(path):
        return "zip"
    try:
        if tarfile.is_tarfile(path):
            return "tar"
    except OSError:
        pass
    raise DataError(f"{path} is neither a zip nor a tar archive (corrupt or incomplete download?)")


def verify_archive(path) -> dict:
    """Check the integrity of a zip or tar archive.

    Zip: every member's CRC is checked (:meth:`zipfile.ZipFile.testzip`). Tar: the member listing is
    read, and every member's data must lie inside the file (uncompressed tars, as GRID ships) or be
    readable to its end (compressed tars).

    Parameters
    ----------
    path : str or Path
        Archive file.

    Returns
    -------
    dict
        ``format`` (``"zip"`` or ``"tar"``), ``members`` (entries) and ``files`` (regular files).

    Raises
    ------
    FileNotFoundError
        ``path`` does not exist.
    DataError
        Not an archive, truncated, or a member fails its check.
    """
    path = Path(path)
    fmt = _archive_format(path)
    try:
        if fmt == "zip":
            with zipfile.ZipFile(path) as zf:
                bad = zf.testzip()
                infos = zf.infolist()
            if bad is not None:
                raise DataError(f"corrupt zip archive {path}: member {bad!r} fails its CRC check")
            return {"format": "zip", "members": len(infos), "files": sum(not i.is_dir() for i in infos)}
        file_size = path.stat().st_size
        compressed = _tar_compressed(path)
        n_members = n_files = 0
        with tarfile.open(path, "r:*") as tf:
            for m in tf:
                n_members += 1
                if not m.isfile():
                    continue
                n_files += 1
                if compressed:
                    fh = tf.extractfile(m)
                    while fh.read(1 << 20):
                        pass
                elif m.offset_data + m.size > file_size:
                    raise DataError(f"truncated tar archive {path}: member {m.name!r} needs bytes up to "
                                    f"{m.offset_data + m.size}, the file has {file_size}")
            end = tf.offset
        if not compressed:
            # tarfile stops silently at a truncated header: whatever follows the last member must be the
            # zero blocks that end an archive
            with open(path, "rb") as fh:
                fh.seek(end)
                while True:
                    buf = fh.read(1 << 20)
                    if not buf:
                        break
                    if buf.count(0) != len(buf):
                        raise DataError(f"truncated or corrupt tar archive {path}: unreadable data after byte {end} "
                                        f"(after {n_members} members)")
                    end += len(buf)
        return {"format": "tar", "members": n_members, "files": n_files}
    except DataError:
        raise
    except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError, ValueError, zlib.error) as exc:
        raise DataError(f"corrupt {fmt} archive {path}: {exc}") from exc


def _tar_compressed(path: Path) -> bool:
    """True for gzip/bzip2/xz-compressed tars (by magic bytes)."""
    with open(path, "rb") as fh:
        head = fh.read(6)
    return head.startswith((b"\x1f\x8b", b"BZh", b"\xfd7zXZ\x00"))


def _unsafe_reason(name: str) -> str | None:
    norm = name.replace("\\", "/")
    if norm.startswith("/") or re.match(r"^[A-Za-z]:", norm):
        return "absolute path"
    if ".." in norm.split("/"):
        return "'..' path component"
    return None


def _list_members(path: Path, fmt: str) -> list:
    """(name, size, is_regular_file, is_link) of every member."""
    if fmt == "zip":
        with zipfile.ZipFile(path) as zf:
            return [(i.filename, i.file_size, not i.is_dir(), False) for i in zf.infolist()]
    with tarfile.open(path, "r:*") as tf:
        return [(m.name, m.size, m.isfile(), m.issym() or m.islnk()) for m in tf.getmembers()]


def extract_speaker(archive_paths, out_root, speaker) -> dict:
    """Unpack GRID files of one speaker from archives into the normalised layout under ``out_root``.

    Members named ``<GRID id>.mpg|.mpeg`` go to ``out_root/sN/``, ``<id>.wav`` to
    ``out_root/audio_25k/sN/`` and ``<id>.align`` to ``out_root/alignments/sN/``, whatever folder
    they are stored in inside the archive; other members are ignored. Each file is written atomically;
    a file already in place with the member's size is skipped, so reruns are cheap.

    Parameters
    ----------
    archive_paths : str, Path or sequence of them
        Zip or tar archives (e.g. ``s1.mpg_vcd.zip`` and the audio/align ``s1.tar``).
    out_root : str or Path
        Output root; created if missing.
    speaker : int or str
        Speaker the archives belong to (1..34 or ``"s1"``).

    Returns
    -------
    dict
        ``extracted`` (files written), ``existing`` (already in place), ``ignored`` (members that are
        not GRID data files) and ``by_part`` (``{"video": n, "audio": n, "align": n}`` files now in
        place, extracted or existing).

    Raises
    ------
    DataError
        A member name is absolute or contains ``..`` (nothing is extracted from that archive), a folder
        names another speaker, or the archive is unreadable.
    FileNotFoundError
        An archive does not exist.
    """
    n = _check_speaker(speaker)
    spk = speaker_name(n)
    if isinstance(archive_paths, (str, os.PathLike)):
        archive_paths = [archive_paths]
    archive_paths = [Path(p) for p in archive_paths]
    if not archive_paths:
        raise ParameterError("archive_paths must name at least one archive")
    out_root = Path(out_root)
    counts = {"extracted": 0, "existing": 0, "ignored": 0, "by_part": {p: 0 for p in PARTS}}

    for path in archive_paths:
        fmt = _archive_format(path)
        try:
            members = _list_members(path, fmt)
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, OSError) as exc:
            raise DataError(f"cannot read {fmt} archive {path}: {exc}") from exc
        # validate every name first: an unsafe archive is rejected before anything is written
        plan = {}
        for name, size, is_file, is_link in members:
            reason = _unsafe_reason(name)
            if reason:
                raise DataError(f"refusing to extract {path}: member {name!r} has an {reason}")
            parts = [c for c in name.replace("\\", "/").split("/") if c not in ("", ".")]
            others = {c for c in parts[:-1] if re.fullmatch(r"s\d+", c) and c != spk}
            if others:
                raise DataError(f"archive {path} holds files of speaker {sorted(others)[0]} (member {name!r}), "
                                f"but was given as an archive of {spk}")
            if not parts or not is_file:
                if is_link:
                    log.warning("%s: ignoring link member %r", path, name)
                    counts["ignored"] += 1
                continue
            stem, ext = os.path.splitext(parts[-1])
            kind = _PART_BY_EXT.get(ext.lower())
            if kind is None or not is_valid_id(stem):
                counts["ignored"] += 1
                continue
            target = target_folder(out_root, n, kind) / f"{stem}{ext.lower()}"
            if target in plan:
                log.warning("%s: %r duplicates %r; keeping the first", path, name, plan[target][0])
                counts["ignored"] += 1
                continue
            plan[target] = (name, size, kind)

        def _write(target, size, src_open):
            if target.is_file() and target.stat().st_size == size:
                counts["existing"] += 1
                return
            with atomic_path(target) as tmp, src_open() as src, open(tmp, "wb") as dst:
                shutil.copyfileobj(src, dst, 1 << 20)
            counts["extracted"] += 1

        try:
            if fmt == "zip":
                with zipfile.ZipFile(path) as zf:
                    for target, (name, size, kind) in plan.items():
                        _write(target, size, lambda name=name: zf.open(name))
                        counts["by_part"][kind] += 1
            else:
                with tarfile.open(path, "r:*") as tf:
                    by_name = {m.name: m for m in tf.getmembers()}
                    for target, (name, size, kind) in plan.items():
                        _write(target, size, lambda name=name: tf.extractfile(by_name[name]))
                        counts["by_part"][kind] += 1
        except (zipfile.BadZipFile, tarfile.TarError, EOFError, zlib.error) as exc:
            raise DataError(f"cannot extract from {path}: {exc}") from exc
        log.info("%s: %d GRID files of %s in place (%d extracted), %d other members ignored",
                 path.name, len(plan), spk, counts["extracted"], counts["ignored"])
    return counts


# ---------------------------------------------------------------------------------------------- whole corpus
def _local_candidates(from_dir: Path, n: int, part: str) -> list:
    """Where ``--from-dir`` archives may be, in lookup order."""
    rel = ARCHIVE_PATHS[part].format(n=n)
    name = PurePosixPath(rel).name
    cands = [from_dir / rel, from_dir / part / name]
    if part == "video":
        cands.append(from_dir / name)
    else:
        cands.append(from_dir / f"s{n}_{part}.tar")
    return cands


def _count_files(folder: Path, part: str) -> int:
    if not folder.is_dir():
        return 0
    exts = [e for e, p in _PART_BY_EXT.items() if p == part]
    return sum(1 for p in folder.iterdir() if p.suffix in exts and is_valid_id(p.stem) and p.is_file())


def _load_manifest(path: Path) -> dict:
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if isinstance(data, dict) and isinstance(data.get("speakers"), dict):
                return data
            log.warning("%s has an unexpected structure; starting a new manifest", path)
        except (OSError, ValueError) as exc:
            log.warning("cannot read %s (%s); starting a new manifest", path, exc)
    return {"format": _MANIFEST_VERSION, "created": _now(), "speakers": {}}


def fetch_grid(out_root, speakers, *, base_url: str = DEFAULT_BASE_URL, parts=PARTS, from_dir=None,
               keep_archives: bool = True, progress: bool = True, retries: int = 3, timeout: float = 60) -> dict:
    """Download (or take from disk), verify and unpack GRID archives of ``speakers`` into ``out_root``.

    For each speaker and part: the archive is downloaded to ``out_root/archives/<part>/<name>`` (see
    :func:`download_file`; resumable) or looked up in ``from_dir``, checked with :func:`verify_archive`,
    unpacked with :func:`extract_speaker`, and recorded in ``out_root/download_manifest.json`` (written
    atomically after every part). A rerun skips pairs the manifest lists as done whose files are still in
    place, so an interrupted run simply continues. Speaker 21 has no video; its video part is skipped
    with a warning.

    Parameters
    ----------
    out_root : str or Path
        Output root: receives ``sN/*.mpg``, ``audio_25k/sN/*.wav``, ``alignments/sN/*.align``,
        ``archives/`` and the manifest.
    speakers : int, str or sequence of them
        Speakers 1..34 (``3`` or ``"s3"``); duplicates are dropped.
    base_url : str
        Server or mirror root with the relative paths of :data:`ARCHIVE_PATHS`.
    parts : sequence of {"video", "audio", "align"}
        Archives to fetch.
    from_dir : str or Path, optional
        Use archives already on disk instead of downloading; nothing is fetched over the network. For
        speaker ``N`` and part ``P`` the first existing path of ``from_dir/sN/P/<name>`` (the server's
        layout), ``from_dir/P/<name>``, or flat ``from_dir/sN.mpg_vcd.zip`` (video),
        ``from_dir/sN_audio.tar``, ``from_dir/sN_align.tar`` is used, where ``<name>`` is
        ``sN.mpg_vcd.zip`` for video and ``sN.tar`` for audio and align.
    keep_archives : bool
        Keep downloaded archives under ``out_root/archives`` (archives in ``from_dir`` are never deleted).
    progress : bool
        Show download progress bars.
    retries, timeout
        Passed to :func:`download_file`.

    Returns
    -------
    dict
        ``out_root``, ``manifest`` (path), ``items`` (one dict per speaker/part with ``speaker``,
        ``part``, ``action`` in {"downloaded", "local", "already-done", "unavailable"}, ``files`` and
        ``archive``), ``downloaded_bytes``.

    Raises
    ------
    DataError
        A download fails (after retries), an archive is corrupt or unsafe, or holds no files of its
        part; finished parts stay recorded so a rerun resumes.
    ParameterError
        Invalid arguments.
    FileNotFoundError
        ``from_dir`` does not exist or lacks an archive (the message lists the paths looked at).
    """
    if isinstance(speakers, (int, str)):
        speakers = [speakers]
    try:
        numbers = list(dict.fromkeys(_check_speaker(s) for s in speakers))
    except TypeError:
        raise ParameterError(f"speakers must be a speaker or a sequence of speakers, got {speakers!r}") from None
    if not numbers:
        raise ParameterError("speakers must name at least one speaker (1..34)")
    parts = _check_parts(parts)
    base_url = _check_base_url(base_url)
    if from_dir is not None:
        from_dir = Path(from_dir)
        if not from_dir.is_dir():
            raise FileNotFoundError(f"--from-dir folder not found: {from_dir}")
    out_root = Path(out_root)
    out_root.mkdir(parents=True, exist_ok=True)
    manifest_path = out_root / MANIFEST_NAME
    manifest = _load_manifest(manifest_path)
    if from_dir is None:
        manifest["base_url"] = base_url
    report = {"out_root": str(out_root), "manifest": str(manifest_path), "items": [], "downloaded_bytes": 0}

    def save():
        manifest["updated"] = _now()
        write_json_atomic(manifest_path, manifest)

    for n in numbers:
        spk = speaker_name(n)
        entries = manifest["speakers"].setdefault(spk, {})
        for part in parts:
            item = {"speaker": spk, "part": part, "action": None, "files": 0, "archive": None}
            report["items"].append(item)
            if part == "video" and n in SPEAKERS_WITHOUT_VIDEO:
                log.warning("GRID has no video for %s; skipping its video part", spk)
                item["action"] = "unavailable"
                entries[part] = {"status": "unavailable", "reason": f"GRID has no video for {spk}"}
                continue
            folder = target_folder(out_root, n, part)
            entry = entries.get(part) or {}
            if entry.get("status") == "done" and _count_files(folder, part) >= int(entry.get("files", 1)):
                log.info("%s %s: already done (%d files in %s)", spk, part, entry.get("files", 0), folder)
                item.update(action="already-done", files=entry.get("files", 0), archive=entry.get("archive"))
                continue

            url = grid_urls(n, base_url=base_url, parts=(part,))[part]
            name = PurePosixPath(ARCHIVE_PATHS[part].format(n=n)).name
            if from_dir is not None:
                cands = _local_candidates(from_dir, n, part)
                archive = next((c for c in cands if c.is_file()), None)
                if archive is None:
                    raise FileNotFoundError(f"no {part} archive of {spk} in {from_dir}; looked for "
                                            + ", ".join(str(c) for c in cands))
                info = {"size": archive.stat().st_size, "sha256": file_sha256(archive), "action": "local"}
                entry = {"source": str(archive), "url": None}
            else:
                archive = out_root / "archives" / part / name
                info = download_file(url, archive, progress=progress, retries=retries, timeout=timeout)
                report["downloaded_bytes"] += info["transferred"]
                entry = {"source": url, "url": url}
                if info["action"] == "downloaded":
                    entry["downloaded_at"] = _now()
            entry.update(archive=str(archive), size=info["size"], sha256=info["sha256"], status="downloaded")
            entries[part] = entry
            save()

            verify_archive(archive)
            counts = extract_speaker(archive, out_root, n)
            n_files = counts["by_part"][part]
            if n_files == 0:
                entry["status"] = "failed"
                save()
                ext = {"video": ".mpg", "audio": ".wav", "align": ".align"}[part]
                raise DataError(f"{part} archive {archive} holds no GRID {ext} files (expected names like bbaf2n{ext})")
            other = {p: c for p, c in counts["by_part"].items() if p != part and c}
            if other:
                log.warning("%s %s archive also held %s files; unpacked them too", spk, part, other)
            entry.update(status="done", files=n_files, extracted_at=_now())
            if from_dir is None and not keep_archives:
                archive.unlink()
                entry["archive"] = None
            save()
            item.update(action="downloaded" if from_dir is None else "local", files=n_files, archive=entry["archive"])
            log.info("%s %s: %d files in %s", spk, part, n_files, folder)
    save()
    return report

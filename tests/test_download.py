"""GRID downloader (lip2audspec.corpora.download, data_prep/download_grid.py) against a local HTTP server.

The server serves small fake GRID archives with the real names and URL paths, supports ``Range``
requests, and can be told to ignore ``Range``, answer 404, drop the connection half-way (once), stall
(for timeouts) and lie about ``Content-Length``; it records every request.
"""

from __future__ import annotations

import hashlib
import importlib.util
import io
import json
import os
import re
import subprocess
import sys
import tarfile
import threading
import time
import wave
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from lip2audspec.corpora import download as dl
from lip2audspec.corpora.grid import GridLayout, format_align, id_from_index
from lip2audspec.errors import DataError, ParameterError

ROOT = Path(__file__).resolve().parents[1]
IDS = [id_from_index(i) for i in (0, 1234, 40000)]  # bbaa... style ids


# ---------------------------------------------------------------------------------------------- fake archives
def _wav_bytes(n_samples=200) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(25000)
        w.writeframes(os.urandom(2 * n_samples))
    return buf.getvalue()


def _align_bytes() -> bytes:
    return format_align([(0, 10000, "sil"), (10000, 20000, "bin"), (20000, 75000, "sil")]).encode()


def _zip(path: Path, members: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_STORED) as zf:
        for name, data in members.items():
            zf.writestr(zipfile.ZipInfo(name), data)
    return path


def _tar(path: Path, members: dict) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w", format=tarfile.GNU_FORMAT) as tf:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            info.mtime = 1_000_000_000
            tf.addfile(info, io.BytesIO(data))
    return path


def make_server_tree(root: Path) -> Path:
    """Fake GRID distribution for s1, s2 (different internal folder conventions) and s21 (no video)."""
    # s1: the usual structure: video zip -> s1/*.mpg, audio tar -> s1/*.wav, align tar -> align/*.align
    _zip(root / "s1/video/s1.mpg_vcd.zip", {f"s1/{u}.mpg": os.urandom(40_000) for u in IDS})
    _tar(root / "s1/audio/s1.tar", {f"s1/{u}.wav": _wav_bytes() for u in IDS})
    _tar(root / "s1/align/s1.tar", {f"align/{u}.align": _align_bytes() for u in IDS})
    # s2: other conventions plus junk members that must be ignored
    video = {f"s2/video/mpg_6000/{u}.mpg": os.urandom(3000) for u in IDS[:2]}
    video.update({"s2/": b"", "__MACOSX/s2/._bbaa1a.mpg": b"junk", "s2/readme.txt": b"hello"})
    zf = _zip(root / "s2/video/s2.mpg_vcd.zip", {k: v for k, v in video.items() if k != "s2/"})
    assert zf.is_file()
    _tar(root / "s2/audio/s2.tar", {f"audio/s2/{u}.wav": _wav_bytes() for u in IDS[:2]})
    _tar(root / "s2/align/s2.tar", {f"s2/align/{u}.align": _align_bytes() for u in IDS[:2]})
    # s21: audio and alignments only
    _tar(root / "s21/audio/s21.tar", {f"s21/{IDS[0]}.wav": _wav_bytes()})
    _tar(root / "s21/align/s21.tar", {f"align/{IDS[0]}.align": _align_bytes()})
    return root


# ---------------------------------------------------------------------------------------------- server
class FaultyRangeHandler(BaseHTTPRequestHandler):
    """GET with Range support and fault injection controlled by attributes of ``self.server``."""

    def log_message(self, *args):  # keep pytest output clean
        pass

    def handle(self):
        try:
            super().handle()
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout tests)
            pass

    def do_GET(self):
        srv = self.server.ctl
        path = self.path.split("?", 1)[0]
        rng = self.headers.get("Range")
        with srv.lock:
            srv.requests.append((path, rng))
        if path in srv.not_found:
            self.send_error(404, "Not Found")
            return
        if srv.stall:
            time.sleep(srv.stall)
        f = srv.root / path.lstrip("/")
        if not f.is_file() or ".." in path:
            self.send_error(404, "Not Found")
            return
        data = f.read_bytes()
        start = 0
        m = re.fullmatch(r"bytes=(\d+)-", rng or "")
        if m and not srv.ignore_range:
            start = int(m.group(1))
            if start >= len(data):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(data)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        else:
            self.send_response(200)
        body = data[start:]
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(body) + srv.extra_length))
        self.send_header("Accept-Ranges", "bytes")
        self.end_headers()
        with srv.lock:
            truncate = path in srv.truncate_once
            srv.truncate_once.discard(path)
        if truncate:  # drop the connection half-way, once
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            return
        self.wfile.write(body)


class GridServer:
    def __init__(self, root: Path):
        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), FaultyRangeHandler)
        self.httpd.daemon_threads = True
        self.httpd.ctl = self  # the handler reads its settings from here
        self.root = root
        self.lock = threading.Lock()
        self.reset()
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"

    def reset(self):
        self.requests, self.not_found, self.truncate_once = [], set(), set()
        self.ignore_range, self.stall, self.extra_length = False, 0.0, 0

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture(scope="module")
def server_tree(tmp_path_factory):
    return make_server_tree(tmp_path_factory.mktemp("grid_server"))


@pytest.fixture(scope="module")
def _server(server_tree):
    srv = GridServer(server_tree)
    yield srv
    srv.close()


@pytest.fixture
def server(_server):
    _server.reset()
    yield _server
    _server.reset()


def _sha(path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


FAST = dict(progress=False, retries=0, timeout=5, backoff=0.0)


# ---------------------------------------------------------------------------------------------- urls, args
def test_grid_urls_default_and_mirror():
    urls = dl.grid_urls("s7")
    assert urls == {
        "video": "https://spandh.dcs.shef.ac.uk/gridcorpus/s7/video/s7.mpg_vcd.zip",
        "audio": "https://spandh.dcs.shef.ac.uk/gridcorpus/s7/audio/s7.tar",
        "align": "https://spandh.dcs.shef.ac.uk/gridcorpus/s7/align/s7.tar",
    }
    assert dl.grid_urls(34, base_url="http://mirror.example/grid/", parts=["align"]) == {
        "align": "http://mirror.example/grid/s34/align/s34.tar"}
    assert dl.archive_name(3, "video") == "s3.mpg_vcd.zip"


@pytest.mark.parametrize("kwargs, match", [
    (dict(speaker=0), "start at 1"), (dict(speaker=35), "s1 .. s34"), (dict(speaker="x3"), "speaker"),
    (dict(speaker=21), "no video for speaker s21"), (dict(speaker=1, parts=("mouth",)), "unknown part"),
    (dict(speaker=1, parts=()), "at least one"), (dict(speaker=1, base_url="ftp://x"), "http"),
])
def test_grid_urls_rejects(kwargs, match):
    kwargs = dict(kwargs)
    speaker = kwargs.pop("speaker")
    with pytest.raises(ParameterError, match=match):
        dl.grid_urls(speaker, **kwargs)


def test_grid_urls_speaker21_without_video():
    assert set(dl.grid_urls(21, parts=("audio", "align"))) == {"audio", "align"}


def test_download_file_rejects_bad_arguments(tmp_path):
    with pytest.raises(ParameterError, match="url"):
        dl.download_file("ftp://x/y", tmp_path / "y")
    with pytest.raises(ParameterError, match="sha256"):
        dl.download_file("http://127.0.0.1/y", tmp_path / "y", sha256="abc")
    with pytest.raises(ParameterError, match="expected_size"):
        dl.download_file("http://127.0.0.1/y", tmp_path / "y", expected_size=-1)


# ---------------------------------------------------------------------------------------------- download_file
def test_download_file_verifies_and_skips(server, server_tree, tmp_path):
    src = server_tree / "s1/video/s1.mpg_vcd.zip"
    dest = tmp_path / "a" / "s1.zip"
    r = dl.download_file(f"{server.url}/s1/video/s1.mpg_vcd.zip", dest, expected_size=src.stat().st_size,
                         sha256=_sha(src), chunk=4096, **FAST)
    assert dest.read_bytes() == src.read_bytes()
    assert r["action"] == "downloaded" and r["sha256"] == _sha(src) and r["transferred"] == src.stat().st_size
    assert not dest.with_name("s1.zip.part").exists()
    n = len(server.requests)
    r2 = dl.download_file(f"{server.url}/s1/video/s1.mpg_vcd.zip", dest, sha256=_sha(src), **FAST)
    assert r2["action"] == "skipped" and len(server.requests) == n


def test_resume_after_dropped_connection(server, server_tree, tmp_path):
    path = "/s1/video/s1.mpg_vcd.zip"
    src = (server_tree / path.lstrip("/")).read_bytes()
    dest = tmp_path / "s1.mpg_vcd.zip"
    part = tmp_path / "s1.mpg_vcd.zip.part"
    server.truncate_once.add(path)
    with pytest.raises(DataError, match="truncated.*rerun to resume"):
        dl.download_file(server.url + path, dest, chunk=4096, **FAST)
    assert not dest.exists()
    half = part.stat().st_size
    assert half == (len(src)) // 2 and part.read_bytes() == src[:half]
    r = dl.download_file(server.url + path, dest, chunk=4096, **FAST)
    assert server.requests[-1] == (path, f"bytes={half}-")
    assert r["resumed_from"] == half and r["transferred"] == len(src) - half
    assert dest.read_bytes() == src and not part.exists()


def test_resume_within_one_call_with_retry(server, server_tree, tmp_path):
    path = "/s1/audio/s1.tar"
    src = (server_tree / path.lstrip("/")).read_bytes()
    server.truncate_once.add(path)
    dest = tmp_path / "s1.tar"
    dl.download_file(server.url + path, dest, chunk=1000, progress=False, retries=2, backoff=0.0)
    assert [r for p, r in server.requests] == [None, f"bytes={len(src) // 2}-"]
    assert dest.read_bytes() == src


def test_server_ignoring_range_restarts_cleanly(server, server_tree, tmp_path):
    path = "/s1/align/s1.tar"
    src = (server_tree / path.lstrip("/")).read_bytes()
    dest = tmp_path / "s1.tar"
    dest.with_name("s1.tar.part").write_bytes(b"X" * 100)  # stale partial data
    server.ignore_range = True
    r = dl.download_file(server.url + path, dest, **FAST)
    assert server.requests == [(path, "bytes=100-")]
    assert dest.read_bytes() == src and r["resumed_from"] == 0


def test_complete_part_file_is_finished_via_416(server, server_tree, tmp_path):
    path = "/s1/align/s1.tar"
    src = (server_tree / path.lstrip("/")).read_bytes()
    dest = tmp_path / "s1.tar"
    dest.with_name("s1.tar.part").write_bytes(src)  # transfer done, rename never happened
    dl.download_file(server.url + path, dest, **FAST)
    assert dest.read_bytes() == src and server.requests == [(path, f"bytes={len(src)}-")]


def test_404_names_url(server, tmp_path):
    url = f"{server.url}/s1/video/s1.mpg_vcd.zip"
    server.not_found.add("/s1/video/s1.mpg_vcd.zip")
    with pytest.raises(DataError, match=re.escape(url) + ".*HTTP 404"):
        dl.download_file(url, tmp_path / "x.zip", **FAST)
    assert len(server.requests) == 1  # a client error is not retried
    assert not (tmp_path / "x.zip").exists()


def test_size_and_hash_mismatch(server, server_tree, tmp_path):
    path = "/s1/align/s1.tar"
    size = (server_tree / path.lstrip("/")).stat().st_size
    with pytest.raises(DataError, match=f"reports {size} bytes, expected {size + 1}"):
        dl.download_file(server.url + path, tmp_path / "a.tar", expected_size=size + 1, **FAST)
    with pytest.raises(DataError, match="sha256 is .* expected 0000"):
        dl.download_file(server.url + path, tmp_path / "b.tar", sha256="0" * 64, **FAST)
    assert not list(tmp_path.iterdir())  # neither a final file nor a .part is left


def test_existing_file_failing_verification_is_redownloaded(server, server_tree, tmp_path):
    path = "/s1/align/s1.tar"
    src = server_tree / path.lstrip("/")
    dest = tmp_path / "s1.tar"
    dest.write_bytes(b"garbage")
    dl.download_file(server.url + path, dest, sha256=_sha(src), **FAST)
    assert dest.read_bytes() == src.read_bytes() and len(server.requests) == 1


def test_announced_length_longer_than_body_is_truncation(server, tmp_path):
    server.extra_length = 10  # server promises 10 bytes it never sends
    with pytest.raises(DataError, match="truncated: got"):
        dl.download_file(f"{server.url}/s1/align/s1.tar", tmp_path / "s1.tar", **FAST)


def test_timeout_retries_then_fails(server, tmp_path):
    server.stall = 0.6
    t0 = time.perf_counter()
    with pytest.raises(DataError, match=r"after 2 attempt\(s\).*timed out"):
        dl.download_file(f"{server.url}/s1/align/s1.tar", tmp_path / "s1.tar", progress=False, retries=1,
                         timeout=0.2, backoff=0.0)
    assert len(server.requests) == 2 and time.perf_counter() - t0 < 5


def test_connection_refused_is_data_error(tmp_path):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(DataError, match=f"127.0.0.1:{port}.*cannot fetch"):
        dl.download_file(f"http://127.0.0.1:{port}/s1.tar", tmp_path / "s1.tar", **FAST)


# ---------------------------------------------------------------------------------------------- archives
def test_verify_archive_ok_and_corrupt(server_tree, tmp_path):
    assert dl.verify_archive(server_tree / "s1/video/s1.mpg_vcd.zip") == {"format": "zip", "members": 3, "files": 3}
    assert dl.verify_archive(server_tree / "s1/audio/s1.tar")["files"] == 3
    data = bytearray((server_tree / "s1/video/s1.mpg_vcd.zip").read_bytes())
    data[200:260] = bytes(60)  # inside the first member's data: CRC fails
    bad = tmp_path / "bad.zip"
    bad.write_bytes(bytes(data))
    with pytest.raises(DataError, match="corrupt zip.*CRC"):
        dl.verify_archive(bad)
    cut = tmp_path / "cut.zip"
    cut.write_bytes(bytes(data[: len(data) // 2]))  # central directory lost
    with pytest.raises(DataError, match="neither a zip nor a tar"):
        dl.verify_archive(cut)
    tar = (server_tree / "s1/audio/s1.tar").read_bytes()
    cut_tar = tmp_path / "cut.tar"
    cut_tar.write_bytes(tar[:1500])
    with pytest.raises(DataError, match="(truncated|corrupt) tar"):
        dl.verify_archive(cut_tar)
    with pytest.raises(FileNotFoundError):
        dl.verify_archive(tmp_path / "missing.zip")


@pytest.mark.parametrize("evil", ["../evil.align", "align/../../evil.align", "/tmp/evil.align"])
def test_path_traversal_rejected(tmp_path, evil):
    arch = _tar(tmp_path / "s1.tar", {f"align/{IDS[0]}.align": _align_bytes(), evil: _align_bytes()})
    out = tmp_path / "out"
    with pytest.raises(DataError, match="refusing to extract"):
        dl.extract_speaker(arch, out, 1)
    assert not out.exists() and not (tmp_path / "evil.align").exists()


def test_zip_traversal_rejected(tmp_path):
    arch = _zip(tmp_path / "s1.mpg_vcd.zip", {f"s1/{IDS[0]}.mpg": b"x", f"s1/../../{IDS[1]}.mpg": b"y"})
    with pytest.raises(DataError, match=r"'\.\.'"):
        dl.extract_speaker(arch, tmp_path / "out", "s1")
    assert not (tmp_path / "out").exists()


def test_wrong_speaker_archive_rejected(server_tree, tmp_path):
    with pytest.raises(DataError, match="holds files of speaker s2"):
        dl.extract_speaker(server_tree / "s2/video/s2.mpg_vcd.zip", tmp_path, 1)


def test_extract_normalises_and_is_idempotent(server_tree, tmp_path):
    archives = [server_tree / "s2/video/s2.mpg_vcd.zip", server_tree / "s2/audio/s2.tar", server_tree / "s2/align/s2.tar"]
    c = dl.extract_speaker(archives, tmp_path, 2)
    assert c["by_part"] == {"video": 2, "audio": 2, "align": 2} and c["extracted"] == 6 and c["ignored"] == 2
    assert sorted(p.name for p in (tmp_path / "s2").iterdir()) == sorted(f"{u}.mpg" for u in IDS[:2])
    assert sorted(p.name for p in (tmp_path / "audio_25k/s2").iterdir()) == sorted(f"{u}.wav" for u in IDS[:2])
    assert sorted(p.name for p in (tmp_path / "alignments/s2").iterdir()) == sorted(f"{u}.align" for u in IDS[:2])
    c2 = dl.extract_speaker(archives, tmp_path, 2)
    assert c2["extracted"] == 0 and c2["existing"] == 6


# ---------------------------------------------------------------------------------------------- fetch_grid
def test_fetch_grid_full_layout_manifest_and_noop_rerun(server, server_tree, tmp_path):
    out = tmp_path / "grid"
    rep = dl.fetch_grid(out, [1, "s2"], base_url=server.url + "/", progress=False, retries=0)
    assert [(i["speaker"], i["part"], i["action"]) for i in rep["items"]] == [
        (s, p, "downloaded") for s in ("s1", "s2") for p in ("video", "audio", "align")]
    assert len(server.requests) == 6
    layout = GridLayout.discover(out)
    assert layout.speakers == ["s1", "s2"]
    full = ("video", "audio", "align")
    assert layout.utterances("s1", require=full) == sorted(IDS)
    assert layout.utterances("s2", require=full) == sorted(IDS[:2])
    assert layout.folder("audio", "s1") == out / "audio_25k" / "s1"
    assert layout.folder("align", "s2") == out / "alignments" / "s2"
    clip = layout.clip_paths("s1", IDS[0])
    with zipfile.ZipFile(server_tree / "s1/video/s1.mpg_vcd.zip") as zf:
        assert clip.video.read_bytes() == zf.read(f"s1/{IDS[0]}.mpg")

    man = json.loads((out / dl.MANIFEST_NAME).read_text())
    e = man["speakers"]["s1"]["video"]
    src = server_tree / "s1/video/s1.mpg_vcd.zip"
    assert e["status"] == "done" and e["files"] == 3 and e["url"] == f"{server.url}/s1/video/s1.mpg_vcd.zip"
    assert e["size"] == src.stat().st_size and e["sha256"] == _sha(src) and "extracted_at" in e
    assert Path(e["archive"]).read_bytes() == src.read_bytes()

    rep2 = dl.fetch_grid(out, [1, 2], base_url=server.url, progress=False, retries=0)
    assert len(server.requests) == 6 and rep2["downloaded_bytes"] == 0
    assert {i["action"] for i in rep2["items"]} == {"already-done"}

    # lost extracted files are restored from the kept archive, still without downloading
    for f in (out / "alignments" / "s2").iterdir():
        f.unlink()
    rep3 = dl.fetch_grid(out, [2], base_url=server.url, parts=["align"], progress=False, retries=0)
    assert rep3["items"][0]["action"] == "downloaded" and rep3["downloaded_bytes"] == 0
    assert len(server.requests) == 6
    assert GridLayout.discover(out).utterances("s2", require=full) == sorted(IDS[:2])


def test_fetch_grid_resumes_after_failure(server, tmp_path):
    out = tmp_path / "grid"
    server.truncate_once.add("/s1/audio/s1.tar")
    with pytest.raises(DataError, match="s1/audio/s1.tar"):
        dl.fetch_grid(out, 1, base_url=server.url, progress=False, retries=0)
    man = json.loads((out / dl.MANIFEST_NAME).read_text())
    assert man["speakers"]["s1"]["video"]["status"] == "done" and "audio" not in man["speakers"]["s1"]
    assert (out / "archives/audio/s1.tar.part").is_file()
    n = len(server.requests)
    rep = dl.fetch_grid(out, 1, base_url=server.url, progress=False, retries=0)
    assert [i["action"] for i in rep["items"]] == ["already-done", "downloaded", "downloaded"]
    assert server.requests[n][1] is not None and server.requests[n][1].startswith("bytes=")  # Range resume
    assert len(server.requests) == n + 2


def test_fetch_grid_no_keep_archives_and_speaker21(server, tmp_path):
    out = tmp_path / "grid"
    rep = dl.fetch_grid(out, [21], base_url=server.url, keep_archives=False, progress=False, retries=0)
    assert [(i["part"], i["action"]) for i in rep["items"]] == [
        ("video", "unavailable"), ("audio", "downloaded"), ("align", "downloaded")]
    assert not any(p.is_file() for p in (out / "archives").rglob("*"))
    assert all("/s21/video/" not in p for p, _ in server.requests)
    layout = GridLayout.discover(out)
    assert layout.utterances("s21", require=("audio", "align")) == [IDS[0]]


def test_fetch_grid_from_dir_without_server(server_tree, tmp_path):
    # mixed conventions: server layout for s1, per-part folders and flat names for s2
    src = tmp_path / "downloads"
    for rel in ("s1/video/s1.mpg_vcd.zip", "s1/audio/s1.tar", "s1/align/s1.tar"):
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        (src / rel).write_bytes((server_tree / rel).read_bytes())
    (src / "video").mkdir()
    (src / "video/s2.mpg_vcd.zip").write_bytes((server_tree / "s2/video/s2.mpg_vcd.zip").read_bytes())
    (src / "s2_audio.tar").write_bytes((server_tree / "s2/audio/s2.tar").read_bytes())
    (src / "s2_align.tar").write_bytes((server_tree / "s2/align/s2.tar").read_bytes())
    out = tmp_path / "grid"
    rep = dl.fetch_grid(out, [1, 2], base_url="http://127.0.0.1:9/unreachable", from_dir=src, keep_archives=False,
                        progress=False)
    assert {i["action"] for i in rep["items"]} == {"local"}
    layout = GridLayout.discover(out)
    assert layout.utterances("s1", require=("video", "audio", "align")) == sorted(IDS)
    assert layout.utterances("s2", require=("video", "audio", "align")) == sorted(IDS[:2])
    assert (src / "s2_audio.tar").is_file()  # user archives are never deleted
    assert not (out / "archives").exists()
    with pytest.raises(FileNotFoundError, match="no video archive of s3 .*s3.mpg_vcd.zip"):
        dl.fetch_grid(out, [3], from_dir=src, progress=False)


def test_fetch_grid_rejects_wrong_content(tmp_path):
    src = tmp_path / "downloads"
    _tar(src / "align/s1.tar", {"readme.txt": b"no alignments here"})
    with pytest.raises(DataError, match="holds no GRID .align files"):
        dl.fetch_grid(tmp_path / "grid", 1, parts=["align"], from_dir=src, progress=False)
    (src / "video").mkdir()
    (src / "video/s1.mpg_vcd.zip").write_bytes(b"<html>not found</html>")
    with pytest.raises(DataError, match="neither a zip nor a tar"):
        dl.fetch_grid(tmp_path / "grid", 1, parts=["video"], from_dir=src, progress=False)


def test_fetch_grid_argument_errors(tmp_path):
    with pytest.raises(ParameterError, match="s1 .. s34"):
        dl.fetch_grid(tmp_path, [1, 40])
    with pytest.raises(ParameterError, match="unknown part"):
        dl.fetch_grid(tmp_path, [1], parts=["video", "lips"])
    with pytest.raises(FileNotFoundError, match="from-dir"):
        dl.fetch_grid(tmp_path, [1], from_dir=tmp_path / "nope")


# ---------------------------------------------------------------------------------------------- CLI
def _load_cli():
    spec = importlib.util.spec_from_file_location("download_grid_cli", ROOT / "data_prep" / "download_grid.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_cli_main(server, tmp_path, capsys):
    cli = _load_cli()
    out = tmp_path / "grid"
    rc = cli.main(["--speakers", "1", "s2", "--out", str(out), "--parts", "audio", "align",
                   "--base-url", server.url, "--no-progress", "--no-keep-archives", "--retries", "0"])
    assert rc == 0
    text = capsys.readouterr().out
    assert "s1 audio" in text and "manifest" in text
    layout = GridLayout.discover(out)
    assert layout.utterances("s1", require=("audio", "align")) == sorted(IDS)
    assert not (out / "s1").exists()  # no video requested

    server.not_found.add("/s1/video/s1.mpg_vcd.zip")
    rc = cli.main(["--speakers", "1", "--out", str(out), "--base-url", server.url, "--no-progress", "--retries", "0"])
    err = capsys.readouterr().err
    assert rc == 2 and "HTTP 404" in err and "s1/video/s1.mpg_vcd.zip" in err
    assert cli.main(["--speakers", "99", "--out", str(out), "--no-progress"]) == 2
    assert "s1 .. s34" in capsys.readouterr().err


def test_cli_script_runs_from_repo_root():
    res = subprocess.run([sys.executable, "data_prep/download_grid.py", "--help"], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert res.returncode == 0 and "--from-dir" in res.stdout and "--base-url" in res.stdout

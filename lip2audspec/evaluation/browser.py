"""Render an HTML page to PNG with headless Chromium (to check the evaluation report as a browser shows it).

Install on Debian/Ubuntu with ``apt-get update && apt-get install -y chromium`` (about 150 MB of packages).
:func:`find_chromium` returns ``None`` where it is missing, so tests can skip.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from ..errors import DataError, ParameterError
from ..fileio import atomic_path

__all__ = ["find_chromium", "screenshot"]

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")


def find_chromium() -> str | None:
    """Path of a Chromium/Chrome executable: ``$LIP2AUDSPEC_CHROMIUM``, ``/usr/bin/chromium`` or one of the
    usual names on ``PATH``; ``None`` if there is none."""
    env = os.environ.get("LIP2AUDSPEC_CHROMIUM")
    if env and os.access(env, os.X_OK):
        return env
    if os.access("/usr/bin/chromium", os.X_OK):
        return "/usr/bin/chromium"
    for name in _CANDIDATES:
        p = shutil.which(name)
        if p:
            return p
    return None


def screenshot(html_path, png_path, *, width: int = 1280, height: int = 2000, timeout: float = 90.0,
               chromium: str | None = None) -> Path:
    """Render ``html_path`` in headless Chromium and save a ``width`` x ``height`` PNG to ``png_path``.

    The browser runs with a throw-away profile, no sandbox (so it works as root in containers), no GPU
    and no network services (no QUIC, sync, component updates or background networking); the page is
    opened as a ``file://`` URL, so relative links (images, audio) resolve against its folder.

    Returns
    -------
    Path
        ``png_path``, written atomically.

    Raises
    ------
    ParameterError
        ``html_path`` is missing or the size is not positive.
    DataError
        No Chromium found, or it failed / timed out / wrote no image.
    """
    html_path = Path(html_path).resolve()
    png_path = Path(png_path)
    if not html_path.is_file():
        raise ParameterError(f"HTML file not found: {html_path}")
    for name, v in (("width", width), ("height", height)):
        if isinstance(v, bool) or not isinstance(v, int) or v <= 0:
            raise ParameterError(f"{name} must be a positive integer, got {v!r}")
    exe = chromium or find_chromium()
    if exe is None:
        raise DataError("Chromium not found; install it with `apt-get update && apt-get install -y chromium` "
                        "or set LIP2AUDSPEC_CHROMIUM")
    with tempfile.TemporaryDirectory(prefix="l2a-chromium.") as profile, atomic_path(png_path, suffix=".png") as tmp:
        cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync",
               "--disable-dev-shm-usage", "--hide-scrollbars", "--mute-audio", f"--user-data-dir={profile}",
               f"--screenshot={tmp}", f"--window-size={width},{height}", html_path.as_uri()]
        try:
            proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                  timeout=timeout, text=True, errors="replace")
        except subprocess.TimeoutExpired:
            raise DataError(f"Chromium did not finish within {timeout} s rendering {html_path}") from None
        except OSError as exc:
            raise DataError(f"could not run Chromium ({exe}): {exc}") from None
        if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            tail = (proc.stderr or "").strip().splitlines()[-8:]
            raise DataError(f"Chromium failed (exit {proc.returncode}) rendering {html_path}:\n" + "\n".join(tail))
    return png_path

"""Where clip files and collect manifests live: a folder, or an fsspec URL such as
``s3://bucket/prefix`` that every collect worker and the web app can reach.

Written so no reader ever sees half a file: in a folder, a temporary name renamed into place;
on an object store, one PUT (an object appears whole or not at all). Credentials are never part
of the URL: s3fs reads them where it runs (``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_ENDPOINT_URL_S3``, an instance role…), so no secret becomes a flow parameter.
"""

from __future__ import annotations

import io
import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO
from urllib.parse import urlsplit

from crowdscribe.errors import InvalidInput

STALE_TMP_S = 600.0
ORPHAN_TMP_S = 60.0


def is_url(location: str) -> bool:
    """Whether ``location`` names a file through a protocol (``s3://…``), not a local path."""
    return "://" in location and not location.startswith("file://")


def _local_path(location: str) -> str:
    return os.path.abspath(os.path.expanduser(location.removeprefix("file://")))


class ClipStore:
    """One place clip files and manifests are written to and read from, by name."""

    def __init__(self, url: str | Path) -> None:
        url = str(url)
        self.is_local = not is_url(url)
        if self.is_local:
            # fsspec stays unimported for a folder: it adds 8 MiB to a collect worker's peak.
            self.root = self.url = _local_path(url)  # absolute, no trailing "/"
            return
        if urlsplit(url).password is not None:
            raise InvalidInput(
                "the clips URL must not hold credentials; give them to the workers "
                "in their environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)"
            )
        import fsspec

        try:
            self.fs, root = fsspec.core.url_to_fs(url)
        except (ImportError, ValueError) as error:
            raise InvalidInput(f"cannot store clips at {url}: {error}") from None
        self.root = root.rstrip("/")
        self.url = self.fs.unstrip_protocol(self.root)

    def location(self, name: str) -> str:
        """Where ``name`` is: an absolute local path, or the object's URL."""
        return self.url + "/" + name

    def exists(self, name: str) -> bool:
        """Whether ``name`` is already stored (clips named by content are written once)."""
        if self.is_local:
            return os.path.exists(f"{self.root}/{name}")
        return self.fs.exists(f"{self.root}/{name}")

    def write(self, name: str, fill: Callable[[str | BinaryIO], None]) -> str:
        """Store what ``fill`` writes (to a local path, or to a file object for a remote store)
        as ``name``, whole or not at all; returns its location."""
        path = f"{self.root}/{name}"
        if not self.is_local:
            buffer = io.BytesIO()
            fill(buffer)
            self.fs.pipe_file(path, buffer.getvalue())
            return self.location(name)
        target = Path(path)
        target.parent.mkdir(parents=True, exist_ok=True)
        # Unique per writer: two copies of one recording in a batch write the same clip at once
        # from two threads of one process. The pid stays last, for remove_stale_temporaries.
        temporary = target.with_name(f".{target.stem}.{secrets.token_hex(4)}.{os.getpid()}.tmp")
        try:
            fill(str(temporary))
            os.replace(temporary, target)
        finally:
            temporary.unlink(missing_ok=True)
        return str(target)

    def write_bytes(self, name: str, data: bytes) -> str:
        """Store ``data`` as ``name``, whole or not at all; returns its location."""
        return self.write(name, lambda target: _put(target, data))

    def scratch_dir(self) -> Path:
        """A local folder for a recording's temporary 16 kHz signal: the clips folder itself
        when it is local (same disk), else the system's temporary folder."""
        if self.is_local:
            Path(self.root).mkdir(parents=True, exist_ok=True)
            return Path(self.root)
        return Path(tempfile.gettempdir())

    def remove_stale_temporaries(self, *, now_s: float) -> list[str]:
        """Delete half-written files a killed run left in a local clips folder; returns them.

        A temporary file is stale when untouched for ``STALE_TMP_S``, or for ``ORPHAN_TMP_S``
        once its writer (the pid in its name) is gone from this machine. An object store keeps
        no half-written objects (one PUT per file), so there is nothing to remove there.
        """
        if not self.is_local:
            return []
        removed = []
        for path in Path(self.root).glob("**/.*.tmp"):
            try:
                age_s = now_s - path.stat().st_mtime
            except FileNotFoundError:
                continue  # its writer just renamed it into place
            pid = path.name.rsplit(".", 2)[-2]
            orphan = pid.isdigit() and not _process_alive(int(pid))
            if age_s >= STALE_TMP_S or (orphan and age_s >= ORPHAN_TMP_S):
                path.unlink(missing_ok=True)
                removed.append(str(path))
        return removed


def clip_location(home: Path, audio_path: str) -> str:
    """A clip's stored ``audio_path`` as a location to open: URLs as they are, local paths
    made absolute under the data ``home`` (clips in the home are stored relative to it)."""
    if is_url(audio_path):
        return audio_path
    return str(Path(home) / audio_path)


def stored_clip_path(home: Path, location: str) -> str:
    """What the database keeps for a clip at ``location``: relative to the data ``home`` when
    it lies inside it (the home can move), else the absolute path or the URL."""
    if is_url(location):
        return location
    path, home = Path(location).resolve(), Path(home).resolve()
    return str(path.relative_to(home)) if path.is_relative_to(home) else str(path)


def clip_exists(location: str) -> bool:
    """Whether the clip file at ``location`` (a path or URL) is there to be read."""
    if not is_url(location):
        return Path(location).is_file()
    import fsspec

    fs, path = fsspec.core.url_to_fs(location)
    return fs.isfile(path)


def open_clip(location: str) -> BinaryIO:
    """The clip file at ``location`` (a path or URL), open for reading bytes."""
    if not is_url(location):
        return open(location, "rb")  # noqa: SIM115 - the caller closes it
    import fsspec

    return fsspec.open(location, "rb").open()


def _put(target: str | BinaryIO, data: bytes) -> None:
    if isinstance(target, str):
        Path(target).write_bytes(data)
    else:
        target.write(data)


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True

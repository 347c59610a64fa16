"""I/O half of the HF hub client: ``urllib`` requests and atomic writes into the shared cache layout.

All decisions (URLs, paths, what a status means) come from :mod:`.hub`; this module only moves bytes.
The token is sent as a bearer header to the hub's own host only (never to the CDN a 302 points at), and
is never put into logs or exception messages.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
from collections.abc import Mapping
from http.client import HTTPException, HTTPResponse
from pathlib import Path

from ..errors import ProtocolError
from ..utils.files import atomic_write_bytes
from .hub import (
    EntryNotFoundError,
    FileMetadata,
    HubError,
    HubSettings,
    NotCachedError,
    blob_path,
    classify_response,
    is_commit,
    is_sha256,
    no_exist_path,
    refs_path,
    resolve_url,
    settings_from_env,
    snapshot_path,
)

__all__ = ["cached_file", "hub_download"]

_USER_AGENT = "tinkerlite-hub/0.1"
_MAX_REDIRECTS = 5
_CHUNK = 1 << 20


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """Hand 3xx back to us: urllib would forward Authorization to the CDN and hide the hub's headers."""

    def redirect_request(self, *args: object, **kwargs: object) -> None:
        return None


_OPENER = urllib.request.build_opener(_NoRedirect())


def _token(settings: HubSettings) -> str | None:
    if settings.token:
        return settings.token
    if settings.token_path is not None:
        with contextlib.suppress(OSError):
            text = settings.token_path.read_text(encoding="utf-8").strip()
            return text or None
    return None


def _open(url: str, *, method: str, token: str | None, endpoint: str, timeout: float) -> HTTPResponse:
    headers = {"User-Agent": _USER_AGENT, "Accept-Encoding": "identity"}
    if token and urllib.parse.urlsplit(url).netloc == urllib.parse.urlsplit(endpoint).netloc:
        headers["Authorization"] = f"Bearer {token}"
    req = urllib.request.Request(url, method=method, headers=headers)
    try:
        resp: HTTPResponse = _OPENER.open(req, timeout=timeout)
    except urllib.error.HTTPError as err:  # 3xx/4xx/5xx still carry the headers we classify
        return err  # type: ignore[return-value]
    return resp


def cached_file(
    repo_id: str, filename: str, revision: str = "main", *, settings: HubSettings | None = None
) -> Path | None:
    """The cached copy of a file, or None. Raises EntryNotFoundError if the cache recorded a 404."""
    s = settings or settings_from_env(os.environ)
    commit: str | None = revision if is_commit(revision) else None
    if commit is None:
        ref = refs_path(s.cache_dir, repo_id, revision)
        with contextlib.suppress(OSError):
            commit = ref.read_text(encoding="utf-8").strip() or None
    if commit is None:
        return None
    path = snapshot_path(s.cache_dir, repo_id, commit, filename)
    if path.is_file():
        return path
    if no_exist_path(s.cache_dir, repo_id, commit, filename).exists():
        raise EntryNotFoundError(f"no file {filename!r} in {repo_id!r} at revision {revision!r} (cached 404)")
    return None


def _metadata(
    url: str, s: HubSettings, token: str | None, *, repo_id: str, filename: str, revision: str, timeout: float
) -> FileMetadata:
    for _ in range(_MAX_REDIRECTS + 1):
        resp = _open(url, method="HEAD", token=token, endpoint=s.endpoint, timeout=timeout)
        with contextlib.closing(resp):
            outcome = classify_response(
                resp.status,
                dict(resp.headers.items()),
                url=url,
                repo_id=repo_id,
                filename=filename,
                revision=revision,
            )
        if outcome.kind == "redirect" and outcome.location:
            url = outcome.location
            continue
        if outcome.kind == "found" and outcome.metadata is not None:
            return outcome.metadata
        assert outcome.error is not None
        commit = resp.headers.get("X-Repo-Commit")
        if isinstance(outcome.error, EntryNotFoundError) and commit and is_commit(commit):
            if not is_commit(revision):
                _write_text_atomic(refs_path(s.cache_dir, repo_id, revision), commit)
            record_missing(repo_id, filename, commit, settings=s)
        raise outcome.error
    raise HubError(f"too many redirects resolving {filename!r} in {repo_id!r}")


def _download_to(
    dest: Path,
    url: str,
    s: HubSettings,
    token: str | None,
    meta: FileMetadata,
    *,
    repo_id: str,
    filename: str,
    revision: str,
    timeout: float,
) -> None:
    """Stream into a temp file next to ``dest`` and ``os.replace`` it: readers never see a partial file."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    for _ in range(_MAX_REDIRECTS + 1):
        resp = _open(url, method="GET", token=token, endpoint=s.endpoint, timeout=timeout)
        if resp.status in (301, 302, 303, 307, 308):
            with contextlib.closing(resp):
                location = resp.headers.get("Location")
            if not location:
                raise HubError(f"redirect without Location downloading {filename!r} from {repo_id!r}")
            url = urllib.parse.urljoin(url, location)
            continue
        if resp.status != 200:
            with contextlib.closing(resp):
                outcome = classify_response(
                    resp.status,
                    dict(resp.headers.items()),
                    url=url,
                    repo_id=repo_id,
                    filename=filename,
                    revision=revision,
                )
            raise outcome.error or HubError(f"HTTP {resp.status} downloading {filename!r} from {repo_id!r}")
        break
    else:
        raise HubError(f"too many redirects downloading {filename!r} from {repo_id!r}")
    fd, tmp_name = tempfile.mkstemp(prefix=f".{dest.name}.", suffix=".incomplete", dir=dest.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        size = 0
        with contextlib.closing(resp), os.fdopen(fd, "wb") as out:
            while True:
                chunk = resp.read(_CHUNK)
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
            out.flush()
            os.fsync(out.fileno())
        if meta.size is not None and size != meta.size:
            raise ProtocolError(f"download of {filename!r} from {repo_id!r} is {size} bytes, hub said {meta.size}")
        if meta.etag and is_sha256(meta.etag) and digest.hexdigest() != meta.etag:
            raise ProtocolError(f"sha256 of {filename!r} from {repo_id!r} does not match the hub's etag")
        os.replace(tmp, dest)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise


def _link(snapshot: Path, blob: Path) -> None:
    snapshot.parent.mkdir(parents=True, exist_ok=True)
    tmp = snapshot.with_name(f".{snapshot.name}.{os.getpid()}.link")
    with contextlib.suppress(OSError):
        tmp.unlink()
    try:
        os.symlink(os.path.relpath(blob, snapshot.parent), tmp)
    except OSError:  # no symlinks (Windows without developer mode): copy, still atomically
        shutil.copyfile(blob, tmp)
    os.replace(tmp, snapshot)


def _write_text_atomic(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def hub_download(
    repo_id: str,
    filename: str,
    revision: str = "main",
    *,
    settings: HubSettings | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 30.0,
) -> Path:
    """Path of ``filename`` from a hub repo, downloading into the HF cache if needed.

    A pinned commit already in the cache costs no request. A branch costs one HEAD (to learn its
    current commit), as with ``huggingface_hub``; if the network is unreachable the cached copy is used.
    """
    s = settings or settings_from_env(env if env is not None else os.environ)
    if is_commit(revision):
        hit = cached_file(repo_id, filename, revision, settings=s)
        if hit is not None:
            return hit
    if s.offline:
        hit = cached_file(repo_id, filename, revision, settings=s)
        if hit is not None:
            return hit
        raise NotCachedError(
            f"HF_HUB_OFFLINE is set and {filename!r} of {repo_id!r} (revision {revision!r}) is not in the "
            f"cache at {s.cache_dir}; download it once with network access"
        )
    token = _token(s)
    url = resolve_url(s.endpoint, repo_id, revision, filename)
    try:
        meta = _metadata(url, s, token, repo_id=repo_id, filename=filename, revision=revision, timeout=timeout)
    except HubError:  # an answer from the hub (some HubErrors are OSErrors: keep them out of the next clause)
        raise
    except (urllib.error.URLError, HTTPException, OSError) as exc:
        hit = cached_file(repo_id, filename, revision, settings=s)
        if hit is not None:
            warnings.warn(f"hub unreachable ({type(exc).__name__}); using cached {hit}", stacklevel=2)
            return hit
        raise NotCachedError(
            f"cannot reach {s.endpoint} ({type(exc).__name__}: {getattr(exc, 'reason', exc)}) and "
            f"{filename!r} of {repo_id!r} is not cached"
        ) from None
    commit = meta.commit or (revision if is_commit(revision) else None)
    if commit is None or not is_commit(commit):
        raise ProtocolError(f"hub response for {filename!r} in {repo_id!r} has no X-Repo-Commit header")
    if meta.etag is None:
        raise ProtocolError(f"hub response for {filename!r} in {repo_id!r} has no ETag")
    if not is_commit(revision) and revision != commit:
        _write_text_atomic(refs_path(s.cache_dir, repo_id, revision), commit)
    snap = snapshot_path(s.cache_dir, repo_id, commit, filename)
    if snap.is_file():
        return snap
    blob = blob_path(s.cache_dir, repo_id, meta.etag)
    if not blob.is_file():
        _download_to(
            blob, meta.location, s, token, meta, repo_id=repo_id, filename=filename, revision=revision, timeout=timeout
        )
    _link(snap, blob)
    return snap


def record_missing(repo_id: str, filename: str, commit: str, *, settings: HubSettings) -> None:
    """Remember a 404 (as huggingface_hub does) so offline runs know the file does not exist."""
    path = no_exist_path(settings.cache_dir, repo_id, commit, filename)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.touch()

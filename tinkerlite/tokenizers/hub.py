"""Sans-IO half of the HF hub client: settings, URLs, cache layout and response classification.

The cache layout is ``huggingface_hub``'s, so either tool reuses the other's downloads::

    $HF_HUB_CACHE/models--org--name/blobs/<etag>
    $HF_HUB_CACHE/models--org--name/snapshots/<commit>/<file>  -> ../../blobs/<etag>
    $HF_HUB_CACHE/models--org--name/refs/<branch>              (text: the commit)
    $HF_HUB_CACHE/models--org--name/.no_exist/<commit>/<file>  (empty: the hub said 404)
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import ProtocolError, TinkerliteError, ValidationError

__all__ = [
    "DEFAULT_ENDPOINT",
    "EntryNotFoundError",
    "FileMetadata",
    "GatedRepoError",
    "HubError",
    "HubSettings",
    "NotCachedError",
    "Outcome",
    "RepoNotFoundError",
    "RevisionNotFoundError",
    "blob_path",
    "classify_response",
    "is_commit",
    "no_exist_path",
    "normalize_etag",
    "refs_path",
    "repo_folder",
    "resolve_url",
    "settings_from_env",
    "snapshot_path",
    "validate_repo_id",
]

DEFAULT_ENDPOINT = "https://huggingface.co"
_COMMIT_RE = re.compile(r"^[0-9a-f]{40}$")
_REPO_ID_RE = re.compile(r"^[A-Za-z0-9][\w.\-]*(/[\w.\-]+)?$")
_SHA256_RE = re.compile(r"^[0-9a-f]{64}$")
_TRUE = {"1", "true", "yes", "on"}


class HubError(TinkerliteError):
    """The hub (or the local cache standing in for it) could not provide a file."""


class RepoNotFoundError(HubError):
    pass


class RevisionNotFoundError(HubError):
    pass


class EntryNotFoundError(HubError, FileNotFoundError):
    pass


class GatedRepoError(HubError, PermissionError):
    pass


class NotCachedError(HubError, FileNotFoundError):
    """Offline (``HF_HUB_OFFLINE=1`` or no network) and the file is not in the cache."""


@dataclass(frozen=True)
class HubSettings:
    endpoint: str
    cache_dir: Path
    offline: bool
    token: str | None = None
    token_path: Path | None = None

    def __repr__(self) -> str:  # never show the token
        return (
            f"HubSettings(endpoint={self.endpoint!r}, cache_dir={str(self.cache_dir)!r}, "
            f"offline={self.offline}, token={'set' if self.token else None})"
        )


def settings_from_env(env: Mapping[str, str]) -> HubSettings:
    """Same variables and precedence as ``huggingface_hub``."""
    home = Path(os.path.expanduser(env.get("XDG_CACHE_HOME") or "~/.cache")) / "huggingface"
    if env.get("HF_HOME"):
        home = Path(os.path.expanduser(env["HF_HOME"]))
    cache = env.get("HF_HUB_CACHE") or env.get("HUGGINGFACE_HUB_CACHE")
    token_path = Path(os.path.expanduser(env["HF_TOKEN_PATH"])) if env.get("HF_TOKEN_PATH") else home / "token"
    token = env.get("HF_TOKEN") or env.get("HUGGING_FACE_HUB_TOKEN") or None
    return HubSettings(
        endpoint=(env.get("HF_ENDPOINT") or DEFAULT_ENDPOINT).rstrip("/"),
        cache_dir=Path(os.path.expanduser(cache)) if cache else home / "hub",
        offline=(env.get("HF_HUB_OFFLINE") or "").strip().lower() in _TRUE,
        token=token.strip() if token else None,
        token_path=token_path,
    )


def is_commit(revision: str) -> bool:
    return bool(_COMMIT_RE.match(revision))


def validate_repo_id(repo_id: str) -> str:
    if not _REPO_ID_RE.match(repo_id) or ".." in repo_id or repo_id.endswith((".", "-")):
        raise ValidationError(f"not a hub repo id: {repo_id!r} (expected 'org/name')", field="repo_id")
    return repo_id


def _validate_filename(filename: str) -> str:
    parts = filename.split("/")
    if not filename or filename.startswith("/") or any(p in ("", ".", "..") for p in parts):
        raise ValidationError(f"bad file name in repo: {filename!r}", field="filename")
    return filename


def resolve_url(endpoint: str, repo_id: str, revision: str, filename: str) -> str:
    """``{endpoint}/{repo}/resolve/{revision}/{file}`` with the revision quoted as one path segment."""
    validate_repo_id(repo_id)
    _validate_filename(filename)
    rev = urllib.parse.quote(revision, safe="")
    return f"{endpoint.rstrip('/')}/{repo_id}/resolve/{rev}/{urllib.parse.quote(filename)}"


def repo_folder(cache_dir: Path, repo_id: str) -> Path:
    return cache_dir / ("models--" + validate_repo_id(repo_id).replace("/", "--"))


def snapshot_path(cache_dir: Path, repo_id: str, commit: str, filename: str) -> Path:
    return repo_folder(cache_dir, repo_id) / "snapshots" / commit / _validate_filename(filename)


def blob_path(cache_dir: Path, repo_id: str, etag: str) -> Path:
    if not etag or "/" in etag or etag.startswith("."):
        raise ProtocolError(f"unusable etag from hub: {etag!r}")
    return repo_folder(cache_dir, repo_id) / "blobs" / etag


def refs_path(cache_dir: Path, repo_id: str, revision: str) -> Path:
    if is_commit(revision):
        raise ValueError("a commit hash has no refs file")
    _validate_filename(revision)  # branch names may contain '/', never '..'
    return repo_folder(cache_dir, repo_id) / "refs" / revision


def no_exist_path(cache_dir: Path, repo_id: str, commit: str, filename: str) -> Path:
    return repo_folder(cache_dir, repo_id) / ".no_exist" / commit / _validate_filename(filename)


def normalize_etag(value: str | None) -> str | None:
    """``W/"abc"`` -> ``abc`` (the hub quotes etags; blobs are named by the bare value)."""
    if value is None:
        return None
    value = value.strip()
    if value.startswith("W/"):
        value = value[2:]
    return value.strip('"') or None


def is_sha256(etag: str) -> bool:
    return bool(_SHA256_RE.match(etag))


@dataclass(frozen=True)
class FileMetadata:
    """What the hub says about a file before we fetch its bytes."""

    commit: str | None
    etag: str | None
    size: int | None
    location: str  # where the bytes are (the resolve URL itself, or the CDN a 302 points at)


@dataclass(frozen=True)
class Outcome:
    """Classification of one hub response; ``kind`` is found/redirect/error."""

    kind: str
    metadata: FileMetadata | None = None
    location: str | None = None
    error: HubError | None = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lname = name.lower()
    for k, v in headers.items():
        if k.lower() == lname:
            return v
    return None


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None


def classify_response(
    status: int, headers: Mapping[str, str], *, url: str, repo_id: str, filename: str, revision: str
) -> Outcome:
    """Decide what a response to a resolve request means.

    A relative redirect (renamed repo) is "redirect": follow it and ask again. An absolute redirect points at
    the CDN: the metadata is in *this* response (``X-Linked-Etag``, ``X-Repo-Commit``), so it is "found".
    Messages name repo, file and revision, never request headers (which carry the token).
    """
    what = f"{filename!r} in {repo_id!r} at revision {revision!r}"
    code = _header(headers, "X-Error-Code") or ""
    if status in (301, 302, 303, 307, 308):
        location = _header(headers, "Location")
        if not location:
            return Outcome("error", error=HubError(f"hub redirect without Location for {what}"))
        target = urllib.parse.urljoin(url, location)
        same_host = urllib.parse.urlsplit(target).netloc == urllib.parse.urlsplit(url).netloc
        linked = _header(headers, "X-Linked-Etag")
        if same_host and not linked:
            return Outcome("redirect", location=target)
        return Outcome(
            "found",
            metadata=FileMetadata(
                commit=_header(headers, "X-Repo-Commit"),
                etag=normalize_etag(linked or _header(headers, "ETag")),
                size=_int_or_none(_header(headers, "X-Linked-Size") or _header(headers, "Content-Length")),
                location=target,
            ),
        )
    if 200 <= status < 300:
        return Outcome(
            "found",
            metadata=FileMetadata(
                commit=_header(headers, "X-Repo-Commit"),
                etag=normalize_etag(_header(headers, "X-Linked-Etag") or _header(headers, "ETag")),
                size=_int_or_none(_header(headers, "X-Linked-Size") or _header(headers, "Content-Length")),
                location=url,
            ),
        )
    if code == "EntryNotFound" or (status == 404 and not code):
        return Outcome("error", error=EntryNotFoundError(f"no file {what}"))
    if code == "RevisionNotFound":
        return Outcome("error", error=RevisionNotFoundError(f"revision {revision!r} not found in {repo_id!r}"))
    if code == "GatedRepo" or (status == 403 and code != "RepoNotFound"):
        return Outcome(
            "error",
            error=GatedRepoError(
                f"access to {repo_id!r} is restricted (HTTP {status}); accept its licence on the hub and set "
                "HF_TOKEN to a token with access"
            ),
        )
    if code == "RepoNotFound" or status == 401:
        return Outcome(
            "error",
            error=RepoNotFoundError(
                f"repo {repo_id!r} not found, or private/gated and HF_TOKEN is missing or lacks access (HTTP {status})"
            ),
        )
    return Outcome("error", error=HubError(f"hub answered HTTP {status} for {what}"))

"""``download``: a checkpoint's files from Tinker storage (or the local server) to a local directory.

As in the cookbook: an ``external_weights`` path is fetched file by file from the signed URLs that
``RestClient.get_external_weights_urls`` returns (re-signed when they are about to expire); a ``weights``
path is first loaded into a new training run and exported with ``save_weights_external``, then fetched and
the temporary export deleted. Sampler checkpoints cannot be downloaded. Every file name is checked
against path traversal, and files land in a private staging folder first, so a failed transfer leaves
``output_dir`` unchanged.

As in the cookbook, the temporary export is encrypted to a fresh age key and decrypted here; the cookbook
uses the compiled ``pyrage`` for that, tinkerlite its own standard-library age (:mod:`._age`).
"""

from __future__ import annotations

import datetime
import logging
import shutil
import tempfile
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Literal

from tinkerlite.exceptions import WeightsDownloadError

from ._age import AgeError, decrypt, generate_identity, recipient_of

__all__ = ["download"]

logger = logging.getLogger(__name__)

_AGE_SUFFIX = ".age"
_URL_REFRESH_MARGIN = datetime.timedelta(minutes=5)
_TEMPORARY_EXPORT_TTL_SECONDS = 3600


def download(*, tinker_path: str, output_dir: str, base_url: str | None = None) -> str:
    """Download a checkpoint from Tinker storage to ``output_dir``; returns ``output_dir``.

    ``tinker://<run>/external_weights/<name>`` (from ``save_weights_external``) is fetched directly;
    ``tinker://<run>/weights/<name>`` (from ``save_state``) is exported first (this starts a training
    session on the checkpoint's base model). Raises WeightsDownloadError for an invalid or sampler path,
    an unreachable service, a failed export or transfer, or an unsafe file name.
    """
    import tinkerlite as tinker
    from tinkerlite.types import ParsedCheckpointTinkerPath

    try:
        parsed = ParsedCheckpointTinkerPath.from_tinker_path(tinker_path)
    except ValueError as e:
        raise WeightsDownloadError(f"Invalid tinker path: {tinker_path!r}") from e
    if parsed.checkpoint_type == "sampler":
        raise WeightsDownloadError(
            f"Sampler checkpoints cannot be downloaded: {tinker_path!r}. Download a training checkpoint "
            "(tinker://<run_id>/weights/<name>) or external weights saved with "
            "TrainingClient.save_weights_external() instead."
        )
    kwargs: dict[str, Any] = {} if base_url is None else {"base_url": base_url}
    try:
        sc = tinker.ServiceClient(**kwargs)
        rc = tinker.RestClient(**kwargs)
    except Exception as e:
        raise WeightsDownloadError(
            f"Failed to connect to Tinker service ({e}). Ensure TINKER_API_KEY is set and the service is reachable."
        ) from e
    out = Path(output_dir)
    status: Literal["success", "errored"] = "errored"
    try:
        if parsed.checkpoint_type == "external":
            _download_external_weights(rc, tinker_path, out)
        else:
            _download_training_weights(sc, rc, tinker_path, out)
        status = "success"
    finally:
        try:
            sc.close(status).result()
            rc.close()
        except Exception:
            logger.warning("Failed to close the Tinker client.", exc_info=True)
    return output_dir


def _download_training_weights(sc: Any, rc: Any, tinker_path: str, output_dir: Path) -> None:
    """Export the checkpoint, encrypted to a one-off age key, from a new training run; fetch; delete the export."""
    identity = generate_identity()
    try:
        tc = sc.create_training_client_from_state(
            tinker_path, user_metadata={"created_by": "tinkerlite.weights.download"}
        ).result()
        export_path = (
            tc.save_weights_external(
                "download",
                ttl_seconds=_TEMPORARY_EXPORT_TTL_SECONDS,
                age_encryption_recipients=[recipient_of(identity)],
            )
            .result()
            .path
        )
    except Exception as e:
        raise WeightsDownloadError(f"Failed to export {tinker_path!r} as external weights: {e}") from e
    try:
        _download_external_weights(
            rc,
            export_path,
            output_dir,
            renew_ttl_seconds=_TEMPORARY_EXPORT_TTL_SECONDS,
            decrypt_key=identity,
        )
    finally:
        try:
            rc.delete_checkpoint_from_tinker_path(export_path).result()
        except Exception:
            logger.warning("Failed to delete the temporary export %s.", export_path, exc_info=True)


def _download_external_weights(
    rc: Any,
    tinker_path: str,
    output_dir: Path,
    *,
    renew_ttl_seconds: int | None = None,
    decrypt_key: str | None = None,
) -> None:
    """Fetch every file of an external-weights checkpoint into ``output_dir`` (all or nothing)."""
    response = _get_urls(rc, tinker_path, renew_ttl_seconds)
    if not response.urls:
        raise WeightsDownloadError(f"External weights checkpoint {tinker_path!r} has no files.")
    base = output_dir.resolve()
    destinations: dict[str, Path] = {}
    for name in response.urls:
        output_name = name
        if decrypt_key is not None:
            if not name.endswith(_AGE_SUFFIX):
                raise WeightsDownloadError(f"{name!r} in {tinker_path!r} is not encrypted.")
            output_name = name.removesuffix(_AGE_SUFFIX)
        dest = (output_dir / output_name).resolve()
        if not dest.is_relative_to(base) or dest == base:
            raise WeightsDownloadError(f"Unsafe file path {name!r} in external weights checkpoint (path traversal).")
        destinations[name] = dest
    output_dir.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=output_dir, prefix=".download-"))
    try:
        for name, dest in sorted(destinations.items()):
            if datetime.datetime.now(datetime.timezone.utc) >= _aware(response.expires) - _URL_REFRESH_MARGIN:
                response = _get_urls(rc, tinker_path, renew_ttl_seconds)
            url = response.urls.get(name)
            if url is None:
                raise WeightsDownloadError(f"{name!r} is missing from the re-signed URLs for {tinker_path!r}.")
            staged = staging / dest.relative_to(base)
            staged.parent.mkdir(parents=True, exist_ok=True)
            fetched = staged if decrypt_key is None else staging / (name.replace("/", "_") + ".enc")
            try:
                urllib.request.urlretrieve(url, str(fetched))
            except (urllib.error.URLError, OSError) as e:
                raise WeightsDownloadError(f"Failed to download {name!r} from its signed URL: {e}") from e
            if decrypt_key is not None:
                try:
                    staged.write_bytes(decrypt(fetched.read_bytes(), decrypt_key))
                except AgeError as e:
                    raise WeightsDownloadError(f"Failed to decrypt {name!r}: {e}") from e
                fetched.unlink()
        for dest in destinations.values():
            dest.parent.mkdir(parents=True, exist_ok=True)
            (staging / dest.relative_to(base)).replace(dest)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _aware(when: Any) -> datetime.datetime:
    if isinstance(when, str):
        when = datetime.datetime.fromisoformat(when.replace("Z", "+00:00"))
    if not isinstance(when, datetime.datetime):
        return datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    return when if when.tzinfo is not None else when.replace(tzinfo=datetime.timezone.utc)


def _get_urls(rc: Any, tinker_path: str, renew_ttl_seconds: int | None) -> Any:
    try:
        response = rc.get_external_weights_urls(tinker_path).result()
    except Exception as e:
        raise WeightsDownloadError(f"Failed to get download URLs for {tinker_path!r}: {e}") from e
    if renew_ttl_seconds is not None:
        try:
            rc.set_checkpoint_ttl_from_tinker_path(tinker_path, renew_ttl_seconds).result()
        except Exception:
            logger.warning("Failed to renew the TTL of %s.", tinker_path, exc_info=True)
    return response

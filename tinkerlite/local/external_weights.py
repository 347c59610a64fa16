"""External weights on the local server: ``save_weights_external`` and signed download URLs (SDK 0.38).

``POST save_weights_external`` is an ordered training operation, like ``save_weights``: it writes the
model's adapters as a PEFT adapter (:func:`~tinkerlite.local.hf_format.adapter_files`) into the state
dir and answers ``{"path": "tinker://<run>/external_weights/<name>", "size_bytes"}``.
``GET training_runs/<run>/checkpoints/external_weights/<name>/external_weights_urls`` answers
``{"urls": {file: url}, "expires"}``. SDK 0.25's ``GET training_runs/<run>/checkpoints/<kind>/<name>/archive``
answers ``{"url", "expires"}`` for a tar of the same PEFT files, built from the checkpoint when fetched.
Like Tinker's signed URLs these need no API key (the cookbook fetches them with ``urlretrieve``): each
carries an expiry and an HMAC-SHA256 over the file and the expiry, keyed by a secret that lives only in this
server process.

With ``age_encryption_recipients`` (native ``age1...`` keys, at most 10) every file is age-encrypted to them
and stored with a ``.age`` suffix, as Tinker does (:mod:`tinkerlite.weights._age`, standard library; the
cookbook's ``weights.download`` always asks for this). SSH-key recipients are refused with a clear error.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import time
import urllib.parse
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from .http_types import HTTPError, Request, Response, json_response
from .scheduler import OpError
from .store import check_name, check_run_id, check_ttl

if TYPE_CHECKING:
    from .futures import FutureState
    from .routes import Router
    from .service import LocalService, TrainingModel

__all__ = ["ARCHIVE_ROUTE", "FILES_ROUTE", "ExternalWeights", "add_routes", "is_signed_file_request"]

FILES_ROUTE = "_tinkerlite/external_files/"
ARCHIVE_ROUTE = "_tinkerlite/archives/"
_URL_LIFETIME_S = 3600


class ExternalWeights:
    """The export operation and URL signing for one service."""

    def __init__(self, service: LocalService) -> None:
        self.service = service
        self._secret = secrets.token_bytes(32)

    def save(
        self, tm: TrainingModel, seq_id: int, name: object, ttl_seconds: object, recipients: object
    ) -> FutureState:
        check_name(name)
        assert isinstance(name, str)
        ttl = None if ttl_seconds is None else check_ttl(ttl_seconds)
        keys = _recipients(recipients)

        def job() -> dict[str, Any]:
            from .hf_format import adapter_files

            files = adapter_files(tm.model, tm.spec.name)
            if keys:
                from tinkerlite.weights._age import encrypt

                files = {f"{rel}.age": encrypt(data, keys) for rel, data in files.items()}
            rec = self.service.store.save_external(tm.model_id, name, files, ttl)
            self.service.store.write_run(self.service._run_record(tm))
            return {"path": rec["tinker_path"], "size_bytes": rec["size_bytes"], "type": "save_weights_external"}

        return self.service.scheduler.submit_ordered(
            tm.model_id, seq_id, lambda: self.service.futures.create("json", "save"), job
        )

    def _sig(self, run: str, name: str, rel: str, expires: int) -> str:
        msg = f"{run}\0{name}\0{rel}\0{expires}".encode()
        return hmac.new(self._secret, msg, hashlib.sha256).hexdigest()

    def urls(self, host: str, run: str, name: str) -> dict[str, Any]:
        files = self.service.store.external_files(run, name)
        if not files:
            raise HTTPError(404, f"external weights tinker://{run}/external_weights/{name} not found")
        expires = int(time.time()) + _URL_LIFETIME_S
        urls = {rel: self._signed(host, FILES_ROUTE, (run, name, rel), expires) for rel in files}
        return {"urls": urls, "expires": datetime.fromtimestamp(expires, timezone.utc).isoformat()}

    def _check_signature(self, req: Request, run: str, name: str, rel: str) -> None:
        raw_exp = req.query.get("expires", "")
        sig = req.query.get("sig", "")
        if not raw_exp.isdigit() or not sig:
            raise HTTPError(403, "missing or malformed URL signature")
        expires = int(raw_exp)
        if not hmac.compare_digest(sig.encode(), self._sig(run, name, rel, expires).encode()):
            raise HTTPError(403, "invalid URL signature")
        if expires < time.time():
            raise HTTPError(403, "this signed URL has expired; ask for a new one")

    def _signed(self, host: str, route: str, parts: tuple[str, str, str], expires: int) -> str:
        path = "/".join(urllib.parse.quote(p, safe="") for p in parts)
        query = urllib.parse.urlencode({"expires": expires, "sig": self._sig(*parts, expires)})
        return f"http://{host}/api/v1/{route}{path}?{query}"

    def archive_url(self, host: str, run: str, kind: str, name: str) -> dict[str, Any]:
        """SDK 0.25's ``get_checkpoint_archive_url``: a signed URL of a tar of the PEFT adapter files."""
        if kind not in ("weights", "sampler_weights") or self.service.store.get_checkpoint(run, kind, name) is None:
            raise HTTPError(404, f"checkpoint tinker://{run}/{kind}/{name} not found")
        expires = int(time.time()) + _URL_LIFETIME_S
        url = self._signed(host, ARCHIVE_ROUTE, (run, kind, name), expires)
        return {"url": url, "expires": datetime.fromtimestamp(expires, timezone.utc).isoformat()}

    def serve_archive(self, req: Request, run: str, kind: str, name: str) -> Response:
        """The archive, built from the checkpoint when it is fetched (nothing extra is stored)."""
        import io
        import tarfile

        from .hf_format import adapter_files
        from .service import lora_from_meta

        self._check_signature(req, run, kind, name)
        try:
            state, spec = self.service._checkpoint_state(run, kind, name)
        except OpError as e:
            raise HTTPError(404, str(e)) from None
        model = self.service._new_model(spec, lora_from_meta(state))
        self.service._load_into(model, state, optimizer=False)
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w") as tar:
            for rel, data in sorted(adapter_files(model, spec.name).items()):
                info = tarfile.TarInfo(rel)
                info.size, info.mtime, info.mode = len(data), int(time.time()), 0o644
                tar.addfile(info, io.BytesIO(data))
        return Response(200, buf.getvalue(), "application/x-tar")

    def serve_file(self, req: Request, run: str, name: str, rel: str) -> Response:
        self._check_signature(req, run, name, rel)
        path = self.service.store.external_file(run, name, rel)
        if path is None:
            raise HTTPError(404, f"no file {rel!r} in tinker://{run}/external_weights/{name}")
        return Response(200, path.read_bytes(), "application/octet-stream")


def _recipients(obj: object) -> list[str]:
    """Validated ``age_encryption_recipients`` (None or [] means unencrypted)."""
    if obj is None:
        return []
    if not isinstance(obj, list) or not all(isinstance(r, str) for r in obj):
        raise OpError("age_encryption_recipients must be a list of strings")
    if len(obj) > 10:
        raise OpError(f"age_encryption_recipients: at most 10 recipients, got {len(obj)}")
    from tinkerlite.weights._age import AgeError, _recipient_key

    for r in obj:
        try:
            _recipient_key(r)
        except AgeError as e:
            raise OpError(f"age_encryption_recipients: {e}") from None
    return list(obj)


def add_routes(router: Router) -> None:
    """Register the three endpoints on ``router`` (called from ``Router.__init__``)."""
    ext = ExternalWeights(router.service)

    def save(req: Request, m: re.Match[str]) -> Response:
        body = router._json(req)
        tm = router.service.model(router._str(body, "model_id"))
        seq = router._int(body, "seq_id", lo=1)
        try:
            fut = ext.save(tm, seq, body.get("path"), body.get("ttl_seconds"), body.get("age_encryption_recipients"))
        except OpError as e:
            fut = router.service.failed_ordered(tm.model_id, seq, str(e))
        return router._future(fut, tm.model_id)

    def urls(req: Request, m: re.Match[str]) -> Response:
        try:
            run, name = check_run_id(m["run"]), check_name(m["name"])
        except OpError as e:
            raise HTTPError(400, str(e)) from None
        return json_response(ext.urls(req.header("host") or "127.0.0.1", run, name))

    def files(req: Request, m: re.Match[str]) -> Response:
        parts = [urllib.parse.unquote(p) for p in (m["run"], m["name"], m["rel"])]
        return ext.serve_file(req, *parts)

    def archive(req: Request, m: re.Match[str]) -> Response:
        try:
            run, name = check_run_id(m["run"]), check_name(m["name"])
        except OpError as e:
            raise HTTPError(400, str(e)) from None
        return json_response(ext.archive_url(req.header("host") or "127.0.0.1", run, m["kind"], name))

    def archive_file(req: Request, m: re.Match[str]) -> Response:
        parts = [urllib.parse.unquote(p) for p in (m["run"], m["kind"], m["name"])]
        return ext.serve_archive(req, *parts)

    ck = r"training_runs/(?P<run>[^/]+)/checkpoints/external_weights/(?P<name>[^/]+)/external_weights_urls"
    seg = r"(?P<run>[^/]+)/(?P<kind>[^/]+)/(?P<name>[^/]+)"
    for method, pattern, fn in (
        ("POST", "save_weights_external", save),
        ("GET", ck, urls),
        ("GET", FILES_ROUTE + r"(?P<run>[^/]+)/(?P<name>[^/]+)/(?P<rel>[^/]+)", files),
        ("GET", r"training_runs/(?P<run>[^/]+)/checkpoints/(?P<kind>[^/]+)/(?P<name>[^/]+)/archive", archive),
        ("GET", ARCHIVE_ROUTE + seg, archive_file),
    ):
        router._routes.append((method, re.compile(pattern + r"\Z"), fn))


def is_signed_file_request(path: str) -> bool:
    """Signed download URLs carry their own authorisation (no API key), as Tinker's do."""
    return path.startswith((FILES_ROUTE, ARCHIVE_ROUTE))

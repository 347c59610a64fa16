"""``POST /api/v1/copy_weights`` for the local server (``RestClient.copy_weights`` /
``ServiceClient.copy_weights``, SDK 0.38).

As on Tinker, the copy is a new training run (owned by the caller, not trainable: no live model) holding
one checkpoint of the same kind and name; ``ttl_seconds`` sets its expiry. The local store has no shared
blobs, so the weights are written again; the destination project is recorded on the run.
"""

from __future__ import annotations

import re
import uuid
from typing import TYPE_CHECKING, Any

from ..errors import ProtocolError
from ..types.copy_weights_request import CopyWeightsRequest
from . import auth
from .http_types import HTTPError, Request, Response, json_response
from .store import LOADABLE_KINDS, now_iso, parse_tinker_path

if TYPE_CHECKING:
    from .routes import Router


def add_routes(router: Router) -> None:
    def copy(req: Request, m: re.Match[str]) -> Response:
        try:
            body = CopyWeightsRequest.from_json(router._json(req))
        except ProtocolError as e:
            raise HTTPError(400, str(e)) from None
        run, kind, name = parse_tinker_path(body.source_path)
        if kind not in LOADABLE_KINDS:
            raise HTTPError(400, f"only weights/ and sampler_weights/ checkpoints can be copied, got {kind}/")
        store = router.service.store
        source = store.get_checkpoint(run, kind, name)
        if source is None:
            raise HTTPError(404, f"checkpoint {body.source_path} not found")
        state = store.load_arrays(run, kind, name)
        src_run: dict[str, Any] = store.get_run(run) or {}
        new_run = f"copy-{uuid.uuid4().hex[:16]}"
        store.write_run(
            {
                **src_run,
                "training_run_id": new_run,
                "owner": auth.current_user(),
                "created": now_iso(),
                "last_request_time": now_iso(),
                "session_id": None,
                "copied_from": body.source_path,
                "project_id": body.destination_project_id,
                "trainable": False,
            }
        )
        rec = store.save_checkpoint(
            new_run, kind, name, state, ttl_seconds=body.ttl_seconds, user_metadata=source.get("user_metadata")
        )
        return json_response({"tinker_path": rec["tinker_path"]})

    router._routes.append(("POST", re.compile(r"copy_weights\Z"), copy))

"""Training and sampling state of the local server: models, samplers, and the operations on them.

Everything here is independent of HTTP. Submissions validate what they can at once (raising
:class:`~tinkerlite.local.scheduler.OpError` for a bad request) and hand the work to the scheduler, which
completes a future; the routes layer turns both into responses.
"""

from __future__ import annotations

import copy
import threading
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from tinkerlite.types import (
    Datum,
    ForwardBackwardOutput,
    TensorData,
)

from . import auth

# The service's records, re-exported here where they have always been importable (``X as X``).
from ._service_records import SampleJob as SampleJob
from ._service_records import Sampler as Sampler
from ._service_records import ServiceLimits as ServiceLimits
from ._service_records import TrainingModel as TrainingModel
from ._service_records import lora_from_meta as lora_from_meta
from ._service_records import normalise_lora as normalise_lora
from .base_models import BaseModelSpec, default_registry, lookup
from .futures import FutureState, FutureStore
from .scheduler import OpError, Scheduler
from .sessions import SessionRegistry
from .store import Store, check_name, check_ttl, now_iso, parse_tinker_path

__all__ = ["LocalService", "SampleJob", "ServiceLimits", "TrainingModel"]

_BATCH_ROWS = 64  # sampling requests decoded together hold at most this many rows (fewer: a single request)


class LocalService:
    def __init__(
        self,
        store: Store,
        *,
        registry: dict[str, BaseModelSpec] | None = None,
        workers: int = 2,
        limits: ServiceLimits | None = None,
    ) -> None:
        self.store = store
        self.registry = registry if registry is not None else default_registry()
        self.limits = limits or ServiceLimits()
        self.futures = FutureStore()
        self.scheduler = Scheduler(self.futures, workers=workers)
        self.sessions = SessionRegistry()
        self.sessions.on_finish = self.finish_session  # an expired session's models unload
        self._lock = threading.RLock()
        self._models: dict[str, TrainingModel] = {}
        self._create_futures: dict[str, FutureState] = {}
        self._samplers: dict[str, Sampler] = {}
        self._base_weights: dict[str, dict[str, Any]] = {}
        self._base_samplers: dict[str, Sampler] = {}
        self._tokenizers: dict[str, Any] = {}

    def close(self) -> None:
        self.scheduler.shutdown()

    # ---- model construction -----------------------------------------------------------------------------

    def spec_for(self, base_model: object) -> BaseModelSpec:
        spec = lookup(self.registry, base_model)
        if spec is None:
            names = ", ".join(sorted(self.registry))
            raise OpError(f"unknown base_model {base_model!r}; this server serves: {names}")
        return spec

    def _new_model(self, spec: BaseModelSpec, lora: dict[str, Any] | None, optimizer: str = "adamw") -> Any:
        from .model import LoraSpec, TinyTransformer

        lspec = None
        if lora is not None:
            lspec = LoraSpec(
                rank=lora["rank"],
                seed=lora["seed"],
                train_attn=lora["train_attn"],
                train_mlp=lora["train_mlp"],
                train_unembed=lora["train_unembed"],
            )
        with self._lock:
            shared = self._base_weights.get(spec.name)
        # Frozen weights are a function of the seed: build them once per base model and share them.
        model = TinyTransformer(spec.model_config(), lspec, base=shared, optimizer=optimizer)  # type: ignore[arg-type]
        if shared is None:
            with self._lock:
                self._base_weights.setdefault(spec.name, model.base)
        return model

    @staticmethod
    def _snapshot(model: Any) -> Any:
        """A read-only copy for sampling: shares the frozen base, copies the adapters."""
        snap = copy.copy(model)
        snap.params = {k: v.copy() for k, v in model.params.items()}
        snap.grads = {}
        snap.optimizer = None
        snap.frozen_for_sampling = True  # nothing writes it: decoding may keep its merged weights
        snap.sampling_key = uuid.uuid4().hex  # names it to sampling worker processes (sample_procs)
        return snap

    def _evict_stale(self) -> None:
        """Unload models of sessions silent for ``stale_session_s`` (SDK 0.25 never finishes sessions).

        Their checkpoints stay on disk; a live client heartbeats every 10 s and is never affected.
        """
        cutoff = time.time() - self.limits.stale_session_s
        with self._lock:
            live = {tm.session_id for tm in self._models.values()}
        for s in self.sessions.all(everyone=True):
            if s.session_id in live and (s.finished or s.last_heartbeat < cutoff):
                self.finish_session(s.session_id)

    def _register_model(self, tm: TrainingModel) -> None:
        with self._lock:
            full = len(self._models) >= self.limits.max_models
        if full:
            self._evict_stale()
        with self._lock:
            if len(self._models) >= self.limits.max_models:
                raise OpError(
                    f"this server holds at most {self.limits.max_models} live training models; finish a session "
                    "or unload a model first"
                )
            self._models[tm.model_id] = tm
        self.scheduler.open_lane(tm.model_id, next_seq=1)
        self.sessions.add_model(tm.session_id, tm.model_id)
        self.store.write_run(self._run_record(tm))

    def _run_record(self, tm: TrainingModel) -> dict[str, Any]:
        return {
            "training_run_id": tm.model_id,
            "base_model": tm.spec.name,
            "model_owner": "local",
            "is_lora": True,
            "corrupted": False,
            "lora_rank": tm.lora["rank"],
            "lora_config": tm.lora,
            "last_request_time": now_iso(),
            "created": tm.created,
            "session_id": tm.session_id,
            "owner": tm.owner,
            "user_metadata": {str(k): str(v) for k, v in tm.user_metadata.items()},
        }

    def model(self, model_id: object) -> TrainingModel:
        with self._lock:
            tm = self._models.get(model_id) if isinstance(model_id, str) else None
        if tm is None or not auth.may_see(tm.owner):  # another user's model is as absent as a missing one
            raise KeyError(f"unknown model_id {model_id!r}")
        self.sessions.touch(tm.session_id)
        return tm

    def unload(self, model_id: str) -> None:
        with self._lock:
            self._models.pop(model_id, None)
            self._create_futures.pop(model_id, None)
        self.scheduler.close_lane(model_id)

    def finish_session(self, session_id: str) -> None:
        s = self.sessions.get(session_id)
        if s is None:
            return
        for mid in list(s.model_ids):
            self.unload(mid)
        with self._lock:
            for sid in s.sampler_ids:
                self._samplers.pop(sid, None)

    # ---- create / load ----------------------------------------------------------------------------------

    def create_model(
        self,
        session_id: str,
        model_seq_id: int,
        base_model: object,
        lora: object,
        user_metadata: dict[str, Any],
        optimizer: str = "adamw",
    ) -> FutureState:
        model_id = f"{session_id}:train:{model_seq_id}"
        with self._lock:
            prior = self._create_futures.get(model_id)
        if prior is not None:
            return prior
        spec = self.spec_for(base_model)
        lcfg = normalise_lora(lora)
        tm = TrainingModel(model_id, session_id, spec, lcfg, self._new_model(spec, lcfg, optimizer), user_metadata)
        self._register_model(tm)
        fut = self.futures.create("json", "create")
        self.futures.resolve(fut, {"model_id": model_id, "type": "create_model"})
        with self._lock:
            self._create_futures[model_id] = fut
        return fut

    def create_via_load(
        self,
        session_id: str,
        model_seq_id: int,
        path: object,
        optimizer: bool,
        user_metadata: dict[str, Any],
        optimizer_type: str = "adamw",
    ) -> FutureState:
        model_id = f"{session_id}:train:{model_seq_id}"
        with self._lock:
            prior = self._create_futures.get(model_id)
        if prior is not None:
            return prior
        run, kind, name = parse_tinker_path(path)
        state, spec = self._checkpoint_state(run, kind, name)
        lcfg = lora_from_meta(state)
        model = self._new_model(spec, lcfg, optimizer_type)  # a loaded optimizer state keeps its own family
        self._load_into(model, state, optimizer)
        tm = TrainingModel(model_id, session_id, spec, lcfg, model, user_metadata)
        self._register_model(tm)
        fut = self.futures.create("json", "load")
        self.futures.resolve(fut, {"path": path, "model_id": model_id, "type": "load_weights"})
        with self._lock:
            self._create_futures[model_id] = fut
        return fut

    def _checkpoint_state(self, run: str, kind: str, name: str) -> tuple[dict[str, Any], BaseModelSpec]:
        rec = self.store.get_run(run)
        if rec is None:
            raise OpError(f"unknown training run {run!r}")
        spec = self.spec_for(rec.get("base_model"))
        return self.store.load_arrays(run, kind, name), spec

    @staticmethod
    def _load_into(model: Any, state: dict[str, Any], optimizer: bool) -> None:
        if not optimizer:
            state = {k: v for k, v in state.items() if not k.startswith("optim.")}
        model.load_state_dict(state)

    def weights_info(self, path: object) -> dict[str, Any]:
        run, kind, name = parse_tinker_path(path)
        rec = self.store.get_run(run)
        if rec is None or self.store.get_checkpoint(run, kind, name) is None:
            raise KeyError(f"checkpoint {path!r} not found")
        lora = rec.get("lora_config") or {}
        return {
            "base_model": rec.get("base_model"),
            "is_lora": True,
            "lora_rank": lora.get("rank"),
            "train_unembed": lora.get("train_unembed"),
            "train_mlp": lora.get("train_mlp"),
            "train_attn": lora.get("train_attn"),
        }

    # ---- ordered training operations --------------------------------------------------------------------

    def _ordered(
        self, tm: TrainingModel, seq_id: int, kind: str, prefix: str, job: Callable[[], object]
    ) -> FutureState:
        return self.scheduler.submit_ordered(
            tm.model_id,
            seq_id,
            lambda: self.futures.create(kind, prefix),  # type: ignore[arg-type]
            job,
        )

    def forward_backward(
        self,
        model_id: object,
        seq_id: int,
        data: Sequence[Datum],
        loss_fn: str,
        loss_fn_config: Mapping[str, Any] | None,
        forward_only: bool,
    ) -> FutureState:
        tm = self.model(model_id)

        def job() -> ForwardBackwardOutput:
            from tinkerlite._optional import require

            from .losses import sampled_positions
            from .model import DatumArrays

            np = require("numpy", "the local server", extra="local")
            if not data:
                raise OpError("forward_backward needs at least one datum")
            batch = []
            for i, d in enumerate(data):
                try:
                    tokens = np.asarray(d.model_input.to_ints(), dtype=np.int64)
                except ValueError as e:
                    raise OpError(f"data[{i}].model_input: {e}") from None
                inputs = {k: td.to_numpy() for k, td in d.loss_fn_inputs.items()}
                batch.append(DatumArrays(tokens, inputs, sampled_positions(d.loss_fn_input_spans)))
            outs, metrics = tm.model.forward_backward(batch, loss_fn, dict(loss_fn_config or {}), forward_only)
            wire_outs = [{k: TensorData.from_numpy(np.ascontiguousarray(v)) for k, v in o.items()} for o in outs]
            return ForwardBackwardOutput("ArrayRecord", wire_outs, {k: float(v) for k, v in metrics.items()})

        return self._ordered(tm, seq_id, "fwdbwd", "fwdbwd", job)

    def optim_step(self, model_id: object, seq_id: int, adam: Mapping[str, Any]) -> FutureState:
        tm = self.model(model_id)
        hp = {}
        for key, default in (
            ("learning_rate", 1e-4),
            ("beta1", 0.9),
            ("beta2", 0.95),
            ("eps", 1e-12),
            ("weight_decay", 0.0),
            ("grad_clip_norm", 0.0),
        ):
            v = adam.get(key, default)
            if v is None:
                v = default
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise OpError(f"adam_params.{key} must be a number, got {v!r}")
            hp[key] = float(v)

        def job() -> dict[str, Any]:
            metrics = tm.model.optim_step(**hp)
            return {"metrics": {k: float(v) for k, v in metrics.items()}, "type": "optim_step"}

        return self._ordered(tm, seq_id, "json", "optim", job)

    def optim_step_dimuon(self, model_id: object, seq_id: int, params: Mapping[str, Any]) -> FutureState:
        """An ``optim_step`` carrying ``optimizer_params: {"type": "dimuon", ...}`` (SDK 0.38)."""
        from tinkerlite.errors import ValidationError

        from .dimuon import DimuonParams

        tm = self.model(model_id)
        known = ("learning_rate", "grad_clip_norm", "beta1", "damping", "rank_lr_correction_exponent")
        unknown = sorted(set(params) - {"type", *known})
        if unknown:
            raise OpError(f"optimizer_params: unknown key(s) {unknown} for dimuon (accepted: {', '.join(known)})")
        if "learning_rate" not in params:
            raise OpError("optimizer_params.learning_rate is required for dimuon")
        kwargs = {k: params[k] for k in known if params.get(k) is not None}
        try:
            hp = DimuonParams(**kwargs)
        except ValidationError as e:
            raise OpError(str(e)) from None

        def job() -> dict[str, Any]:
            metrics = tm.model.apply_optimizer(hp)
            return {"metrics": {k: float(v) for k, v in metrics.items()}, "type": "optim_step"}

        return self._ordered(tm, seq_id, "json", "optim", job)

    def failed_ordered(self, model_id: object, seq_id: int, message: str) -> FutureState:
        """Take the slot of a request that is invalid, so later seq_ids are not held forever."""
        tm = self.model(model_id)

        def job() -> object:
            raise OpError(message)

        return self._ordered(tm, seq_id, "json", "failed", job)

    def save_weights(
        self,
        model_id: object,
        seq_id: int,
        name: object,
        *,
        sampler: bool,
        ttl_seconds: object,
        overwrite: bool,
        user_metadata: object,
    ) -> FutureState:
        tm = self.model(model_id)
        kind = "sampler_weights" if sampler else "weights"
        if name is None:
            name = f"{seq_id:06d}"
        check_name(name)
        ttl = None if ttl_seconds is None else check_ttl(ttl_seconds)
        meta = user_metadata if isinstance(user_metadata, dict) else None
        assert isinstance(name, str)

        def job() -> dict[str, Any]:
            if not overwrite and self.store.exists(tm.model_id, kind, name):
                raise OpError(f"checkpoint tinker://{tm.model_id}/{kind}/{name} already exists")
            state = tm.model.state_dict(include_optimizer=not sampler)
            rec = self.store.save_checkpoint(tm.model_id, kind, name, state, ttl, meta)
            self._touch_run(tm)
            return {"path": rec["tinker_path"], "type": "save_weights_for_sampler" if sampler else "save_weights"}

        return self._ordered(tm, seq_id, "json", "save", job)

    def _touch_run(self, tm: TrainingModel) -> None:
        self.store.write_run(self._run_record(tm))

    def save_for_sampler_unnamed(self, model_id: object, seq_id: int, sampling_session_seq_id: int) -> FutureState:
        tm = self.model(model_id)
        sampler_id = f"{tm.session_id}:sample:{sampling_session_seq_id}"

        def job() -> dict[str, Any]:
            self._add_sampler(Sampler(sampler_id, tm.spec, self._snapshot(tm.model)), tm.session_id)
            return {"sampling_session_id": sampler_id, "type": "save_weights_for_sampler"}

        return self._ordered(tm, seq_id, "json", "save", job)

    def load_weights(self, model_id: object, seq_id: int, path: object, optimizer: bool) -> FutureState:
        tm = self.model(model_id)
        run, kind, name = parse_tinker_path(path)

        def job() -> dict[str, Any]:
            state, spec = self._checkpoint_state(run, kind, name)
            if spec.name != tm.spec.name:
                raise OpError(f"checkpoint {path!r} was trained on {spec.name}, this model is {tm.spec.name}")
            self._load_into(tm.model, state, optimizer)
            return {"path": path, "type": "load_weights"}

        return self._ordered(tm, seq_id, "json", "load", job)

    # ---- sampling ---------------------------------------------------------------------------------------

    def _add_sampler(self, sampler: Sampler, session_id: str) -> None:
        with self._lock:
            if sampler.sampler_id not in self._samplers and len(self._samplers) >= self.limits.max_samplers:
                # Drop the oldest sampler: they are cheap to recreate from a checkpoint.
                del self._samplers[next(iter(self._samplers))]
            self._samplers[sampler.sampler_id] = sampler
        self.sessions.add_sampler(session_id, sampler.sampler_id)

    def create_sampling_session(
        self, session_id: str, sampling_session_seq_id: int, base_model: object, model_path: object
    ) -> str:
        sampler_id = f"{session_id}:sample:{sampling_session_seq_id}"
        with self._lock:
            if sampler_id in self._samplers:
                return sampler_id
        self._add_sampler(self._make_sampler(sampler_id, base_model, model_path), session_id)
        return sampler_id

    def _make_sampler(self, sampler_id: str, base_model: object, model_path: object) -> Sampler:
        if model_path is not None:
            run, kind, name = parse_tinker_path(model_path)
            state, spec = self._checkpoint_state(run, kind, name)
            if base_model is not None and base_model != spec.name:
                raise OpError(f"model_path {model_path!r} was trained on {spec.name}, not {base_model!r}")
            model = self._new_model(spec, lora_from_meta(state))
            self._load_into(model, state, optimizer=False)
            return Sampler(sampler_id, spec, self._snapshot(model), str(model_path))
        if base_model is None:
            raise OpError("create_sampling_session needs base_model or model_path")
        spec = self.spec_for(base_model)
        return Sampler(sampler_id, spec, self._base_model(spec))

    def _base_model(self, spec: BaseModelSpec) -> Any:
        with self._lock:
            hit = self._base_samplers.get(spec.name)
        if hit is not None:
            return hit.model
        model = self._new_model(spec, None)
        model.frozen_for_sampling = True  # sampled only, never trained
        model.sampling_key = uuid.uuid4().hex
        with self._lock:
            self._base_samplers.setdefault(spec.name, Sampler(spec.name, spec, model))
            return self._base_samplers[spec.name].model

    def sampler(self, sampler_id: object) -> Sampler:
        with self._lock:
            s = self._samplers.get(sampler_id) if isinstance(sampler_id, str) else None
        if s is None or not auth.may_see(s.owner):
            raise KeyError(f"unknown sampling session {sampler_id!r}")
        if ":sample:" in s.sampler_id:
            self.sessions.touch(s.sampler_id.split(":sample:", 1)[0])
        return s

    def sampler_for_request(self, sampling_session_id: object, base_model: object, model_path: object) -> Sampler:
        if sampling_session_id is not None:
            return self.sampler(sampling_session_id)
        key = f"adhoc:{model_path}" if model_path is not None else f"adhoc-base:{base_model}"
        key = f"{key}@{auth.current_user()}"  # per user: a cached sampler must not bypass the run's owner check
        with self._lock:
            hit = self._samplers.get(key)
        if hit is not None:
            return hit
        s = self._make_sampler(key, base_model, model_path)
        with self._lock:
            self._samplers[key] = s
        return s

    def stop_checker(self, spec: BaseModelSpec, stops: tuple[str, ...]) -> Callable[[list[int]], bool] | None:
        if not stops:
            return None
        tok = self._tokenizer(spec)
        window = max(len(s) for s in stops) + 8

        def should_stop(tokens: list[int]) -> bool:
            text = tok(tokens[-window:])
            return any(s in text for s in stops)

        return should_stop

    def _tokenizer(self, spec: BaseModelSpec) -> Callable[[list[int]], str]:
        with self._lock:
            hit = self._tokenizers.get(spec.tokenizer_id)
        if hit is not None:
            return hit  # type: ignore[no-any-return]
        decode: Callable[[list[int]], str]
        try:
            from tinkerlite.tokenizers import get_tokenizer

            tok = get_tokenizer(spec.tokenizer_id)
            decode = lambda ids: tok.decode(ids)  # noqa: E731
        except Exception as e:
            if spec.tokenizer_id != "tinkerlite/byte-chat":
                raise OpError(
                    f"stop strings need the tokenizer {spec.tokenizer_id!r}, which could not be loaded here "
                    f"({type(e).__name__}: {e}); pass stop token ids instead"
                ) from None
            decode = lambda ids: bytes(t for t in ids if t < 256).decode("utf-8", "replace")  # noqa: E731
        with self._lock:
            self._tokenizers[spec.tokenizer_id] = decode
        return decode

    def sample(self, sampler: Sampler, key: tuple[str, int] | None, job: SampleJob) -> FutureState:
        should_stop = self.stop_checker(sampler.spec, job.stop_strings)
        vocab = sampler.spec.vocab_size
        if any(not 0 <= t < vocab for t in job.prompt):
            raise OpError(f"prompt token ids must lie in [0, {vocab})")
        if any(not 0 <= t < vocab for t in job.stop_token_ids):
            raise OpError(f"stop token ids must lie in [0, {vocab})")
        if len(job.prompt) > sampler.spec.max_seq_len:
            raise OpError(f"prompt of {len(job.prompt)} tokens exceeds the context length {sampler.spec.max_seq_len}")

        from .sample_tasks import SampleTask, run_sample_tasks

        task = SampleTask(sampler.model, job, should_stop)
        # A user's requests on one set of weights (samplers of a base model share them) with equal prompt
        # lengths and row counts decode together, bit-identical to running alone (sampling.sample_group).
        group = ("sample", sampler.owner, id(sampler.model), len(job.prompt), job.num_samples)
        batch = (group, run_sample_tasks, max(1, _BATCH_ROWS // job.num_samples))

        def factory() -> FutureState:
            return self.futures.create("sample", "sample")

        if key is None:
            key = (f"anon-{time.monotonic_ns()}", 0)
        return self.scheduler.submit_unordered(key, factory, task, batch)

    # ---- listings ---------------------------------------------------------------------------------------

    def live_models(self) -> list[TrainingModel]:
        with self._lock:
            return list(self._models.values())

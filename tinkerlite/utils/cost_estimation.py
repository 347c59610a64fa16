"""Per-step token and USD accounting for the training loops (the cookbook's ``utils.cost_estimation``).

Tinker bills four kinds of tokens: sampled, prefilled (uncached / prefix-cache hits) and trained. In RL a
sampled token is paid twice (sampled, then trained), so the loops count all four kinds from what they send
and receive and log them every step:

    tokens/<kind>, tokens/cumulative/<kind>, cost/step_usd, cost/cumulative_usd
    (plus tokens/discarded/<kind> and cost/discarded_usd for groups dropped before training)

Rates come from the published pricing file (``models.json``: one object per model with ``"$x.yz"`` prices
per million tokens), downloaded once per process and kept in memory. A failed fetch, an unlisted model or
an incomplete entry logs one warning and the run logs token counts only; training never depends on it.

tinkerlite addition (offline use): ``TINKERLITE_PRICING_URL`` replaces the URL (an ``http(s)://`` or
``file://`` URL, or a plain path to a local copy of ``models.json``). Models served only by tinkerlite's
local server (``tinkerlite/...``) are never priced and never trigger a download.
"""

from __future__ import annotations

import json
import logging
import os
import urllib.request
from collections.abc import Mapping
from dataclasses import asdict, dataclass
from pathlib import Path

from .._version import __version__

logger = logging.getLogger(__name__)

TOKENS_PER_MILLION = 1_000_000

PRICING_URL = "https://tinker-docs.thinkingmachines.ai/tinker/models.json"
"""The Training table of the Models & Pricing page, one object per model."""

_PRICING_URL_ENV = "TINKERLITE_PRICING_URL"
_LOCAL_MODEL_PREFIX = "tinkerlite/"


@dataclass(frozen=True)
class TokenUsage:
    """Billed token counts by kind (the four kinds of :class:`TokenCostRates`)."""

    sampled: int = 0
    prefill_cached: int = 0
    prefill_uncached: int = 0
    trained: int = 0

    def __add__(self, other: TokenUsage) -> TokenUsage:
        return TokenUsage(
            sampled=self.sampled + other.sampled,
            prefill_cached=self.prefill_cached + other.prefill_cached,
            prefill_uncached=self.prefill_uncached + other.prefill_uncached,
            trained=self.trained + other.trained,
        )

    def metrics(self, prefix: str) -> dict[str, int]:
        """The counts as ``<prefix>/<kind>`` metrics."""
        return {f"{prefix}/{kind}": count for kind, count in asdict(self).items()}


@dataclass(frozen=True)
class TokenCostRates:
    """USD per million tokens, one field per column of the Models & Pricing page."""

    prefill_usd_per_million: float
    cached_prefill_usd_per_million: float
    sample_usd_per_million: float
    train_usd_per_million: float

    def estimate_usd(self, usage: TokenUsage) -> float:
        """``(uncached*prefill + cached*cached_prefill + sampled*sample + trained*train) / 1e6``."""
        total = (
            usage.prefill_uncached * self.prefill_usd_per_million
            + usage.prefill_cached * self.cached_prefill_usd_per_million
            + usage.sampled * self.sample_usd_per_million
            + usage.trained * self.train_usd_per_million
        )
        return total / TOKENS_PER_MILLION


def _parse_price(value: object) -> float | None:
    """``"$1.87"`` -> 1.87; missing or unparseable -> None."""
    try:
        return float(str(value).strip().lstrip("$").replace(",", ""))
    except ValueError:
        return None


def rates_from_pricing_entry(entry: Mapping[str, object]) -> TokenCostRates | None:
    """Rates from one ``models.json`` object; None unless all four prices parse."""
    prices = [_parse_price(entry.get(k)) for k in ("prefill", "cached_prefill", "sample", "train")]
    if any(p is None for p in prices):
        return None
    prefill, cached, sample, train = (float(p) for p in prices if p is not None)
    return TokenCostRates(
        prefill_usd_per_million=prefill,
        cached_prefill_usd_per_million=cached,
        sample_usd_per_million=sample,
        train_usd_per_million=train,
    )


def _download_pricing(url: str, timeout: float) -> list[dict[str, object]]:
    """Fetch and shape-check the pricing list (a local path is read directly)."""
    if "://" not in url:
        data = json.loads(Path(url).read_text(encoding="utf-8"))
    else:
        # The docs site answers urllib's default User-Agent with 403.
        request = urllib.request.Request(url, headers={"User-Agent": f"tinker-cookbook/0.6.1 tinkerlite/{__version__}"})
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            data = json.load(resp)
    if not isinstance(data, list) or not all(isinstance(entry, dict) for entry in data):
        raise ValueError(f"expected a JSON list of objects at {url}")
    return data


_pricing_entries: list[dict[str, object]] | None = None
_pricing_fetched = False


def load_model_pricing(*, url: str = PRICING_URL, timeout: float = 5.0) -> list[dict[str, object]] | None:
    """The pricing file, fetched on the first call and kept in memory; None after a failed fetch
    (logged once, not retried until the process restarts)."""
    global _pricing_entries, _pricing_fetched
    if not _pricing_fetched:
        _pricing_fetched = True
        source = os.environ.get(_PRICING_URL_ENV) or url
        try:
            _pricing_entries = _download_pricing(source, timeout)
        except Exception as e:  # network or parse: training must not depend on it
            logger.warning(
                "Could not fetch model pricing from %s (%s: %s); logging token counts only",
                source,
                type(e).__name__,
                e,
            )
    return _pricing_entries


def fetch_model_pricing(model_name: str, *, url: str = PRICING_URL, timeout: float = 5.0) -> TokenCostRates | None:
    """Complete rates for ``model_name`` (exact ``tinker_id`` match, ``:peft:<ctx>`` suffix included), or
    None with one warning. Never raises."""
    if model_name.startswith(_LOCAL_MODEL_PREFIX):
        logger.info("%s is a local tinkerlite model with no price; logging token counts only", model_name)
        return None
    entries = load_model_pricing(url=url, timeout=timeout)
    if entries is None:
        return None
    for entry in entries:
        if entry.get("tinker_id") == model_name:
            rates = rates_from_pricing_entry(entry)
            if rates is None:
                logger.warning(
                    "Pricing entry for %s in %s is incomplete (%s); logging token counts only", model_name, url, entry
                )
                return None
            note = entry.get("note")
            logger.info("Pricing for %s: %s%s", model_name, rates, f" ({note})" if note else "")
            return rates
    logger.warning("Model %s is not listed in %s; logging token counts only", model_name, url)
    return None


class CostTracker:
    """Accumulates per-step :class:`TokenUsage` and turns it into ``tokens/`` and ``cost/`` metrics.

    ``cumulative`` / ``discarded`` carry a previous process's totals (read back from its checkpoint
    record) so they continue across a resume. ``rates=None`` logs token counts only.
    """

    def __init__(
        self,
        rates: TokenCostRates | None = None,
        *,
        cumulative: TokenUsage = TokenUsage(),
        discarded: TokenUsage = TokenUsage(),
    ):
        self.rates = rates
        self.cumulative = cumulative
        """Running totals, discarded sampling included; persisted for resume."""
        self.discarded = discarded
        """The part of :attr:`cumulative` sampled for groups dropped before training."""
        self.step = TokenUsage()
        """The usage of the latest recorded step."""

    def record_discarded_sampling(self, usage: TokenUsage) -> None:
        """Count a dropped group's sampling: into the cumulative and discarded totals, never a step."""
        self.cumulative += usage
        self.discarded += usage

    def cumulative_metrics(self) -> dict[str, float]:
        """The running totals only (levels, so repeating them is harmless)."""
        metrics: dict[str, float] = {
            **self.cumulative.metrics("tokens/cumulative"),
            **self.discarded.metrics("tokens/discarded"),
        }
        if self.rates is not None:
            metrics["cost/cumulative_usd"] = self.rates.estimate_usd(self.cumulative)
            metrics["cost/discarded_usd"] = self.rates.estimate_usd(self.discarded)
        return metrics

    def record_step(self, usage: TokenUsage) -> dict[str, float]:
        """Add one step's usage; returns its ``tokens/...`` metrics (and ``cost/...`` with rates)."""
        self.step = usage
        self.cumulative += usage
        return self._step_metrics()

    def extend_step(self, usage: TokenUsage) -> dict[str, float]:
        """Add usage of the latest step known only after it was recorded (post-update KL scoring)."""
        self.step += usage
        self.cumulative += usage
        return self._step_metrics()

    def _step_metrics(self) -> dict[str, float]:
        metrics: dict[str, float] = {**self.step.metrics("tokens"), **self.cumulative.metrics("tokens/cumulative")}
        if self.rates is not None:
            metrics["cost/step_usd"] = self.rates.estimate_usd(self.step)
            metrics["cost/cumulative_usd"] = self.rates.estimate_usd(self.cumulative)
        return metrics


def usage_from_state(state: Mapping[str, object] | None) -> TokenUsage:
    """A :class:`TokenUsage` read back from a checkpoint ``loop_state`` dict (unknown keys ignored)."""
    if not isinstance(state, Mapping):
        return TokenUsage()
    kinds = ("sampled", "prefill_cached", "prefill_uncached", "trained")
    counts = {k: state.get(k) for k in kinds}
    return TokenUsage(**{k: int(v) if isinstance(v, (int, float)) else 0 for k, v in counts.items()})

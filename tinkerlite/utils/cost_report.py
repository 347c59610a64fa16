"""``tinkerlite cost LOG_DIR``: a run's token counts and USD estimate, read back from its metrics.

The loops log ``tokens/cumulative/<kind>`` (levels) and, when the model was priced, ``cost/cumulative_usd``
every step (see :mod:`tinkerlite.utils.cost_estimation`), so the last row that carries them is the run's
total. ``--pricing PATH_OR_URL`` re-estimates USD from a ``models.json`` for runs logged without rates.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .cost_estimation import TokenCostRates, TokenUsage, _download_pricing, rates_from_pricing_entry
from .files import read_jsonl

_KINDS = ("sampled", "prefill_cached", "prefill_uncached", "trained")


@dataclass(frozen=True)
class RunCost:
    """What one run's metrics say it consumed."""

    log_dir: str
    model_name: str | None
    steps: int
    total: TokenUsage
    discarded: TokenUsage
    logged_usd: float | None
    estimated_usd: float | None = None


def _last_level(rows: list[dict[str, Any]], prefix: str) -> TokenUsage:
    counts: dict[str, int] = {}
    for kind in _KINDS:
        for row in reversed(rows):
            value = row.get(f"{prefix}/{kind}")
            if isinstance(value, (int, float)):
                counts[kind] = int(value)
                break
    return TokenUsage(**counts)


def _model_name(log_dir: Path) -> str | None:
    try:
        config = json.loads((log_dir / "config.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    name = config.get("model_name") if isinstance(config, dict) else None
    return name if isinstance(name, str) else None


def summarize_run(log_dir: str | Path, rates: TokenCostRates | None = None) -> RunCost:
    """Totals from ``LOG_DIR/metrics.jsonl``; ``rates`` adds an estimate independent of what was logged."""
    path = Path(log_dir)
    rows = read_jsonl(path / "metrics.jsonl")
    steps = {row["step"] for row in rows if isinstance(row.get("step"), int) and "tokens/cumulative/trained" in row}
    usd = [row["cost/cumulative_usd"] for row in rows if isinstance(row.get("cost/cumulative_usd"), (int, float))]
    total = _last_level(rows, "tokens/cumulative")
    return RunCost(
        log_dir=str(path),
        model_name=_model_name(path),
        steps=len(steps),
        total=total,
        discarded=_last_level(rows, "tokens/discarded"),
        logged_usd=float(usd[-1]) if usd else None,
        estimated_usd=rates.estimate_usd(total) if rates is not None else None,
    )


def format_run_cost(cost: RunCost) -> str:
    """The report ``tinkerlite cost`` prints."""
    lines = [f"run:    {cost.log_dir}" + (f" (model {cost.model_name})" if cost.model_name else "")]
    lines.append(f"steps:  {cost.steps}")
    lines.append("tokens: " + ", ".join(f"{k} {getattr(cost.total, k):,}" for k in _KINDS))
    if any(getattr(cost.discarded, k) for k in _KINDS):
        lines.append("  of which discarded (dropped groups): " + ", ".join(
            f"{k} {getattr(cost.discarded, k):,}" for k in _KINDS
        ))
    if cost.logged_usd is not None:
        lines.append(f"cost:   ${cost.logged_usd:,.4f} (logged by the run)")
    if cost.estimated_usd is not None:
        lines.append(f"cost:   ${cost.estimated_usd:,.4f} (estimated from --pricing)")
    if cost.logged_usd is None and cost.estimated_usd is None:
        lines.append("cost:   no USD estimate (the model was not priced; pass --pricing models.json)")
    return "\n".join(lines)


def main(argv: Sequence[str]) -> int:
    args = list(argv)
    usage = "usage: tinkerlite cost LOG_DIR [--pricing PATH_OR_URL] [--model NAME]"
    if args and args[0] in ("-h", "--help"):
        print(f"{usage}\nsummarises the tokens and USD a run logged (metrics.jsonl in LOG_DIR)")
        return 0
    pricing = model = None
    positional: list[str] = []
    it = iter(args)
    for arg in it:
        if arg in ("--pricing", "--model"):
            value = next(it, None)
            if value is None:
                print(f"tinkerlite cost: {arg} needs a value ({usage})", file=sys.stderr)
                return 2
            pricing, model = (value, model) if arg == "--pricing" else (pricing, value)
        else:
            positional.append(arg)
    if len(positional) != 1:
        print(f"tinkerlite cost: pass one run's log_path ({usage})", file=sys.stderr)
        return 2
    log_dir = Path(positional[0])
    if not (log_dir / "metrics.jsonl").is_file():
        print(f"tinkerlite cost: {log_dir / 'metrics.jsonl'} not found; pass a run's log_path", file=sys.stderr)
        return 2
    rates = None
    if pricing is not None:
        name = model or _model_name(log_dir)
        try:
            entries = _download_pricing(pricing, 10.0)
        except (OSError, ValueError) as e:
            print(f"tinkerlite cost: cannot read --pricing {pricing}: {e}", file=sys.stderr)
            return 2
        entry = next((e for e in entries if e.get("tinker_id") == name), None)
        rates = rates_from_pricing_entry(entry) if entry is not None else None
        if rates is None:
            print(f"tinkerlite cost: no complete price for model {name!r} in {pricing} (--model NAME)", file=sys.stderr)
            return 2
    try:
        cost = summarize_run(log_dir, rates)
    except (OSError, ValueError) as e:
        print(f"tinkerlite cost: cannot read {log_dir / 'metrics.jsonl'}: {e}", file=sys.stderr)
        return 2
    print(format_run_cost(cost))
    return 0

"""Per-model evaluation defaults (``max_tokens``, ``timeout_seconds``, ``context_window``) behind
``BenchmarkConfig.for_model``: the values of the cookbook 0.6.1 table, as data."""

from __future__ import annotations

MODEL_EVAL_DEFAULTS: dict[str, dict[str, int | float]] = {
    "Qwen/Qwen3.6-35B-A3B": {"max_tokens": 65536, "context_window": 65536, "timeout_seconds": 1800},
    "Qwen/Qwen3.6-27B": {"max_tokens": 65536, "context_window": 65536, "timeout_seconds": 1800},
    "Qwen/Qwen3.8-27B": {"max_tokens": 65536, "context_window": 65536, "timeout_seconds": 1800},
    "Qwen/Qwen3.5-397B-A17B": {"max_tokens": 65536, "context_window": 65536, "timeout_seconds": 1800},
    "Qwen/Qwen3.5-397B-A17B:peft:262144": {"max_tokens": 262144, "context_window": 262144, "timeout_seconds": 1800},
    "Qwen/Qwen3.5-9B": {"max_tokens": 65536, "context_window": 65536, "timeout_seconds": 1800},
    "Qwen/Qwen3.5-4B": {"max_tokens": 65536, "context_window": 65536, "timeout_seconds": 1800},
    "Qwen/Qwen3.5-35B-A3B-Base": {"max_tokens": 65536, "context_window": 65536, "timeout_seconds": 1800},
    "Qwen/Qwen3.5-9B-Base": {"max_tokens": 65536, "context_window": 65536, "timeout_seconds": 1800},
    "Qwen/Qwen3-8B": {"max_tokens": 32768, "context_window": 32768, "timeout_seconds": 1800},
    "nvidia/NVIDIA-Nemotron-3.5-Lightning-30B-A3B-BF16": {
        "max_tokens": 65536,
        "context_window": 65536,
        "timeout_seconds": 1800,
    },
    "nvidia/NVIDIA-Nemotron-3.5-Lightning-30B-A3B-BF16:peft:262144": {
        "max_tokens": 262144,
        "context_window": 262144,
        "timeout_seconds": 1800,
    },
    "nvidia/NVIDIA-Nemotron-3.5-Super-VL-120B-A12B-BF16": {
        "max_tokens": 65536,
        "context_window": 65536,
        "timeout_seconds": 1800,
    },
    "nvidia/NVIDIA-Nemotron-3.5-Super-VL-120B-A12B-BF16:peft:262144": {
        "max_tokens": 262144,
        "context_window": 262144,
        "timeout_seconds": 1800,
    },
    "nvidia/NVIDIA-Nemotron-3-Nano-30B-A3B-BF16": {
        "max_tokens": 65536,
        "context_window": 65536,
        "timeout_seconds": 1800,
    },
    "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16": {
        "max_tokens": 65536,
        "context_window": 65536,
        "timeout_seconds": 1800,
    },
    "nvidia/NVIDIA-Nemotron-3-Super-120B-A12B-BF16:peft:262144": {
        "max_tokens": 262144,
        "context_window": 262144,
        "timeout_seconds": 1800,
    },
    "nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16": {
        "max_tokens": 65536,
        "context_window": 65536,
        "timeout_seconds": 1800,
    },
    "nvidia/NVIDIA-Nemotron-3-Ultra-550B-A55B-BF16:peft:262144": {
        "max_tokens": 262144,
        "context_window": 262144,
        "timeout_seconds": 1800,
    },
    "openai/gpt-oss-120b": {"max_tokens": 32768, "context_window": 32768, "timeout_seconds": 1800},
    "openai/gpt-oss-120b:peft:131072": {"max_tokens": 131072, "context_window": 131072, "timeout_seconds": 1800},
    "openai/gpt-oss-20b": {"max_tokens": 32768, "context_window": 32768, "timeout_seconds": 1800},
    "deepseek-ai/DeepSeek-V3.1": {"max_tokens": 32768, "context_window": 32768, "timeout_seconds": 1800},
    "deepseek-ai/DeepSeek-V4.1-Flash:peft:262144": {
        "max_tokens": 262144,
        "context_window": 262144,
        "timeout_seconds": 1800,
    },
    "deepseek-ai/DeepSeek-V4.1-Flash-1017:peft:262144": {
        "max_tokens": 262144,
        "context_window": 262144,
        "timeout_seconds": 1800,
    },
    "moonshotai/Kimi-K2.6": {"max_tokens": 32768, "context_window": 32768, "timeout_seconds": 1800},
    "moonshotai/Kimi-K2.6:peft:131072": {"max_tokens": 131072, "context_window": 131072, "timeout_seconds": 1800},
    "zai-org/GLM-5.3:peft:262144": {"max_tokens": 262144, "context_window": 262144, "timeout_seconds": 1800},
    "zai-org/GLM-5.3-Flash:peft:262144": {"max_tokens": 262144, "context_window": 262144, "timeout_seconds": 1800},
    "thinkingmachines/Inkling": {"max_tokens": 65536, "context_window": 65536, "timeout_seconds": 1800},
    "thinkingmachines/Inkling:peft:262144": {"max_tokens": 262144, "context_window": 262144, "timeout_seconds": 1800},
    "thinkingmachines/Inkling-Small": {"max_tokens": 65536, "context_window": 65536, "timeout_seconds": 1800},
    "thinkingmachines/Inkling-Small:peft:262144": {
        "max_tokens": 262144,
        "context_window": 262144,
        "timeout_seconds": 1800,
    },
    "thinkingmachines/Inkling-2-Small": {"max_tokens": 65536, "context_window": 65536, "timeout_seconds": 1800},
    "thinkingmachines/Inkling-2-Small:peft:262144": {
        "max_tokens": 262144,
        "context_window": 262144,
        "timeout_seconds": 1800,
    },
}

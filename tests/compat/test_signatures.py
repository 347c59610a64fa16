"""Signature diff against the official SDK 0.38 and cookbook 0.6.1, fetched at test time.

Every public function, method and class of every module both packages have is compared (``sigdiff``:
official side parsed with ``ast``, ours read with ``inspect``): parameter names, order, kinds, defaults,
coroutine-or-not. A difference fails the test unless ``DELIBERATE`` lists it with its reason; a listed
entry that no longer differs fails too, so the table stays true. Coverage figures are printed (run with
``-s``) and available from ``python -m tests.compat.signature_report``.
"""

from __future__ import annotations

import importlib.util

import pytest

from tests.compat.sigdiff import Report, cookbook_report, sdk_report
from tests.official_env import official_source

_NUMPY_FREE = (
    "tinkerlite is numpy-free: list-backed fields replace the SDK's numpy-backed ``*_np`` constructor fields "
    "(readable as numpy-array properties of the same names when numpy is installed)"
)

DELIBERATE: dict[str, str] = {
    # ---- SDK 0.38 ---------------------------------------------------------------------------------------
    "tinker.lib.public_interfaces.service_client:ServiceClient.close": (
        "status defaults to 'success' (tinkerlite's documented close()); every official call still works"
    ),
    "tinker.lib.public_interfaces.sampling_client:SamplingClient.__init__": (
        "internal constructor (clients come from ServiceClient/TrainingClient/from_sampler_handle); ours also "
        "carries the model path and the seq-id block of a pickled clone"
    ),
    "tinker.types.sampled_sequence:SampledSequence": _NUMPY_FREE,
    "tinker.types.sample_response:SampleResponse": _NUMPY_FREE,
    "tinker.types.topk_logprobs:TopkLogprobs": (
        "numpy-free: flat row-major arrays with explicit k and length instead of 2-D numpy matrices"
    ),
    "tinker._exceptions:APITimeoutError.__init__": (
        "optional trailing message naming the URL and the bound; APITimeoutError(request) works as in the SDK"
    ),
    "tinker.types._pydantic_types.save_weights_for_sampler_response:SaveWeightsForSamplerResponse": (
        "one record for the public and the internal (ephemeral sampler) reply: it also carries "
        "sampling_session_id, so path may be absent"
    ),
    "tinker.types._pydantic_types.save_weights_for_sampler_response:SaveWeightsForSamplerResponse.path": (
        "absent for an ephemeral sampler save (see SaveWeightsForSamplerResponse)"
    ),
    "tinker.types.try_again_response:TryAgainResponse": (
        "keeps the server's queue_state_reason (the SDK reads it for its queue-state log line)"
    ),
    # ---- cookbook 0.6.1 ---------------------------------------------------------------------------------
    "tinker_cookbook.utils.code_state:code_state": "the default snapshots this package, named tinkerlite",
    **dict.fromkeys(
        (
            f"tinker_cookbook.recipes.{q}"
            for q in (
                "chat_sl.chat_datasets:Tulu3Builder",
                "chat_sl.chat_datasets:NoRobotsBuilder",
                "chat_sl.train:CLIConfig",
                "chat_sl.train:get_dataset_builder",
                "distillation.off_policy_reasoning:OpenThoughts3Builder",
                "distillation.off_policy_reasoning:CLIConfig",
                "distillation.on_policy_distillation:CLIConfig",
                "math_rl.math_env:MathDatasetBuilder",
                "math_rl.math_env:Gsm8kDatasetBuilder",
                "math_rl.math_env:PolarisDatasetBuilder",
                "math_rl.math_env:DeepMathDatasetBuilder",
                "math_rl.math_env:get_math_dataset_builder",
                "math_rl.train:CLIConfig",
                "math_rl.train:get_dataset_builder",
                "preference.datasets:Tulu38BComparisonBuilder",
                "preference.datasets:HHHComparisonBuilder",
                "preference.datasets:HelpSteer3ComparisonBuilder",
                "preference.datasets:UltraFeedbackComparisonBuilder",
                "preference.datasets:ArenaComparisonBuilder",
                "preference.datasets:HelpSteer2ComparisonBuilder",
                "preference.dpo.train:CLIConfig",
                "preference.dpo.train:get_dataset_builder",
                "rl_numerics_check.env:CountingDatasetBuilder",
                "rl_numerics_check.train:CLIConfig",
            )
        ),
        "extra optional file_path= (issue 13: every recipe also takes a local JSONL file, for offline runs)",
    ),
    **dict.fromkeys(
        (
            "tinker_cookbook.recipes.multiplayer_rl.guess_number.train:CLIConfig",
            "tinker_cookbook.recipes.preference.shorter.train:CLIConfig",
        ),
        "extra optional base_url= (issue 13: every recipe runs against the real service given base_url)",
    ),
    # Extra optional keywords/fields (every official call still works); each is a tinkerlite feature.
    "tinker_cookbook.completers:TinkerTokenCompleter": (
        "extra optional seed= (rl.train Config.seed: reproducible sampling)"
    ),
    "tinker_cookbook.display:colorize_example": (
        "extra optional color= (the inspect CLI's color=always|never|auto; None: color when a terminal)"
    ),
    "tinker_cookbook.distillation.datasets:PromptOnlyDatasetBuilder": (
        "extra optional prompts= (in-memory prompts) and file_path= (a local JSONL): offline runs, no hub dataset"
    ),
    "tinker_cookbook.distillation.train_on_policy:Config": (
        "extra optional adam_beta1/adam_beta2/adam_eps (the Adam settings the cookbook hard-codes), api_key (the "
        "service key without the environment, issue 15), error_policy (rollout failures: fail_fast | drop), "
        "extra (free-form run metadata in config.json), show_progress (the one-line progress display)"
    ),
    **dict.fromkeys(
        ("tinker_cookbook.distillation.train_on_policy:main", "tinker_cookbook.rl.train:main"),
        "extra keyword-only service_client= (train on a given client, e.g. the in-process tinkerlite.local server)",
    ),
    "tinker_cookbook.preference.dpo_datasets:DPODatasetBuilderFromComparisons": (
        "extra optional tie_policy= (default as_b, the cookbook's: a Tie trains B as chosen; skip/error for the "
        "DPO CLI, which drops and counts ties)"
    ),
    "tinker_cookbook.preference.train_dpo:Config": (
        "extra optional api_key (the service key without the environment, issue 15), reference_model_path (pin "
        "the DPO reference to a sampler checkpoint, kept on resume), show_progress (one-line progress display), "
        "warmup_steps (linear warmup before lr_schedule)"
    ),
    **dict.fromkeys(
        (
            "tinker_cookbook.recipes.math_rl.arithmetic_env:ArithmeticDataset.__init__",
            "tinker_cookbook.recipes.math_rl.arithmetic_env:ArithmeticDatasetBuilder",
        ),
        "extra optional seed= (the rl CLI's seed= varies the problems; batch i still depends only on i and seed)",
    ),
    **dict.fromkeys(
        (
            "tinker_cookbook.recipes.multiplayer_rl.twenty_questions.env:TwentyQuestionsEnv.__init__",
            "tinker_cookbook.recipes.multiplayer_rl.twenty_questions.env:TwentyQuestionsEnvGroupBuilder",
            "tinker_cookbook.recipes.multiplayer_rl.twenty_questions.env:TwentyQuestionsDataset",
        ),
        "extra optional max_context_tokens= (default None: no limit, as the cookbook): ends a game unwon at that "
        "length, so a small-context model (tinkerlite.local's) can play",
    ),
    "tinker_cookbook.recipes.multiplayer_rl.twenty_questions.env:TwentyQuestionsDatasetBuilder": (
        "extra optional file_path= (issue 13: secret words from a local file, offline) and max_context_tokens= (see "
        "TwentyQuestionsEnv)"
    ),
    "tinker_cookbook.recipes.multiplayer_rl.twenty_questions.train:CLIConfig": (
        "extra optional answerer_base_model (the cookbook's fixed answerer model as the default; a local run needs "
        "a model the server has), base_url (issue 13: the real service), file_path (secret words, offline), "
        "max_context_tokens (see TwentyQuestionsEnv)"
    ),
    "tinker_cookbook.recipes.prompt_distillation.create_data:Config": (
        "the cookbook's hard-coded teacher (model_name, renderer_name, max_tokens, temperature: its constants "
        "are the defaults) as fields, plus base_url and file_path (issue 13: real service / offline sentences), "
        "so the recipe runs against tinkerlite.local's model"
    ),
    "tinker_cookbook.recipes.rl_loop:Config": (
        "extra optional file_path= (issue 13: a local GSM8K-shaped JSONL for offline runs)"
    ),
    "tinker_cookbook.recipes.sl_loop:Config": (
        "extra optional file_path= (issue 13: a local JSONL of conversations for offline runs)"
    ),
    "tinker_cookbook.rl.rollouts:do_single_rollout": (
        "extra keyword-only max_turns= (rl.train Config.max_turns: a turn limit, stop/max_turns)"
    ),
    "tinker_cookbook.rl.train:Config": (
        "extra optional api_key (the service key without the environment, issue 15), error_policy (rollout "
        "failures: fail_fast | drop), include_provenance (provenance spans on datums), kl_reference_model "
        "(shorthand for kl_reference_config=KLReferenceConfig(base_model=...)), max_turns (turn limit per "
        "episode), seed (reproducible LoRA init and sampling), show_progress (one-line progress display)"
    ),
    "tinker_cookbook.supervised.data:FromConversationFileBuilder": (
        "extra optional prevalidate (render every row first so a bad row is reported as file:line before "
        "training) and reduction (per-sequence 'mean', the cookbook's, or token 'sum' weights)"
    ),
    "tinker_cookbook.supervised.train:Config": (
        "extra optional api_key (the service key without the environment, issue 15), show_progress (one-line "
        "progress display), warmup_steps (linear warmup before lr_schedule)"
    ),
    "tinker_cookbook.supervised.train:Config.submit_ahead": (
        "default 4, not 1 (issue 18): a step's result is known two round trips after its submission, so at "
        "100 ms round trips depth 1 (and 2, on a quiet machine) leaves the server idle between steps; steps, "
        "metrics and checkpoints are the same at every depth (tests/supervised_e2e/test_default_depth.py), "
        "and submit_ahead=1 still gives the cookbook's"
    ),
    "tinker_cookbook.utils.lr_scheduling:compute_schedule_lr_multiplier": (
        "extra optional warmup_steps=0 (the train Configs' warmup_steps; 0 is the cookbook's schedule)"
    ),
    **{
        f"tinker_cookbook.eval.{m}": (
            "needs inspect_ai (the optional 'inspect' extra): without it importing the module raises "
            "MissingExtraError naming the extra; with it the signatures are compared in "
            "tests/eval/test_inspect_e2e.py (in a venv with inspect_ai)"
        )
        for m in ("inspect_evaluators", "inspect_utils", "run_inspect_evals", "custom_inspect_task")
        if importlib.util.find_spec("inspect_ai") is None
    },
}


def _check(rep: Report, label: str) -> None:
    print(rep.summary(label))
    print(f"  modules missing here: {len(rep.modules_missing)}; names missing here: {len(rep.names_missing)}")
    diffs = {d.qualname: ("[extension] " if d.extension else "") + d.message for d in rep.diffs}
    unlisted = {q: m for q, m in diffs.items() if q not in DELIBERATE}
    prefix = "tinker." if label == "sdk" else "tinker_cookbook."
    stale = [q for q in DELIBERATE if q.startswith(prefix) and q not in diffs]
    lines = [f"{q}: {m}" for q, m in sorted(unlisted.items())]
    lines += [f"{q}: listed in DELIBERATE but no longer differs" for q in stale]
    assert not lines, f"{len(lines)} unlisted {label} signature differences:\n" + "\n".join(lines)


@pytest.mark.network_registry
def test_sdk_surface_matches_0_38() -> None:
    rep = sdk_report(official_source("sdk"))
    assert not rep.modules_missing, rep.modules_missing
    assert not rep.names_missing, rep.names_missing
    _check(rep, "sdk")


@pytest.mark.network_registry
def test_cookbook_signatures_match_0_6_1() -> None:
    _check(cookbook_report(official_source("cookbook")), "cookbook")

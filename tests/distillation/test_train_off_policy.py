"""Off-policy distillation: soft targets from the teacher's top-K, and a run that moves the student to it."""

from __future__ import annotations

import asyncio
import json
import math
from pathlib import Path

import pytest

from tinkerlite.distillation.datasets import TeacherConfig
from tinkerlite.distillation.train_off_policy import Config, DatasetWithTeacher, main, soft_target_datum
from tinkerlite.exceptions import ConfigurationError
from tinkerlite.types import Datum, ModelInput, TensorData


def _datum(tokens: list[int], weights: list[float]) -> Datum:
    return Datum(
        model_input=ModelInput.from_ints(tokens[:-1]),
        loss_fn_inputs={
            "target_tokens": TensorData(data=tokens[1:], dtype="int64", shape=[len(tokens) - 1]),
            "weights": TensorData(data=weights, dtype="float32", shape=[len(weights)]),
        },
    )


def test_soft_targets_renormalise_topk_and_mask_untrained_positions() -> None:
    d = _datum([5, 6, 7, 8], [0.0, 1.0, 1.0])
    rows = [None, [(6, -0.1), (9, -2.0)], [(7, math.log(0.5)), (3, math.log(0.25))], [(8, -0.01)]]
    out = soft_target_datum(d, rows, n_teacher_targets=2)
    assert out.loss_fn_inputs["target_tokens"].shape == [3, 2]
    assert out.loss_fn_inputs["target_tokens"].tolist() == [[6, 9], [7, 3], [8, 8]]  # short row padded
    w = out.loss_fn_inputs["weights"].tolist()
    assert w[0] == [0.0, 0.0]  # prompt position: not trained
    assert w[1] == pytest.approx([2 / 3, 1 / 3]) and w[2] == pytest.approx([1.0, 0.0])
    assert out.model_input.to_ints() == [5, 6, 7]


def test_config_errors() -> None:
    with pytest.raises(ConfigurationError, match="dataset_config"):
        asyncio.run(main(Config(learning_rate=1e-3, dataset_configs=[], model_name="m", recipe_name="r", log_path="x")))


def test_student_moves_to_a_trained_teacher(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("numpy", reason="the local server needs the 'local' extra (numpy)")
    import tinkerlite
    import tinkerlite.local
    from tinkerlite.renderers import get_renderer
    from tinkerlite.supervised.data import FromConversationFileBuilder, conversation_to_datum
    from tinkerlite.supervised.types import ChatDatasetBuilderCommonConfig
    from tinkerlite.tokenizers import get_tokenizer
    from tinkerlite.types import AdamParams

    model = "tinkerlite/tiny-chat"
    convo = [{"role": "user", "content": "What color is snow?"}, {"role": "assistant", "content": "Snow is white."}]
    data = tmp_path / "sft.jsonl"
    data.write_text("".join(json.dumps({"messages": convo}) + "\n" for _ in range(16)))
    monkeypatch.setenv("TINKER_API_KEY", "tml-local")
    with tinkerlite.local.serve(long_poll_s=5.0, api_key="tml-local") as url:
        sc = tinkerlite.ServiceClient(base_url=url, api_key="tml-local")
        teacher = sc.create_lora_training_client(model, rank=8).result()
        datum = conversation_to_datum(convo, get_renderer("role_colon", get_tokenizer(model)), max_length=256)
        for _ in range(15):
            teacher.forward_backward([datum], loss_fn="cross_entropy").result()
            teacher.optim_step(AdamParams(learning_rate=2e-2)).result()
        teacher_path = teacher.save_weights_for_sampler("teacher").result().path
        common = ChatDatasetBuilderCommonConfig(
            model_name_for_tokenizer=model, renderer_name="role_colon", max_length=256, batch_size=2
        )
        cfg = Config(
            learning_rate=2e-2,
            dataset_configs=[
                DatasetWithTeacher(
                    dataset_builder=FromConversationFileBuilder(common_config=common, file_path=str(data)),
                    teacher_config=TeacherConfig(base_model=model, load_checkpoint_path=teacher_path),
                )
            ],
            model_name=model,
            recipe_name="test_off_policy",
            log_path=str(tmp_path / "run"),
            renderer_name="role_colon",
            batch_size=2,
            n_teacher_targets=4,
            max_steps=6,
            save_every=3,
            lora_rank=8,
            base_url=url,
        )
        out = asyncio.run(main(cfg))
        sc.close()
    losses = out["losses"]
    assert len(losses) == 6 and losses[-1] < 0.8 * losses[0], losses
    rows = [json.loads(line) for line in (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in rows] == list(range(6))
    ckpts = [json.loads(line) for line in (tmp_path / "run" / "checkpoints.jsonl").read_text().splitlines()]
    assert [c["batch"] for c in ckpts] == [3, 6] and ckpts[-1]["final"] is True

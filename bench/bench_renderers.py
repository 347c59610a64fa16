"""Supervised-example throughput: tinkerlite's renderers vs tinker-cookbook 0.6.1's, in one run.

For 10,000 deterministic chats of 4 messages (user, assistant, user, assistant; no system message; each
message from one word to a few hundred, ASCII/accented/decomposed/CJK/emoji/code/whitespace text;
``--messages 2`` gives the older one-turn workload) this builds ``build_supervised_example(messages)`` (the
default ``LAST_ASSISTANT_MESSAGE``) for each case of CASES: one renderer per family the cookbook builds
from text -- role_colon, Llama 3, Qwen3, Qwen3-VL, Qwen3.5, Qwen3.8, DeepSeek V3 and V4.1, gpt-oss, Kimi
K2/K2.5/K2.6, Nemotron 3 and 3 Ultra, GLM-5.3 -- on the real tokenizers of tests/testdata, or the stand-in
its goldens use (GLM-5.3). Not covered: ``tml_v0`` and ``kimi_k31_pro_*``, whose cookbook renderers need
the compiled ``tml_renderers`` package, which no registry release provides (so there is nothing to time
against). Sides:

* tinkerlite with the default ``auto`` tokenizer backend (the figure the target is about);
* tinkerlite, HF ``tokenizers`` backend only (``hf``);
* tinkerlite, pure-Python backend only (``TINKERLITE_TOKENIZER_BACKEND=pure``);
* the official cookbook renderers, in a throwaway venv
  (``~/.cache/tinkerlite/official-venvs/cookbook-0.6.1-renderers``: torch 2.13.0 CPU, tinker 0.38.0,
  transformers, pillow -- which the cookbook's renderers import -- the *same*
  ``tokenizers`` version as here, and ``tinker-cookbook==0.6.1`` with ``--no-deps``), fed the same local
  ``tokenizer.json`` files through ``transformers.PreTrainedTokenizerFast`` as the golden generator does.

Every side's tokens and weights for *all* conversations are compared with the cookbook's (a digest per
conversation of exactly the outputs that were timed; full lists for a few, to show the first difference): a
benchmark of wrong output is worthless, so any difference aborts the run. Each timed pass starts from a freshly
loaded tokenizer and renderer (loading is not timed), so caches never carry over between passes: the pure
backend's word cache, for one, would otherwise make a second pass over the same texts nearly free. Timing is
CPU seconds of the worker process (``time.process_time``; the machine is shared, so wall time mostly measures
other people), tokenizers single-threaded on both sides. The sides live in worker processes that take turns:
each round, every side does one pass per family, in a rotating order, so they all meet the same load; the
median of each side's rounds is reported. Run::

    python -m tests.testdata                 # once: the pinned tokenizer data
    python bench/bench_renderers.py [--n 10000] [--messages 4] [--repeats 3] [--no-pure] [--no-hf]
                                    [--cases qwen3,glm5_3] [--cookbook-python PY] [--json OUT]

``--cookbook-python`` (or ``$TINKERLITE_COOKBOOK_PYTHON``) reuses an existing venv instead of creating one;
its ``tokenizers`` version is checked against this environment's either way.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import statistics
import struct
import subprocess
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

os.environ.setdefault("RAYON_NUM_THREADS", "1")  # before tokenizers is imported, on both sides
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("OMP_NUM_THREADS", "1")

ROOT = Path(__file__).resolve().parents[1]

# (case, tokenizer family in tests/testdata or a renderer stand-in, renderer name, bos, eos) -- bos/eos as
# the golden generator passes them. Families without a pinned real tokenizer use the goldens' stand-ins.
# One case per renderer family the cookbook 0.6.1 builds from text (the variants of a family share its code).
_DS = ("<｜begin▁of▁sentence｜>", "<｜end▁of▁sentence｜>")
CASES: list[tuple[str, str, str, str | None, str]] = [
    ("role_colon", "llama3", "role_colon", "<|begin_of_text|>", "<|eot_id|>"),
    ("llama3", "llama3", "llama3", "<|begin_of_text|>", "<|eot_id|>"),
    ("qwen3", "qwen3", "qwen3", None, "<|im_end|>"),
    ("qwen3_vl", "qwen3", "qwen3_vl", None, "<|im_end|>"),
    ("qwen3_5", "qwen3", "qwen3_5", None, "<|im_end|>"),
    ("qwen3_8", "qwen3", "qwen3_8_xhigh_reasoning", None, "<|im_end|>"),
    ("deepseekv3", "deepseek_v3_1", "deepseekv3", *_DS),
    ("deepseekv4_1", "deepseek_v3_1", "deepseekv4_1", *_DS),
    ("gpt_oss", "gpt_oss", "gpt_oss_medium_reasoning", "<|startoftext|>", "<|return|>"),
    ("kimi_k2", "kimi_k2", "kimi_k2", "[BOS]", "[EOS]"),
    ("kimi_k25", "kimi_k2", "kimi_k25", "[BOS]", "[EOS]"),
    ("kimi_k26", "kimi_k2", "kimi_k26_preserve_thinking", "[BOS]", "[EOS]"),
    ("nemotron3", "qwen3", "nemotron3", None, "<|im_end|>"),
    ("nemotron3_ultra", "qwen3", "nemotron3_ultra", None, "<|im_end|>"),
    ("glm5_3", "glm5_3_standin", "glm5_3_max_reasoning", None, "<|endoftext|>"),
]
GPT_OSS_DATE = "2026-01-15"  # gpt-oss's system prompt carries a date: the same fixed one on both sides
COOKBOOK_REQUIREMENTS = ["torch==2.13.0", "tinker==0.38.0", "transformers", "pillow"]
COOKBOOK_SPEC = "tinker-cookbook==0.6.1"
SEED = 20251125

# --------------------------------------------------------------------------------------------------
# Conversations (stdlib only: the cookbook worker imports this file too)
# --------------------------------------------------------------------------------------------------

_WORDS = (
    "the of and to in is you that it he was for on are as with his they at be this have from or one had by "
    "word but not what all were we when your can said there use an each which she do how their if will up "
    "other about out many then them these so some her would make like him into time has look two more write "
    "go see number no way could people my than first water been call who oil its now find long down day did "
    "get come made may part model training gradient tokenizer renderer assistant conversation example"
).split()
_ACCENTED = "café naïve façade über Straße déjà-vu résumé Ångström jalapeño coöperate piñata crème brûlée".split()
_CJK = ("你好世界", "机器学习", "自然语言处理", "こんにちは", "東京タワー", "カタカナ", "한국어", "대한민국", "数据")
_EMOJI = ("🙂", "🚀", "👩‍💻", "🇫🇷", "❤️", "👍🏽", "🤖", "✨", "🧪")
_SYMBOLS = ("—", "…", "«", "»", "“", "”", "±", "∑", "→", "°C", "€", "™", "½")
_CODE = (
    "def f(x):\n    return x * 2\n",
    '{"a": [1, 2.5, null], "b": "x"}',
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    "SELECT id, name FROM users WHERE age >= 21;",
    "```python\nprint('hello')\n```",
)
_WHITESPACE = ("\n", "\n\n", "  ", "\t", " \n", "\r\n")
# Literal control-token strings typed by a user: rendered as text or control tokens, identically on both sides.
_LITERALS = ("<|im_end|>", "<|eot_id|>", "<think>", "</think>", "<|endoftext|>")


_SYLLABLES = (
    "ka ro mi ten sul bar vok ine ast pre lum dor qui xel an ber cho ful gra hel ist jor kel lo mar nu "
    "ost pa rim sto tra und vel wen yor zan eth ous ing ment tion"
).split()


def _pseudo_word(rng: random.Random) -> str:
    """Words outside any small vocabulary, so BPE (and every word cache) meets new pieces throughout."""
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.randint(2, 4)))


def _piece(rng: random.Random) -> str:
    r = rng.random()
    if r < 0.50:
        w = rng.choice(_WORDS)
        return w.capitalize() if rng.random() < 0.1 else w
    if r < 0.70:
        w = _pseudo_word(rng)
        return w.capitalize() if rng.random() < 0.2 else w
    if r < 0.76:
        w = rng.choice(_ACCENTED)
        # ~1 in 4 decomposed (NFD): exercises Qwen's NFC normalizer
        return __import__("unicodedata").normalize("NFD", w) if rng.random() < 0.25 else w
    if r < 0.82:
        return rng.choice(_CJK)
    if r < 0.85:
        return rng.choice(_EMOJI)
    if r < 0.89:
        return str(rng.randint(0, 10 ** rng.randint(1, 9)))
    if r < 0.92:
        return rng.choice(_SYMBOLS)
    if r < 0.94:
        return rng.choice(_CODE)
    if r < 0.995:
        return rng.choice(_WHITESPACE)
    return rng.choice(_LITERALS)


def _text(rng: random.Random, max_words: int) -> str:
    n = max(1, round(2 ** rng.uniform(0, max_words.bit_length() - 1)))
    out: list[str] = []
    for _ in range(n):
        p = _piece(rng)
        out.append(p)
        out.append(rng.choice(" ,.;:!?") if rng.random() < 0.12 else " ")
    text = "".join(out)
    return text.strip() if rng.random() < 0.9 else text  # keep edge whitespace sometimes


def make_conversations(n: int, seed: int = SEED, messages: int = 4) -> list[list[dict[str, str]]]:
    """``n`` system-less chats of ``messages`` alternating user/assistant messages (the last an assistant's);
    the same list on every machine and Python version."""
    if messages < 2 or messages % 2:
        raise ValueError(f"messages must be an even number >= 2, got {messages}")
    rng = random.Random(seed)
    return [
        [
            m
            for _ in range(messages // 2)
            for m in (
                {"role": "user", "content": _text(rng, 256)},
                {"role": "assistant", "content": _text(rng, 512)},
            )
        ]
        for _ in range(n)
    ]


def conversations_digest(convs: Sequence[Any]) -> str:
    return hashlib.sha256(json.dumps(convs, ensure_ascii=False).encode()).hexdigest()


# --------------------------------------------------------------------------------------------------
# One side: build all examples, digest them (untimed), then time full passes
# --------------------------------------------------------------------------------------------------


def _example_digest(tokens: Sequence[int], weights: Iterable[float]) -> str:
    h = hashlib.blake2b(digest_size=12)
    h.update(struct.pack(f"<{len(tokens)}q", *tokens))
    h.update(b"|")
    h.update(struct.pack(f"<{len(tokens)}d", *[float(w) for w in weights]))
    return h.hexdigest()


def timed_pass(
    make: Callable[[], Callable[[list[dict[str, str]]], Any]],
    to_lists: Callable[[Any], tuple[list[int], list[float]]],
    convs: list[list[dict[str, str]]],
    keep: set[int],
) -> dict[str, Any]:
    """One pass over all conversations with a freshly loaded tokenizer and renderer (loading is not timed).

    Outputs are kept during the pass, as a dataset builder keeps them, and digested after it (untimed), so
    the checked tokens are exactly the timed ones.
    """
    build = make()
    outs: list[Any] = []
    append = outs.append
    w0, t0 = time.perf_counter(), time.process_time()
    for conv in convs:
        append(build(conv))
    cpu, wall = time.process_time() - t0, time.perf_counter() - w0
    digests: list[str] = []
    kept: dict[str, Any] = {}
    n_tokens = 0
    for i, out in enumerate(outs):
        tokens, weights = to_lists(out)
        n_tokens += len(tokens)
        digests.append(_example_digest(tokens, weights))
        if i in keep:
            kept[str(i)] = {"tokens": tokens, "weights": weights}
    return {"cpu_s": cpu, "wall_s": wall, "tokens": n_tokens, "digests": digests, "kept": kept}


def _tinkerlite_makers(backend: str) -> dict[str, Any]:
    sys.path.insert(0, str(ROOT))
    from tests.renderers.tokenizers_for_tests import family_dir as tokenizer_dir
    from tinkerlite.renderers import TrainOnWhat, get_renderer
    from tinkerlite.tokenizers import load_tokenizer
    from tinkerlite.tokenizers.loader import clear_cache

    mode = TrainOnWhat.LAST_ASSISTANT_MESSAGE
    makers: dict[str, Any] = {}
    for case, family, renderer_name, _, _ in _selected_cases():
        family_dir = tokenizer_dir(family)

        def make(directory: Path = family_dir, name: str = renderer_name) -> Any:
            clear_cache()  # a fresh tokenizer: no warm caches carried over from an earlier pass
            renderer = get_renderer(name, load_tokenizer(directory, backend=backend))
            if name.startswith("gpt_oss"):
                renderer.current_date = GPT_OSS_DATE  # type: ignore[attr-defined]
            return lambda conv: renderer.build_supervised_example(conv, mode)

        makers[case] = make
    return makers


def _cookbook_makers(spec: dict[str, Any]) -> dict[str, Any]:
    """Inside the cookbook venv: official renderers on the same local tokenizer files."""
    import logging
    import warnings

    warnings.simplefilter("ignore")
    logging.disable(logging.WARNING)
    import torch
    from tinker_cookbook.renderers import TrainOnWhat, get_renderer  # type: ignore[import-not-found]
    from transformers import PreTrainedTokenizerFast  # type: ignore[import-not-found]

    torch.set_num_threads(1)
    mode = TrainOnWhat.LAST_ASSISTANT_MESSAGE
    makers: dict[str, Any] = {}
    for case, family, renderer_name, bos, eos in _selected_cases():

        def make(path: str = spec["tokenizer_files"][family], fam: str = family, name: str = renderer_name,
                 bos: Any = bos, eos: Any = eos) -> Any:  # fmt: skip
            tok = PreTrainedTokenizerFast(tokenizer_file=path, bos_token=bos, eos_token=eos)
            tok.name_or_path = fam
            renderer = get_renderer(name, tok, model_name=fam)
            if name.startswith("gpt_oss"):
                renderer.current_date = GPT_OSS_DATE
            return lambda conv: renderer.build_supervised_example(conv, train_on_what=mode)

        makers[case] = make
    return makers


def _selected_cases() -> list[tuple[str, str, str, str | None, str]]:
    """CASES, or those named in ``$BENCH_RENDERER_CASES`` (comma-separated; set by ``--cases``)."""
    wanted = os.environ.get("BENCH_RENDERER_CASES")
    return [c for c in CASES if not wanted or c[0] in wanted.split(",")]


def _to_lists(out: Any) -> tuple[list[int], list[float]]:
    return out[0].to_ints(), [float(x) for x in out[1].tolist()]


def worker(kind: str) -> None:
    """Serve passes on request (one JSON line in, one out) so the orchestrator can interleave the sides."""
    import tokenizers

    spec = json.loads(sys.stdin.readline())
    makers = _cookbook_makers(spec) if kind == "cookbook" else _tinkerlite_makers(kind)
    convs = make_conversations(spec["n"], spec["seed"], spec["messages"])
    keep = set(_keep_indices(spec["n"]))
    first: dict[str, list[str]] = {}
    hello = {"tokenizers": tokenizers.__version__, "conversations_sha256": conversations_digest(convs)}
    print(json.dumps(hello), flush=True)
    for line in sys.stdin:
        family = json.loads(line)["family"]
        res = timed_pass(makers[family], _to_lists, convs, keep)
        if family not in first:
            first[family] = res["digests"]
        elif res["digests"] != first[family]:
            raise SystemExit(f"{kind}/{family}: a later pass produced different output from the first")
        else:
            del res["digests"], res["kept"]  # already sent and checked
        print(json.dumps(res), flush=True)


def _keep_indices(n: int) -> list[int]:
    """Conversations whose full token lists travel back (for a readable diff; all are digest-checked)."""
    return sorted({0, 1, n // 2, n - 1} | set(range(0, n, max(1, n // 20))))


# --------------------------------------------------------------------------------------------------
# Orchestration
# --------------------------------------------------------------------------------------------------


def _tokenizers_version() -> str:
    import tokenizers

    return str(tokenizers.__version__)


def cookbook_python(explicit: str | None) -> Path:
    if explicit:
        return Path(explicit)
    sys.path.insert(0, str(ROOT))
    from tests.official_env import ensure_venv

    py = ensure_venv(
        "cookbook-0.6.1-renderers", [*COOKBOOK_REQUIREMENTS, f"tokenizers=={_tokenizers_version()}"], timeout=1800
    )
    probe = subprocess.run(
        [str(py), "-c", "import importlib.util, sys; sys.exit(importlib.util.find_spec('tinker_cookbook') is None)"],
        capture_output=True,
        check=False,
    )
    if probe.returncode != 0:  # --no-deps: its declared deps would pull a different torch/tokenizers
        subprocess.run(
            [str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check", "--no-deps", COOKBOOK_SPEC],
            check=True,
        )
    return py


class Worker:
    """A side's worker process, kept alive across passes."""

    def __init__(self, name: str, argv: list[str], spec: dict[str, Any], env: dict[str, str] | None = None) -> None:
        self.name = name
        self.proc = subprocess.Popen(
            argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=str(ROOT)
        )
        self.hello = self._ask(spec)

    def _ask(self, msg: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(msg) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise SystemExit(f"worker {self.name} died (exit {self.proc.wait()}); its stderr is above")
        reply: dict[str, Any] = json.loads(line)
        return reply

    def run_pass(self, family: str) -> dict[str, Any]:
        return self._ask({"family": family})

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait()


def _first_diff(a: Sequence[Any], b: Sequence[Any]) -> int:
    for i, (x, y) in enumerate(zip(a, b, strict=False)):
        if x != y:
            return i
    return min(len(a), len(b))


def check_same(name: str, ref: dict[str, Any], other: dict[str, Any], seed: int, messages: int) -> None:
    bad = [i for i, (x, y) in enumerate(zip(ref["digests"], other["digests"], strict=True)) if x != y]
    if not bad:
        return
    lines = [f"{name}: {len(bad)} of {len(ref['digests'])} conversations differ (first: {bad[:10]})"]
    for k in bad[:3]:
        conv = make_conversations(k + 1, seed, messages)[k]
        lines.append(f"  conversation {k}: {json.dumps(conv, ensure_ascii=False)[:300]}")
    for key in sorted(set(ref["kept"]) & set(other["kept"]), key=int):
        ra, rb = ref["kept"][key]["tokens"], other["kept"][key]["tokens"]
        if ra != rb:
            i = _first_diff(ra, rb)
            lines.append(f"  kept {key}: tokens first differ at {i}: {ra[i : i + 8]} vs {rb[i : i + 8]}")
            break
    raise SystemExit("\n".join(lines))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=10_000, help="conversations (default 10,000)")
    ap.add_argument("--repeats", type=int, default=3, help="interleaved rounds; each side's best is reported")
    ap.add_argument("--seed", type=int, default=SEED)
    ap.add_argument("--messages", type=int, default=4, help="messages per chat, user/assistant alternating (default 4)")
    ap.add_argument("--pure-repeats", type=int, default=None, help="rounds the pure backend joins (default all)")
    ap.add_argument("--no-pure", action="store_true", help="skip the pure-Python backend")
    ap.add_argument("--no-hf", action="store_true", help="skip the HF-only backend (auto is always timed)")
    ap.add_argument("--cookbook-python", default=os.environ.get("TINKERLITE_COOKBOOK_PYTHON"))
    ap.add_argument("--json", type=Path, default=None, help="also write the figures here")
    ap.add_argument(
        "--baseline-tree",
        type=Path,
        default=None,
        help="also time tinkerlite (hf) from another checkout holding this script, e.g. `git archive HEAD` unpacked",
    )
    ap.add_argument("--cases", default=None, help=f"comma-separated subset of {','.join(c[0] for c in CASES)}")
    ap.add_argument("--worker", choices=["cookbook", "auto", "hf", "pure"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.worker:
        worker(args.worker)
        return

    if args.cases:
        os.environ["BENCH_RENDERER_CASES"] = args.cases  # the workers inherit it
    sys.path.insert(0, str(ROOT))
    from tests.renderers.tokenizers_for_tests import family_dir

    here_version = _tokenizers_version()
    py = cookbook_python(args.cookbook_python)
    spec = {
        "n": args.n,
        "seed": args.seed,
        "messages": args.messages,
        "tokenizer_files": {f: str(family_dir(f) / "tokenizer.json") for _, f, _, _, _ in CASES},
    }
    me = str(Path(__file__).resolve())
    print(f"{args.n} chats of {args.messages} messages; tokenizers {here_version} on both sides", flush=True)
    print(f"cookbook venv {py}", flush=True)
    t_start = time.perf_counter()
    workers = [Worker("cookbook 0.6.1", [str(py), me, "--worker", "cookbook"], spec)]
    # The default backend (``auto``: HF, with single short encodes on the pure backend where it agrees).
    env_auto = {k: v for k, v in os.environ.items() if k != "TINKERLITE_TOKENIZER_BACKEND"}
    workers.append(Worker("tinkerlite auto", [sys.executable, me, "--worker", "auto"], spec, env=env_auto))
    if not args.no_hf:
        workers.append(Worker("tinkerlite hf", [sys.executable, me, "--worker", "hf"], spec))
    if args.baseline_tree is not None:
        script = args.baseline_tree.resolve() / "bench" / "bench_renderers.py"
        argv = [sys.executable, str(script), "--worker", "hf"]
        workers.append(Worker(f"hf @{args.baseline_tree.name}"[:16], argv, spec))
    if not args.no_pure:
        env = {**os.environ, "TINKERLITE_TOKENIZER_BACKEND": "pure"}
        workers.append(Worker("tinkerlite pure", [sys.executable, me, "--worker", "pure"], spec, env=env))
    for w in workers:
        if w.hello["tokenizers"] != here_version:
            raise SystemExit(f"{w.name} runs tokenizers {w.hello['tokenizers']}, this environment {here_version}")
        if w.hello["conversations_sha256"] != workers[0].hello["conversations_sha256"]:
            raise SystemExit(f"{w.name} generated different conversations")

    # Rounds: every side does one pass per family, one side at a time (never in parallel), in an order that
    # rotates each round, so all sides see the same (shared, noisy) machine.
    results: dict[tuple[str, str], list[dict[str, Any]]] = {}
    pure_rounds = args.repeats if args.pure_repeats is None else args.pure_repeats
    for rnd in range(args.repeats):
        for family, _, _, _, _ in _selected_cases():
            order = workers[rnd % len(workers) :] + workers[: rnd % len(workers)]
            for w in order:
                if w.name == "tinkerlite pure" and rnd >= pure_rounds:
                    continue
                res = w.run_pass(family)
                results.setdefault((w.name, family), []).append(res)
                print(f"  round {rnd + 1} {family:12} {w.name:16} {res['cpu_s']:7.2f} CPU s", flush=True)
    for w in workers:
        w.close()
    elapsed = time.perf_counter() - t_start

    rows: list[dict[str, Any]] = []
    for family, _, renderer_name, _, _ in _selected_cases():
        ref = results[(workers[0].name, family)][0]
        for w in workers:
            passes = results[(w.name, family)]
            if w is not workers[0]:
                check_same(f"{family}: {w.name} vs cookbook", ref, passes[0], args.seed, args.messages)
            best = statistics.median(r["cpu_s"] for r in passes)
            rows.append(
                {
                    "family": family,
                    "renderer": renderer_name,
                    "side": w.name,
                    "conversations": args.n,
                    "tokens": passes[0]["tokens"],
                    "passes": len(passes),
                    "cpu_s_all": [round(r["cpu_s"], 3) for r in passes],
                    "cpu_s": best,
                    "conv_per_s": args.n / best,
                    "tokens_per_s": passes[0]["tokens"] / best,
                }
            )
    print(f"\nall outputs identical to the cookbook's ({args.n} chats per family, every token and weight)\n")
    header = (
        f"{'case':15} {'side':16} {'tokens':>9} {'median CPU':>10} {'ms/chat':>8} {'tokens/s':>10} "
        f"{'vs cookbook':>11}  per round"
    )
    print(header)
    for row in rows:
        base = next(r for r in rows if r["family"] == row["family"] and r["side"] == workers[0].name)
        row["ms_per_chat"] = 1e3 * row["cpu_s"] / args.n
        row["ratio_vs_cookbook"] = row["conv_per_s"] / base["conv_per_s"]
        # Round k of every side ran back to back, so the per-round ratios pair like with like.
        row["ratio_per_round"] = [round(b / x, 2) for b, x in zip(base["cpu_s_all"], row["cpu_s_all"], strict=False)]
        print(
            f"{row['family']:15} {row['side']:16} {row['tokens']:>9} {row['cpu_s']:>10.2f} {row['ms_per_chat']:>8.3f} "
            f"{row['tokens_per_s']:>10.0f} {row['ratio_vs_cookbook']:>10.2f}x  "
            + " ".join(f"{r:.2f}" for r in row["ratio_per_round"])
        )
    print(f"\n(median of {args.repeats} interleaved rounds; bench wall time {elapsed:.0f} s; target: default >= 2x)")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        doc = {"tokenizers": here_version, "n": args.n, "messages": args.messages, "seed": args.seed, "rows": rows}
        args.json.write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()

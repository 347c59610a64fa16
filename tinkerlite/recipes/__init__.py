"""The cookbook's recipes, written for tinkerlite under the cookbook's module names and config keys.

Each recipe runs as ``python -m tinkerlite.recipes.<name> key=value ...``: against the service named by
``base_url`` (or ``$TINKER_BASE_URL``), and otherwise against an embedded local server with the built-in
tiny model, so it works offline. Hub datasets load with ``datasets`` when it is installed; every recipe
also takes ``file_path=`` (JSONL in the recipe's row shape) and falls back to a tiny bundled file.

The sibling modules (``chat_sl.chat_datasets``, ``math_rl.math_env``, ``multiplayer_rl.guess_number.env``,
...) keep the cookbook's names, so a cookbook recipe whose imports are rewritten to ``tinkerlite`` finds
them. The recipes build on the library (``tinkerlite.supervised``, ``rl``, ``preference``,
``distillation``) and hold only what is particular to each task.
"""

"""tau2-Bench's data-side pieces (the cookbook's ``_tau2_bench``): tool-schema conversion, the simulated
tool backend over the domain database, and action-match grading. Kept apart from the env and builder
(``_tau2_bench``) by concept; behaviour is the cookbook's, heuristics included."""

from __future__ import annotations

import copy
import json
import logging
from typing import Any

logger = logging.getLogger("tinkerlite.eval.benchmarks._tau2_bench")

_MUTATION_WORDS = {"update", "set", "change", "modify", "new", "replace", "cancel", "create", "delete", "remove", "add"}


def _convert_tau2_tools_to_openai(tau2_tools: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """tau2's flat ``parameters: [{name, type, required, description, enum}]`` as OpenAI function specs."""
    out = []
    for t in tau2_tools:
        properties: dict[str, dict[str, Any]] = {}
        required: list[str] = []
        for param in t.get("parameters", []):
            prop: dict[str, Any] = {"type": param.get("type", "string")}
            if param.get("description"):
                prop["description"] = param["description"]
            if param.get("enum"):
                prop["enum"] = param["enum"]
            properties[param["name"]] = prop
            if param.get("required", False):
                required.append(param["name"])
        out.append(
            {
                "type": "function",
                "function": {
                    "name": t["name"],
                    "description": t.get("description", ""),
                    "parameters": {"type": "object", "properties": properties, "required": required},
                },
            }
        )
    return out


class ToolBackend:
    """Executes tool calls against an in-memory copy of the domain database.

    The tool's schema says which arguments identify a record (``*_id``, ``email``, descriptions saying
    "identifier"...) and whether the call writes (mutation words, ``new_*``); the collection is found by
    a key match or by name overlap with the tool. A tool touching no collection answers a generic success:
    grading looks only at which tools were called with which arguments (``call_log``).
    """

    def __init__(self, db: dict[str, Any], tool_definitions: list[dict[str, Any]]):
        self.db = copy.deepcopy(db)
        self.tool_definitions = tool_definitions
        self._tools_by_name: dict[str, dict[str, Any]] = {}
        for t in tool_definitions:
            fn = t.get("function", t)
            if fn.get("name", ""):
                self._tools_by_name[fn["name"]] = fn
        self.call_log: list[dict[str, Any]] = []

    def execute(self, tool_name: str, arguments: dict[str, Any]) -> str:
        """Run one call; the result (or the error) as JSON text."""
        self.call_log.append({"name": tool_name, "arguments": arguments})
        if tool_name not in self._tools_by_name:
            available = sorted(self._tools_by_name.keys())
            logger.warning("Tool %r not found in schema. Available: %s", tool_name, available)
            return json.dumps({"error": f"Unknown tool: {tool_name}. Available: {available}"})
        try:
            return json.dumps(self._execute_tool(tool_name, arguments), default=str)
        except Exception as e:
            return json.dumps({"error": f"Tool execution failed: {e}"})

    def _execute_tool(self, tool_name: str, args: dict[str, Any]) -> Any:
        param_props = self._tools_by_name[tool_name].get("parameters", {}).get("properties", {})
        id_args = self._identify_id_args(param_props, args)
        value_args = {k: v for k, v in args.items() if k not in id_args}
        collection_name, collection = self._find_collection(tool_name, args)
        if collection is None:
            return {"status": "success", "tool": tool_name, "arguments": args}
        if bool(value_args) and self._schema_looks_like_write(tool_name, param_props, value_args):
            return self._handle_write(collection_name, collection, id_args, value_args)
        return self._handle_read(collection, args)

    @staticmethod
    def _identify_id_args(param_props: dict[str, Any], args: dict[str, Any]) -> dict[str, Any]:
        """The arguments that look like record identifiers."""
        id_keys: dict[str, Any] = {}
        for key, val in args.items():
            desc = str(param_props.get(key, {}).get("description", "")).lower()
            k = key.lower()
            if (
                k.endswith("_id")
                or k == "id"
                or k.endswith("_number")
                or k in ("email", "username", "phone")
                or any(cue in desc for cue in ("identifier", "unique", "id of", "id for"))
            ):
                id_keys[key] = val
        return id_keys

    @staticmethod
    def _schema_looks_like_write(tool_name: str, param_props: dict[str, Any], value_args: dict[str, Any]) -> bool:
        """A mutation word in a value argument's description, or a ``new_*`` argument."""
        for key in value_args:
            desc = str(param_props.get(key, {}).get("description", "")).lower()
            if any(w in desc for w in _MUTATION_WORDS) or key.lower().startswith("new_"):
                return True
        return False

    def _find_collection(self, tool_name: str, args: dict[str, Any]) -> tuple[str, Any]:
        """A dict collection holding one of the argument values as a key; else the best name overlap."""
        if not self.db:
            return "", None
        for name, coll in self.db.items():
            if isinstance(coll, dict) and any(str(v) in coll for v in args.values()):
                return name, coll
        tool_lower = tool_name.lower()
        tool_tokens = set(tool_lower.split("_"))
        best_name, best_coll, best_score = "", None, 0
        for name, coll in self.db.items():
            if not isinstance(coll, (list, dict)):
                continue
            coll_lower = name.lower()
            coll_tokens = set(coll_lower.split("_"))
            overlap = len(tool_tokens & coll_tokens)
            if coll_lower in tool_lower or tool_lower in coll_lower:
                overlap += 2
            for ct in coll_tokens:
                for tt in tool_tokens:
                    if (ct.startswith(tt) or tt.startswith(ct)) and abs(len(ct) - len(tt)) <= 1:
                        overlap += 1
            if overlap > best_score:
                best_name, best_coll, best_score = name, coll, overlap
        return (best_name, best_coll) if best_score > 0 else ("", None)

    def _handle_read(self, collection: Any, args: dict[str, Any]) -> Any:
        if isinstance(collection, dict):
            for val in args.values():
                if str(val) in collection:
                    return collection[str(val)]
            found = [e for e in collection.values() if isinstance(e, dict) and self._matches(e, args)]
            if len(found) == 1:
                return found[0]
            return found if found else {"message": "No matching records found"}
        if isinstance(collection, list):
            found = [r for r in collection if isinstance(r, dict) and self._matches(r, args)]
            if len(found) == 1:
                return found[0]
            return found if found else []
        return collection

    def _handle_write(
        self, collection_name: str, collection: Any, id_args: dict[str, Any], value_args: dict[str, Any]
    ) -> Any:
        if isinstance(collection, dict):
            for val in id_args.values():
                key = str(val)
                if key in collection and isinstance(collection[key], dict):
                    collection[key].update(value_args)
                    return {"status": "success", "updated": collection[key]}
            for entry in collection.values():
                if isinstance(entry, dict) and self._matches(entry, id_args):
                    entry.update(value_args)
                    return {"status": "success", "updated": entry}
        elif isinstance(collection, list):
            for record in collection:
                if isinstance(record, dict) and self._matches(record, id_args):
                    record.update(value_args)
                    return {"status": "success", "updated": record}
        return {"status": "success", "tool": f"write to {collection_name}", "id": id_args, "values": value_args}

    @staticmethod
    def _matches(record: dict[str, Any], filters: dict[str, Any]) -> bool:
        """Every filter the record has equals it, case-insensitively (None on either side: ignored)."""
        for key, val in filters.items():
            if val is None or record.get(key) is None:
                continue
            if str(record.get(key)).lower() != str(val).lower():
                return False
        return True


def _check_actions(
    predicted_calls: list[dict[str, Any]], expected_actions: list[dict[str, Any]]
) -> tuple[float, dict[str, Any]]:
    """The fraction of expected actions matched by distinct predicted calls (any order, extras free):
    same name, every non-None expected argument equal as lower-cased text."""
    if not expected_actions:
        return 1.0, {"actions_matched": 0, "actions_expected": 0}
    consumed: set[int] = set()
    matched = 0
    for expected in expected_actions:
        exp_name = str(expected.get("name", expected.get("action", ""))).lower()
        exp_args = expected.get("arguments", expected.get("parameters", {}))
        for i, pred in enumerate(predicted_calls):
            if i in consumed or str(pred.get("name", "")).lower() != exp_name:
                continue
            pred_args = pred.get("arguments", {})
            if isinstance(exp_args, dict) and isinstance(pred_args, dict):
                ok = all(
                    str(pred_args.get(k, "")).lower() == str(v).lower() for k, v in exp_args.items() if v is not None
                )
            else:
                ok = True
            if ok:
                matched += 1
                consumed.add(i)
                break
    return matched / len(expected_actions), {
        "actions_matched": matched,
        "actions_expected": len(expected_actions),
        "actions_predicted": len(predicted_calls),
    }

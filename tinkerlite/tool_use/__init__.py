"""Tool-use library (the cookbook's ``tool_use``): tools from typed functions, and the agent loop as an RL env."""

from .agent_tool_message_env import AgentToolMessageEnv, build_agent_tool_env
from .tools import FunctionTool, error_tool_result, handle_tool_call, simple_tool_result, tool
from .types import Tool, ToolInput, ToolResult, ToolSpec

__all__ = [
    "AgentToolMessageEnv",
    "FunctionTool",
    "Tool",
    "ToolInput",
    "ToolResult",
    "ToolSpec",
    "build_agent_tool_env",
    "error_tool_result",
    "handle_tool_call",
    "simple_tool_result",
    "tool",
]

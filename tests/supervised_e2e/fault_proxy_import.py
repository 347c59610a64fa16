"""The client area's fault-injecting proxy (tests/client/fault_proxy.py), imported under one name."""

from tests.client.fault_proxy import FaultProxy

__all__ = ["FaultProxy"]

"""A module-scoped embedded local server and a ``ServiceClient`` on it: import ``service`` into a test module
(as a fixture) to use it. Needs the ``local`` extra (numpy)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tinkerlite.client.service_client import ServiceClient

KEY = "tml-local-test"


@pytest.fixture(scope="module")
def service() -> Iterator[ServiceClient]:
    import tinkerlite.local

    with tinkerlite.local.serve(api_key=KEY) as url:
        sc = ServiceClient(base_url=url, api_key=KEY)
        yield sc
        sc.close()

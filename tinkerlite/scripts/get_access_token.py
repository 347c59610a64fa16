"""Obtain a Tinker access token (JWT) the way the SDK does, and print ``export TINKER_API_KEY=...``.

Runs the command in ``TINKER_CREDENTIAL_CMD`` (the variable the SDK reads) to get a short-lived
credential, exchanges it at ``/api/v1/auth/token`` and prints a line to ``eval``::

    eval "$(python -m tinkerlite.scripts.get_access_token)"

The service is ``BASE_URL`` unless ``TINKER_BASE_URL`` names another (an extension: the cookbook's script
always uses ``BASE_URL``; the SDK itself honours ``TINKER_BASE_URL``).
"""

from __future__ import annotations

import json
import os
import subprocess
import urllib.error
import urllib.request

from tinkerlite.scripts._cli import run_script

__all__ = ["BASE_URL", "main"]

BASE_URL = "https://tinker.thinkingmachines.dev/services/tinker-prod"


def _exchange() -> None:
    cmd = os.environ.get("TINKER_CREDENTIAL_CMD")
    if not cmd:
        raise SystemExit(
            "Set TINKER_CREDENTIAL_CMD to a command that prints a credential, "
            "e.g. TINKER_CREDENTIAL_CMD='<your command>' ./get_access_token.py"
        )
    try:
        credential = subprocess.check_output(cmd, shell=True, text=True).strip()
    except subprocess.CalledProcessError as e:
        raise SystemExit(f"Credential command {cmd!r} failed with exit status {e.returncode}") from None
    if not credential:
        raise SystemExit(f"Credential command produced nothing: {cmd!r}")
    base = (os.environ.get("TINKER_BASE_URL") or BASE_URL).rstrip("/")
    req = urllib.request.Request(
        f"{base}/api/v1/auth/token",
        data=b"{}",
        headers={"X-API-Key": credential, "Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(req, timeout=60) as resp:
            jwt = json.load(resp)["jwt"]
    except urllib.error.HTTPError as e:
        raise SystemExit(f"{base}/api/v1/auth/token refused the credential: HTTP {e.code} {e.reason}") from None
    except urllib.error.URLError as e:
        raise SystemExit(f"cannot reach {base}/api/v1/auth/token: {e.reason}") from None
    except (KeyError, ValueError):
        raise SystemExit(f"{base}/api/v1/auth/token answered without a 'jwt' field") from None
    print(f"export TINKER_API_KEY={jwt}")


def main() -> None:
    run_script("get_access_token", _exchange)


if __name__ == "__main__":
    main()

"""``TensorData.from_torch`` / ``to_torch`` / ``from_torch_sparse`` against real torch (CPU wheel, cached venv).

tinkerlite never imports torch itself; these methods are the SDK's interop surface, so they are checked with
the real library in a subprocess of the torch venv (``tests.torch_env``), tinkerlite coming from the checkout.
"""

from __future__ import annotations

import os
import subprocess
import textwrap

import pytest

from tests.official_env import REPO
from tests.torch_env import torch_python

pytestmark = pytest.mark.slow

SCRIPT = textwrap.dedent(
    """
    import torch
    from tinkerlite.types import TensorData

    def check(t, want_dtype):
        td = TensorData.from_torch(t)
        assert td.dtype == want_dtype, (t.dtype, td.dtype)
        assert td.shape == list(t.shape), (td.shape, t.shape)
        back = td.to_torch()
        want = torch.float32 if want_dtype == "float32" else torch.int64
        assert back.dtype == want, back.dtype
        assert torch.equal(back, t.detach().to(want)), (back, t)
        return td

    check(torch.tensor([1, 2, 3]), "int64")
    check(torch.tensor([1, 2, 3], dtype=torch.int32), "int64")
    check(torch.tensor([True, False]), "int64")
    check(torch.tensor([0.5, -1.25, 3.0]), "float32")
    check(torch.tensor([0.5, 0.25], dtype=torch.float64), "float32")
    check(torch.tensor([0.5, 1.5, -2.0], dtype=torch.bfloat16), "float32")  # widened, as the SDK does
    check(torch.arange(12).reshape(3, 4).t(), "int64")  # non-contiguous 2-D keeps its shape and order
    check(torch.randn(2, 3, requires_grad=True) * 2, "float32")  # a tensor in an autograd graph

    # what rl_loop.py builds, through the wire encoding and back
    td = TensorData.from_torch(torch.tensor([0.0, -0.5, -1.75]))
    again = TensorData.from_bytes(td.to_bytes(), td.dtype, td.shape)
    assert torch.equal(again.to_torch(), torch.tensor([0.0, -0.5, -1.75]))
    assert td.tolist() == [0.0, -0.5, -1.75]

    # sparse CSR: pad entries left out, densified back with the pad
    dense = torch.tensor([[7, -1, -1, -1, -1, -1], [-1, -1, -1, 3, -1, -1], [-1, -1, -1, -1, -1, -1]])
    sp = TensorData.from_torch_sparse(dense, pad_value=-1)
    assert sp.is_sparse and sp.shape == [3, 6] and sp.dtype == "int64"
    assert torch.equal(sp.to_torch(pad_value=-1), dense)
    assert not TensorData.from_torch_sparse(torch.ones(2, 2, dtype=torch.int64)).is_sparse  # CSR not smaller
    print("OK")
    """
)


def test_tensor_data_torch_interop() -> None:
    python = torch_python()
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    proc = subprocess.run([python, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0 and proc.stdout.strip().endswith("OK"), proc.stdout + proc.stderr

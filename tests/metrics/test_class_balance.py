"""Class shares under the MNIST classifier (:mod:`ipm.metrics.class_balance`)."""

from __future__ import annotations

import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from ipm.metrics import class_balance


def test_known_shares_confidence_and_tv():
    # 3 confident 1s, 1 confident 7, and one sample split evenly between 0 and 1
    logits = torch.full((5, 10), -20.0)
    logits[:3, 1] = 20.0
    logits[3, 7] = 20.0
    logits[4, 0] = logits[4, 1] = 5.0  # p = 0.5 each: not confident; argmax 0 (first)
    r = class_balance(logits, threshold=0.9)
    assert r.shares == pytest.approx([0.2, 0.6, 0, 0, 0, 0, 0, 0.2, 0, 0])
    assert r.confident == pytest.approx(0.8) and r.n == 5
    # against uniform: ½(|.2−.1| + |.6−.1| + |.2−.1| + 7·.1) = 0.7
    assert r.tv_to_reference == pytest.approx(0.7)
    same = class_balance(logits, torch.tensor(r.shares, dtype=torch.float64))
    assert same.tv_to_reference == pytest.approx(0.0, abs=1e-12)


@settings(max_examples=30, deadline=None)
@given(n=st.integers(1, 40), c=st.integers(2, 12), seed=st.integers(0, 2**31 - 1))
def test_shares_are_a_distribution_and_tv_is_bounded(n, c, seed):
    g = torch.Generator().manual_seed(seed)
    logits = 3 * torch.randn(n, c, generator=g)
    ref = torch.rand(c, generator=g, dtype=torch.float64)
    r = class_balance(logits, ref / ref.sum())
    assert sum(r.shares) == pytest.approx(1.0) and len(r.shares) == c
    assert all(s * n == pytest.approx(round(s * n)) for s in r.shares)  # counts / n
    assert 0.0 <= r.tv_to_reference <= 1.0 + 1e-12 and 0.0 <= r.confident <= 1.0


@pytest.mark.parametrize(
    "logits, ref, match",
    [
        (torch.zeros(4), None, "logits: expected"),
        (torch.zeros(0, 10), None, "logits: expected"),
        (torch.tensor([[0.0, float("nan")]]), None, "NaN"),
        (torch.zeros(3, 4), torch.ones(3) / 3, "reference_shares"),
        (torch.zeros(3, 2), torch.tensor([0.7, 0.7]), "reference_shares"),
    ],
)
def test_bad_inputs_name_the_argument(logits, ref, match):
    with pytest.raises(ValueError, match=match):
        class_balance(logits, ref)

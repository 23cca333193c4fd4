"""scikit-learn's bundled 8×8 digits (:mod:`ipm.data.digits`)."""

import pytest
import torch

from ipm.data import load_digits


def test_digits():
    d8, labels = load_digits(8)
    assert len(d8) == 1797 and d8.shape == (1, 8, 8) and labels.max() == 9
    x = d8.images(torch.arange(len(d8)))
    assert x.min() == -1 and x.max() == 1
    d32, _ = load_digits(32)
    assert d32.sample(3, generator=torch.Generator().manual_seed(0)).shape == (3, 1024)
    with pytest.raises(ValueError, match="size"):
        load_digits(12)

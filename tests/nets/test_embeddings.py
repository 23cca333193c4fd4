"""Positional embeddings (:mod:`ipm.nets.embeddings`)."""

import torch

from ipm.nets import (
    PositionalEmbedding,
)


def test_positional_embedding_formula():
    e = PositionalEmbedding(8, max_positions=100)(torch.tensor([0.0, 2.0]))
    k = torch.arange(4) / 4
    freqs = (1 / 100) ** k
    want = torch.cat([(2 * freqs).cos(), (2 * freqs).sin()])
    assert torch.allclose(e[1], want) and torch.allclose(e[0], torch.tensor([1.0] * 4 + [0.0] * 4))

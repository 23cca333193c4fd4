"""Channel-wise affine modulation of convolution outputs by a time embedding (paper App. D.2).

For Discriminator Flows the paper makes image discriminators time-conditioned "by modulating most
of their convolution outputs (before the activation) channel-wise with an affine transformation
[whose] parameters are the outputs of a MLP of depth 2, with SiLU activations and a hidden width
twice as large as the input time embeddings": h ← (1 + γ(e)) ⊙ h + β(e).
"""

from __future__ import annotations

from torch import Tensor, nn

__all__ = ["TimeAffine"]


class TimeAffine(nn.Module):
    """h ← (1 + γ(e)) ⊙ h + β(e) per channel; (γ, β) = MLP(e), depth 2, SiLU, hidden 2·|e|.

    The last layer starts at zero, so at initialisation the modulation is the identity.
    """

    _keep_init = True  # ipm.nets.init_weights leaves it as built

    def __init__(self, embedding: int, channels: int):
        super().__init__()
        self.channels = channels
        self.mlp = nn.Sequential(
            nn.Linear(embedding, 2 * embedding), nn.SiLU(), nn.Linear(2 * embedding, 2 * channels)
        )
        nn.init.zeros_(self.mlp[-1].weight)
        nn.init.zeros_(self.mlp[-1].bias)

    def forward(self, h: Tensor, e: Tensor) -> Tensor:
        if h.shape[1] != self.channels:
            raise ValueError(f"h: expected {self.channels} channels, got shape {tuple(h.shape)}")
        gamma, beta = self.mlp(e).to(h.dtype).chunk(2, dim=1)
        view = (h.shape[0], self.channels) + (1,) * (h.ndim - 2)
        return h * (1 + gamma.reshape(view)) + beta.reshape(view)

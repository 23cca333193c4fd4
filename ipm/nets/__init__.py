"""Networks for images and time conditioning.

- :mod:`~ipm.nets.embeddings` — Fourier and positional time/noise embeddings;
- :mod:`~ipm.nets.modulation` — channel-wise affine modulation by a time embedding (App. D.2);
- :mod:`~ipm.nets.dcgan` — DCGAN generator / discriminator, 32×32 and 64×64;
- :mod:`~ipm.nets.resnet` — SAGAN-style ResNet with self-attention;
- :mod:`~ipm.nets.unet` — EDM-style U-Net (DDPM++ blocks);
- :mod:`~ipm.nets.init` — normal / orthogonal initialisation with a gain;

Networks from their configs, on flat particles (N, C·H·W): :mod:`ipm.nets.build`.
"""

from .attention import SelfAttention
from .dcgan import DCGANDiscriminator, DCGANGenerator
from .embeddings import FourierEmbedding, PositionalEmbedding, make_embedding
from .init import init_weights
from .modulation import TimeAffine
from .resnet import ResNetDiscriminator, ResNetGenerator
from .unet import UNet

__all__ = [
    "DCGANDiscriminator",
    "DCGANGenerator",
    "FourierEmbedding",
    "PositionalEmbedding",
    "ResNetDiscriminator",
    "ResNetGenerator",
    "SelfAttention",
    "TimeAffine",
    "UNet",
    "init_weights",
    "make_embedding",
]

"""Image data sets held as uint8 tensors: batches drawn by the caller's generator."""

import torch

from ipm.data import TensorImages


def test_images_on_a_device_are_gathered_and_converted_there_with_the_same_draws():
    """Only the indices cross from the host: a batch of images held on another device (here
    the shape-only "meta" device) comes out on it, drawn by the caller's CPU generator."""
    pixels = torch.randint(0, 256, (10, 1, 4, 4), dtype=torch.uint8)
    host, moved = TensorImages(pixels.clone()), TensorImages(pixels.clone()).to("meta")
    assert moved.device.type == "meta" and host.device.type == "cpu"
    out = moved.sample(6, generator=torch.Generator().manual_seed(0))
    assert out.device.type == "meta" and out.shape == (6, 16) and out.dtype == torch.float32
    g1, g2 = torch.Generator().manual_seed(3), torch.Generator().manual_seed(3)
    back = TensorImages(pixels.clone()).to("cpu")
    assert torch.equal(back.sample(5, generator=g1), host.sample(5, generator=g2))

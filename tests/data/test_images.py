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


def test_hflip_mirrors_about_half_the_drawn_images_and_keeps_the_indices():
    pixels = torch.randint(0, 256, (50, 1, 3, 4), dtype=torch.uint8)
    plain, flipped = TensorImages(pixels), TensorImages(pixels)
    flipped.hflip = True
    a = plain.sample(400, generator=torch.Generator().manual_seed(0)).reshape(400, 1, 3, 4)
    b = flipped.sample(400, generator=torch.Generator().manual_seed(0)).reshape(400, 1, 3, 4)
    same = (a == b).flatten(1).all(1)
    mirrored = (a.flip(-1) == b).flatten(1).all(1)
    assert bool((same | mirrored).all())  # the same images, some mirrored
    assert 150 < int((mirrored & ~same).sum()) < 250  # about half (images are not symmetric)
    again = flipped.sample(400, generator=torch.Generator().manual_seed(0))
    assert torch.equal(again.reshape(400, 1, 3, 4), b)  # the coins come from the generator

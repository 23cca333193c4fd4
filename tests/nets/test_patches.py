"""p×p patches as channels: an exact rearrangement, and a patch that does not divide is named."""

import pytest
import torch

from ipm.nets.patches import check_patch, from_patches, to_patches


def test_patches_round_trip_and_hold_each_patch_in_the_channels():
    x = torch.arange(2 * 3 * 4 * 4, dtype=torch.float64).reshape(2, 3, 4, 4)
    p = to_patches(x, 2)
    assert p.shape == (2, 12, 2, 2)
    # the top-left 2×2 patch of channel 0 is the first four channels at (0, 0)
    assert torch.equal(p[0, :4, 0, 0], x[0, 0, :2, :2].reshape(-1))
    assert torch.equal(from_patches(p, 2), x)
    assert to_patches(x, 1) is x and from_patches(x, 1) is x


@pytest.mark.parametrize("patch", [0, 3, True, 2.0])
def test_a_patch_that_is_not_a_divisor_is_named(patch):
    with pytest.raises(ValueError, match=r"patch: expected a positive divisor of size 8"):
        check_patch(patch, 8)
    assert check_patch(4, 8) == 4

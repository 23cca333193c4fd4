"""Chunk sizes of the kernel sums (:mod:`ipm.kernels.sums`)."""

from ipm.kernels import auto_chunk_size


def test_auto_chunk_bounds_block():
    rows = auto_chunk_size(100_000, 100_000, 4)
    assert 1 <= rows <= 100_000 and rows * 100_000 * 4 <= 8 * 2**20

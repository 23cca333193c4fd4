"""The loader benchmark draws batches as training does and reports images per second."""

import torch

from benchmarks.__main__ import data_section
from benchmarks.data import measure
from ipm.data import TensorImages


def test_a_batch_is_timed_and_the_section_lists_it():
    data = TensorImages(torch.zeros(50, 1, 4, 4, dtype=torch.uint8))
    sec = measure(data, 8, 3, torch.device("cpu"))
    assert 0 < sec < 1
    row = {"device": "cpu", "batch": 8, "hflip": True, "threads": 1, "images_per_second": 8 / sec}
    lines = data_section({"command": "c", "hardware": "h", "rows": [row]})
    assert lines[-1].startswith("| cpu | 8 | yes | 1 | ")

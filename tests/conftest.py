"""Shared fixtures: hypothesis profiles, a fixed seed for every test, stand-in image data."""

import os

import pytest
import torch
from hypothesis import settings

settings.register_profile("ci", max_examples=25, deadline=None, derandomize=True)
settings.register_profile("dev", max_examples=10, deadline=None)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture(scope="module")
def roots(tmp_path_factory):
    """Small stand-ins for the image data sets: MNIST's IDX files and a CelebA-like folder."""
    from tests.image_fixtures import fake_image_folder, fake_mnist

    base = tmp_path_factory.mktemp("data")
    return {
        "mnist": fake_mnist(base / "mnist", n=8),
        "celeba": fake_image_folder(base / "celeba", n=4, size=(70, 86)),
    }

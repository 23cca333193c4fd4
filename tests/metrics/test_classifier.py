"""The shipped MNIST classifier (the classifier-FID feature space)."""

from __future__ import annotations

import pytest
import torch

from ipm.metrics.classifier import (
    MNISTClassifier,
    classifier_info,
    load_mnist_classifier,
    shipped_weights,
)
from tests.helpers import SHARED_MNIST


def test_shipped_weights_are_small_and_load():
    p = shipped_weights()
    assert p.is_file() and p.stat().st_size < 2_000_000  # a small state dict in the package
    net = load_mnist_classifier()
    assert not any(q.requires_grad for q in net.parameters()) and not net.training
    f = net.embed(torch.zeros(3, 1, 32, 32) - 1)
    assert f.shape == (3, MNISTClassifier.features)
    # other sizes (raw 28×28, digits at 16 px) are resized, grey only
    assert net.embed(torch.zeros(2, 1, 16, 16)).shape == (2, 128)
    with pytest.raises(ValueError, match=r"\(N, 1, H, W\)"):
        net.embed(torch.zeros(2, 3, 32, 32))
    info = classifier_info()
    assert info["test_accuracy"] >= 0.99 and info["train_images"] == 60000


@pytest.mark.skipif(not SHARED_MNIST.is_dir(), reason=f"needs the MNIST files in {SHARED_MNIST}")
def test_shipped_classifier_reaches_99_percent_on_the_test_set():
    from ipm.data import load_mnist

    test, labels = load_mnist(SHARED_MNIST, "test")
    net = load_mnist_classifier()
    with torch.no_grad():
        pred = torch.cat(
            [
                net(test.images(torch.arange(s, min(s + 2000, len(test))))).argmax(1)
                for s in range(0, len(test), 2000)
            ]
        )
    acc = float((pred == labels).double().mean())
    assert acc >= 0.99
    assert acc == pytest.approx(classifier_info()["test_accuracy"], abs=1e-4)  # the record is true

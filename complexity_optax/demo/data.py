# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""The demo's data: scikit-learn's bundled handwritten digits (no download).

`load_digits` ships 1797 grey-scale 8x8 images (64 features, pixel values 0..16) of the ten
digits. The demo splits them once, stratified by class with a fixed seed, and standardizes every
feature with the mean and standard deviation of the *training* part only, so nothing about the
test images leaks into training. Features that are constant on the training set (some corner
pixels are always 0) keep a unit scale instead of a division by zero.
"""

from __future__ import annotations

import dataclasses

import numpy as np

NUM_SAMPLES = 1797
NUM_FEATURES = 64
NUM_CLASSES = 10


@dataclasses.dataclass(frozen=True)
class DigitsData:
    """A standardized, stratified train/test split of the digits (float32 inputs, int32 labels).

    Attributes:
      x_train: `[n_train, 64]` standardized training inputs.
      y_train: `[n_train]` training labels in `0..9`.
      x_test: `[n_test, 64]` test inputs, standardized with the *training* statistics.
      y_test: `[n_test]` test labels.
      mean: `[64]` per-feature mean of the raw training inputs.
      scale: `[64]` per-feature standard deviation of the raw training inputs (1 where it is 0).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    mean: np.ndarray
    scale: np.ndarray

    @property
    def num_samples(self) -> int:
        return int(self.x_train.shape[0] + self.x_test.shape[0])

    @property
    def num_features(self) -> int:
        return int(self.x_train.shape[1])

    @property
    def num_classes(self) -> int:
        return NUM_CLASSES


def standardize(
    x_train: np.ndarray, x_test: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Standardizes both sets with the training statistics only.

    z = (x - μ_train) / σ_train per feature, where σ_train = 1 for features constant on the
    training set.

    Args:
      x_train: `[n_train, d]` raw training inputs.
      x_test: `[n_test, d]` raw test inputs (never used for the statistics).

    Returns:
      `(z_train, z_test, mean, scale)`, the inputs as float32.

    Examples:
      >>> import numpy as np
      >>> z_tr, z_te, mean, scale = standardize(np.array([[0.0], [2.0]]), np.array([[4.0]]))
      >>> z_tr.ravel().tolist(), z_te.ravel().tolist(), mean.tolist(), scale.tolist()
      ([-1.0, 1.0], [3.0], [1.0], [1.0])
    """
    x_train = np.asarray(x_train, dtype=np.float64)
    x_test = np.asarray(x_test, dtype=np.float64)
    mean = x_train.mean(axis=0)
    scale = x_train.std(axis=0)
    scale = np.where(scale > 0.0, scale, 1.0)
    z_train = ((x_train - mean) / scale).astype(np.float32)
    z_test = ((x_test - mean) / scale).astype(np.float32)
    return z_train, z_test, mean.astype(np.float32), scale.astype(np.float32)


def load_digits_split(*, test_fraction: float = 0.25, seed: int = 0) -> DigitsData:
    """Loads the digits, splits them stratified by class, and standardizes them.

    Args:
      test_fraction: share of the 1797 images held out for testing (default 0.25: 1347 train,
        450 test).
      seed: seed of the split (fixed across the demo's training seeds, so every run sees the
        same data).

    Returns:
      A `DigitsData`.

    Examples:
      >>> data = load_digits_split()
      >>> data.num_samples, data.num_features, data.num_classes, data.x_train.shape
      (1797, 64, 10, (1347, 64))

    References:
      Alpaydin & Kaynak, "Optical Recognition of Handwritten Digits", UCI ML repository, 1998.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    x, y = load_digits(return_X_y=True)
    x_train, x_test, y_train, y_test = train_test_split(
        x, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    z_train, z_test, mean, scale = standardize(x_train, x_test)
    return DigitsData(
        x_train=z_train,
        y_train=y_train.astype(np.int32),
        x_test=z_test,
        y_test=y_test.astype(np.int32),
        mean=mean,
        scale=scale,
    )

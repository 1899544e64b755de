"""Fashion-MNIST: 70,000 28x28 grey images of Zalando articles in 10 classes, MNIST's drop-in.

Found on disk (Debian's ``dataset-fashion-mnist`` installs it in
``/usr/share/datasets/fashion-mnist``) or downloaded and checked against the md5 sums the authors
publish. Debian recompresses the ``.gz`` files, so their md5 differs from the published one while
the decompressed bytes (``raw_md5``) match.

Example:
    >>> from ember import datasets
    >>> (x_train, y_train), (x_test, y_test) = datasets.fashion_mnist.load_data()
    >>> datasets.fashion_mnist.class_names[y_train[0]]
    'Ankle boot'
"""

from __future__ import annotations

from ember.datasets.cache import FileInfo
from ember.datasets.mnist import INSTALL_HINT, Split, load_idx_dataset

NAME = "fashion-mnist"  # Debian's folder name, also used under $EMBER_DATA and the cache
DESCRIPTION = "Fashion-MNIST clothing: 60k train / 10k test 28x28 grey images, 10 classes"
MIRRORS: list[str] = ["http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/"]
FILES: dict[str, FileInfo] = {
    "train_images": FileInfo(
        "train-images-idx3-ubyte.gz",
        "8d4fb7e6c68d591d4c3dfef9ec88bf0d",
        raw_md5="f4a8712d7a061bf5bd6d2ca38dc4d50a",
    ),
    "train_labels": FileInfo(
        "train-labels-idx1-ubyte.gz",
        "25c81989df183df01b3e8a0aad5dffbe",
        raw_md5="9018921c3c673c538a1fc5bad174d6f9",
    ),
    "test_images": FileInfo(
        "t10k-images-idx3-ubyte.gz",
        "bef4ecab320f06d8554ea6380940ec79",
        raw_md5="8181f5470baa50b63fa0f6fddb340f0a",
    ),
    "test_labels": FileInfo(
        "t10k-labels-idx1-ubyte.gz",
        "bb300cfdad3c16e7a12a480ee83cd310",
        raw_md5="15d484375f8d13e6eb1aabb0c3f46965",
    ),
}
class_names: list[str] = [
    "T-shirt/top",
    "Trouser",
    "Pullover",
    "Dress",
    "Coat",
    "Sandal",
    "Shirt",
    "Sneaker",
    "Bag",
    "Ankle boot",
]


def load_data(*, download: bool = True) -> tuple[Split, Split]:
    """Return Fashion-MNIST as Keras does: ``(x_train, y_train), (x_test, y_test)``, all uint8.

    Shapes are (60000, 28, 28), (60000,), (10000, 28, 28), (10000,); labels index ``class_names``.
    With ``download=False`` a missing file raises instead of being fetched.

    Example:
        >>> from ember.datasets import fashion_mnist
        >>> (x_train, y_train), (x_test, y_test) = fashion_mnist.load_data()
        >>> x_test.shape, y_test.dtype
        ((10000, 28, 28), dtype('uint8'))
    """
    return load_idx_dataset(NAME, FILES, MIRRORS, download=download, hint=INSTALL_HINT)

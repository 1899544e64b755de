"""ember: deep learning you can run, fast, on real data — Keras-style, PyTorch underneath.

Example:
    >>> from ember import layers, models
    >>> model = models.Sequential([layers.Dense(10, activation="softmax", input_shape=(4,))])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
"""

import lazy_loader

from ember.vision_imports import install_import_hook

# torchmetrics and timm import torchvision on their own: make that import work first.
install_import_hook()

# Every public name is declared in __init__.pyi and imported on first use (Scientific Python's
# SPEC 1), so that `ember --help` and `import ember` start without loading torch.
__getattr__, __dir__, __all__ = lazy_loader.attach_stub(__name__, __file__)

"""ember: a fast, Keras-style deep-learning toolkit on PyTorch."""

__version__ = "0.1.0"

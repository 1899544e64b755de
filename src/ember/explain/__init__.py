"""Interpretation: why a classifier decided (saliency, SmoothGrad, integrated gradients,
Grad-CAM), drawn over the images.

* :func:`explain` (``ember explain RUN IMAGE... --method``): one heat map per image;
* :func:`integrated_gradients`, :func:`grad_cam`: the methods with their own options;
* :func:`plot_overlays`: the maps over their images, as a PNG;
* :func:`first_layer_filters`, :func:`maximize_class` (activation maximisation),
  :func:`most_confused`, :func:`plot_images`: what the network has learned to look for.
* :func:`top_losses`, :func:`plot_top_losses`: the samples with the highest loss, drawn with
  their prediction, truth, loss and probability of the truth (fastai's).

Adversarial examples and robust accuracy are in :mod:`ember.attacks`.
"""

from ember.explain.attributions import METHODS, explain, grad_cam, integrated_gradients
from ember.explain.features import first_layer_filters, maximize_class, most_confused, plot_images
from ember.explain.overlays import plot_overlays
from ember.explain.top_losses import TopLosses, plot_top_losses, top_losses

__all__ = [
    "METHODS",
    "TopLosses",
    "explain",
    "first_layer_filters",
    "grad_cam",
    "integrated_gradients",
    "maximize_class",
    "most_confused",
    "plot_images",
    "plot_overlays",
    "plot_top_losses",
    "top_losses",
]

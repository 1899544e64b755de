"""Plotting shared by runs and recipes: figures without a display, and feature maps.

``figure`` makes and saves matplotlib figures atomically; ``feature_maps`` draws a network's
penultimate features (or any codes) in 2-D by class, with PCA or t-SNE.
"""

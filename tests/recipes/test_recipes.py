"""Every registered recipe builds, trains a step without NaNs, and documents each config field."""

from __future__ import annotations

import dataclasses

import pytest
import torch

from ember import recipes
from ember.errors import ConfigError, UnknownNameError
from ember.recipes.config_fields import field_comments

SMALL = {"train_samples": 300, "epochs": 1, "device": "cpu"}
IMAGE_MODULES = (recipes.fashion_mlp, recipes.fashion_cnn, recipes.fashion_resnet)
# On the data installed here; cifar10-resnet (fashion-resnet on CIFAR-10) runs on a fixture in
# tests/recipes/test_transfer_recipes.py.
IMAGE_RECIPES = [
    name
    for name, r in recipes.RECIPES.items()
    if r.module in IMAGE_MODULES and r.defaults.get("dataset") != "cifar10"
]


def test_the_image_recipes_are_the_five_of_issue_3():
    assert sorted(IMAGE_RECIPES) == [
        "fashion-cnn",
        "fashion-mlp",
        "fashion-resnet",
        "mnist-cnn",
        "mnist-mlp",
    ]


@pytest.mark.parametrize("name", IMAGE_RECIPES)  # text recipes: tests/recipes/test_textgen.py
def test_every_image_recipe_trains_one_epoch_on_a_slice_without_nans(name):
    recipe = recipes.get(name)
    overrides = {"widths": (8, 16)} if "resnet" in name else {}
    experiment = recipe.build(recipe.config(**SMALL, **overrides))
    x, y = experiment.data.train
    assert x.shape[1:] == (28, 28, 1) and x.dtype == torch.float32 and 0 <= x.min() <= x.max() <= 1
    held_out = 0 if experiment.data.val is None else len(experiment.data.val[0])
    assert len(x) + held_out == 300  # train_samples, stratified, before the validation split
    train = experiment.batches("train", shuffle=True)
    history = experiment.trainer.fit(train, epochs=1, callbacks=experiment.callbacks, verbose=0)
    assert torch.isfinite(torch.tensor(history.history["loss"])).all()
    probabilities = experiment.probabilities(experiment.data.test[0][:5])
    assert probabilities.shape == (5, 10)
    torch.testing.assert_close(probabilities.sum(-1), torch.ones(5))


@pytest.mark.parametrize("name", list(recipes.RECIPES))
def test_every_config_field_has_a_comment(name):
    config_class = recipes.get(name).config_class
    comments = field_comments(config_class)
    for field in dataclasses.fields(config_class):
        assert comments.get(field.name), f"{name}: field {field.name} has no comment"


def test_mnist_recipes_are_the_fashion_ones_on_mnist():
    assert recipes.get("mnist-mlp").config().dataset == "mnist"
    assert recipes.get("mnist-cnn").module is recipes.get("fashion-cnn").module
    assert recipes.get("fashion-cnn").config().dataset == "fashion_mnist"


def test_unknown_recipe_and_dataset_errors():
    with pytest.raises(UnknownNameError, match="Did you mean 'fashion-cnn'"):
        recipes.get("fashion-cn")
    recipe = recipes.get("fashion-mlp")
    with pytest.raises(ConfigError, match="unknown dataset 'kmnist'"):
        recipe.build(recipe.config(dataset="kmnist"))
    with pytest.raises(ConfigError, match="train_samples in 1..60000"):
        recipe.build(recipe.config(train_samples=0))


def test_a_split_that_does_not_exist_is_a_clear_error():
    recipe = recipes.get("fashion-resnet")
    experiment = recipe.build(recipe.config(**SMALL, widths=(8,)))
    with pytest.raises(ConfigError, match="no val split"):
        experiment.data.split("val")

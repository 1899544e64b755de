"""Output masks read off a model's output (ember.tasks.masking), the masked loss reduction and
its bad inputs. Keras parity of the numbers: test_masked_loss_keras_parity.py."""

import pytest
import torch
from torch import nn

import ember
from ember import layers, losses
from ember.errors import ConfigError, ShapeError
from ember.tasks.masking import makes_mask, output_mask, track_masks, untrack_masks

IDS = torch.tensor([[3, 1, 4, 0, 0], [5, 9, 2, 6, 5], [0, 0, 0, 0, 0]])


def test_the_output_carries_the_mask_each_layer_computes():
    model = ember.Sequential(
        [
            layers.Embedding(10, 4, mask_zero=True),
            layers.Dropout(0.5),
            layers.GRU(3, return_sequences=True, go_backwards=True),
            layers.Dense(2),
        ]
    ).eval()
    assert track_masks(model)
    assert torch.equal(output_mask(model(IDS)), (IDS != 0).flip(1))  # go_backwards reverses
    untrack_masks(model)
    assert output_mask(model(IDS)) is None
    assert all(not module._forward_hooks for module in model.modules())


def test_a_layer_that_drops_the_mask_ends_it():
    model = ember.Sequential(
        [layers.Embedding(10, 4, mask_zero=True), layers.GRU(3), layers.Dense(2)]
    )
    assert track_masks(model)
    assert output_mask(model(IDS)) is None
    untrack_masks(model)


def test_tracking_twice_adds_one_hook_and_a_model_without_mask_gets_none():
    model = ember.Sequential([layers.Embedding(10, 4, mask_zero=True), layers.Dense(2)])
    track_masks(model)
    track_masks(model)
    assert [len(layer._forward_hooks) for layer in model.layers] == [1, 1]
    untrack_masks(model)
    plain = ember.Sequential([layers.Embedding(10, 4), layers.Dense(2)])
    assert not makes_mask(plain) and not track_masks(plain)
    assert all(not layer._forward_hooks for layer in plain.layers)


def test_masked_mean_is_the_mean_over_real_steps_with_their_weights():
    values = torch.tensor([[1.0, 2.0, 7.0], [4.0, 8.0, 8.0]])
    mask = torch.tensor([[True, True, False], [True, False, False]])
    assert losses.masked_mean(values, mask).item() == pytest.approx((1 + 2 + 4) / 3)
    per_sample = torch.tensor([2.0, 0.5])
    expected = (2 * 1 + 2 * 2 + 0.5 * 4) / 3
    assert losses.masked_mean(values, mask, per_sample).item() == pytest.approx(expected)
    per_step = torch.tensor([[1.0, 3.0, 9.0], [2.0, 9.0, 9.0]])
    expected = (1 * 1 + 3 * 2 + 2 * 4) / 3
    assert losses.masked_mean(values, mask, per_step).item() == pytest.approx(expected)
    # trailing axes (units of a per-step regression) are averaged first, as Keras' losses do
    units = values[..., None].expand(2, 3, 4)
    assert losses.masked_mean(units, mask).item() == pytest.approx((1 + 2 + 4) / 3)


def test_masked_mean_refuses_losses_and_weights_of_other_shapes():
    mask = torch.ones(2, 3, dtype=torch.bool)
    with pytest.raises(ShapeError, match=r"output mask's \(2, 3\), received losses of shape"):
        losses.masked_mean(torch.ones(3, 2), mask)
    with pytest.raises(ShapeError, match=r"received sample_weight of shape \(4,\)"):
        losses.masked_mean(torch.ones(2, 3), mask, torch.ones(4))


def test_a_loss_without_per_step_values_cannot_be_masked():
    class PerSampleOnly(losses.Loss):
        name = "per_sample_only"

        def per_sample(self, y_pred, y_true):
            return (y_pred - y_true).abs().mean(-1).mean(-1)

    mask = torch.ones(2, 3, dtype=torch.bool)
    with pytest.raises(ConfigError, match="'per_sample_only' gives one value per sample"):
        PerSampleOnly()(torch.ones(2, 3, 1), torch.ones(2, 3, 1), mask=mask)
    scalar = losses.FunctionLoss(lambda y_pred, y_true: (y_pred - y_true).mean())
    with pytest.raises(ConfigError, match="returns a scalar, so the output mask"):
        scalar(torch.ones(2, 3), torch.ones(2, 3), mask=mask)
    per_step = losses.FunctionLoss(lambda y_pred, y_true: (y_pred - y_true).abs())
    y_pred = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])
    mask = torch.tensor([[True, False, False], [True, True, False]])
    assert per_step(y_pred, torch.zeros(2, 3), mask=mask).item() == pytest.approx(10 / 3)


def test_probabilities_version_inverts_with_logits():
    for loss in (
        losses.BinaryCrossentropy(label_smoothing=0.1),
        losses.CategoricalCrossentropy(label_smoothing=0.2),
        losses.SparseCategoricalCrossentropy(),
    ):
        back = losses.probabilities_version(losses.with_logits(loss))
        assert type(back) is type(loss) and not back.from_logits
        assert getattr(back, "label_smoothing", 0) == getattr(loss, "label_smoothing", 0)
    bce = losses.probabilities_version(losses.with_logits(losses.get(nn.BCELoss())))
    assert type(bce.loss) is nn.BCELoss
    with pytest.raises(ConfigError, match="'CrossEntropyLoss' takes logits and has no form"):
        losses.probabilities_version(losses.get(nn.CrossEntropyLoss()))

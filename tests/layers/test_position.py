"""Position embeddings: the sinusoidal closed form, learned tables, offsets, masks and errors."""

import math

import pytest
import torch

from ember.errors import ConfigError, ShapeError
from ember.layers.position import (
    PositionEmbedding,
    SinusoidalPositionEmbedding,
    TokenAndPositionEmbedding,
)


def test_sinusoidal_matches_the_closed_form_from_start_index():
    x = torch.zeros(2, 6, 10)
    start = 3
    expected = torch.empty(6, 10, dtype=torch.float64)
    for t in range(6):
        for i in range(5):  # feature pairs (2i, 2i + 1)
            angle = (start + t) / 10000 ** (2 * i / 10)
            expected[t, 2 * i], expected[t, 2 * i + 1] = math.sin(angle), math.cos(angle)
    encoding = SinusoidalPositionEmbedding()(x, start_index=start)
    assert encoding.shape == (2, 6, 10)
    torch.testing.assert_close(encoding[1], expected.float(), atol=1e-5, rtol=1e-5)
    shorter = SinusoidalPositionEmbedding(max_wavelength=100)(torch.zeros(1, 2, 2))
    torch.testing.assert_close(shorter[0, 1], torch.tensor([math.sin(1.0), math.cos(1.0)]))


def test_position_embedding_returns_its_rows_broadcast_over_the_batch():
    torch.manual_seed(0)
    layer = PositionEmbedding(sequence_length=7)
    x = torch.randn(3, 4, 5)
    output = layer(x)
    assert layer.weight.shape == (7, 5) and output.shape == (3, 4, 5)
    torch.testing.assert_close(output, layer.weight[:4].expand(3, 4, 5))
    torch.testing.assert_close(layer(x[:, :2], start_index=5)[0], layer.weight[5:7])


@pytest.mark.parametrize("positions", ["learned", "sinusoidal"])
def test_token_and_position_embedding_adds_both_and_masks_zero_ids(positions):
    torch.manual_seed(0)
    layer = TokenAndPositionEmbedding(10, 6, 4, mask_zero=True, positions=positions)
    ids = torch.tensor([[4, 2, 9, 0, 0], [1, 0, 0, 0, 0]])
    output = layer(ids)
    tokens = torch.nn.functional.embedding(ids, layer.token_embedding.weight)
    positions_only = layer.position_embedding(tokens)
    torch.testing.assert_close(output, tokens + positions_only)
    assert layer.input_dtype == torch.long and layer.makes_mask()
    assert layer.compute_mask(ids).tolist() == (ids != 0).tolist()
    assert not TokenAndPositionEmbedding(10, 6, 4).makes_mask()
    assert TokenAndPositionEmbedding(10, 6, 4).compute_mask(ids) is None
    # an offset shifts only the positions: the last step alone at start_index 4 is the same
    torch.testing.assert_close(layer(ids[:, 4:], start_index=4), output[:, 4:])


def test_sequences_longer_than_sequence_length_raise_shape_error_naming_both():
    layer = TokenAndPositionEmbedding(10, sequence_length=4, embedding_dim=2)
    with pytest.raises(ShapeError, match="sequence_length=4\\) received a sequence of length 6"):
        layer(torch.ones(1, 6, dtype=torch.long))
    with pytest.raises(ShapeError, match="length 1 starting at position 4.*sequence_length=5"):
        layer(torch.ones(1, 1, dtype=torch.long), start_index=4)
    with pytest.raises(ShapeError, match="sequence_length=3\\) received a sequence of length 5"):
        PositionEmbedding(3)(torch.zeros(1, 5, 2))


def test_wrong_ranks_raise_shape_error():
    with pytest.raises(ShapeError, match="token ids of shape \\(batch, steps\\)"):
        TokenAndPositionEmbedding(10, 4, 2)(torch.ones(1, 2, 3, dtype=torch.long))
    with pytest.raises(ShapeError, match="inputs of shape \\(batch, steps, features\\)"):
        PositionEmbedding(4)(torch.zeros(2, 3))
    with pytest.raises(ShapeError, match="inputs of shape"):
        SinusoidalPositionEmbedding()(torch.zeros(2, 3, 4, 5))


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: TokenAndPositionEmbedding(0, 4, 2), "received vocabulary_size=0"),
        (lambda: TokenAndPositionEmbedding(10, 0, 2), "received sequence_length=0"),
        (lambda: TokenAndPositionEmbedding(10, 4, 0), "received embedding_dim=0"),
        (lambda: TokenAndPositionEmbedding(10, 4, 2, positions="rotary"), "positions=.rotary"),
        (lambda: SinusoidalPositionEmbedding(max_wavelength=0), "max_wavelength=0"),
        (lambda: PositionEmbedding(-1), "received sequence_length=-1"),
    ],
)
def test_invalid_position_arguments_raise_config_error(make, message):
    with pytest.raises(ConfigError, match=message):
        make()

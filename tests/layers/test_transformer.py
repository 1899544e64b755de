"""TransformerEncoder/Decoder against torch's Transformer layers, masks, and cached generation."""

import pytest
import torch
from torch import nn

from ember.errors import ConfigError, ShapeError
from ember.layers import Dense, GlobalAveragePooling1D
from ember.layers.attention import KeyValueCache
from ember.layers.position import TokenAndPositionEmbedding
from ember.layers.transformer import TransformerDecoder, TransformerEncoder
from ember.models.sequential import Sequential

D, HEADS, FF = 8, 2, 16


def _copy_attention(ours, reference):
    dense = (ours.query_dense, ours.key_dense, ours.value_dense)
    reference.in_proj_weight.copy_(torch.cat([d.weight for d in dense]))
    reference.in_proj_bias.copy_(torch.cat([d.bias for d in dense]))
    reference.out_proj.weight.copy_(ours.output_dense.weight)
    reference.out_proj.bias.copy_(ours.output_dense.bias)


@torch.no_grad()
def _copy_block(ours, reference):
    """Copy an ember block's weights into nn.TransformerEncoderLayer/DecoderLayer."""
    for parameter in ours.parameters():
        parameter.normal_(0, 0.5)  # non-trivial biases and layer-norm scales
    _copy_attention(ours.self_attention, reference.self_attn)
    pairs = [
        (ours.feedforward_intermediate_dense, reference.linear1),
        (ours.feedforward_output_dense, reference.linear2),
        (ours.self_attention_layer_norm, reference.norm1),
    ]
    if getattr(ours, "cross_attention", None) is not None:
        _copy_attention(ours.cross_attention, reference.multihead_attn)
        pairs += [(ours.cross_attention_layer_norm, reference.norm2)]
        pairs += [(ours.feedforward_layer_norm, reference.norm3)]
    else:
        pairs += [(ours.feedforward_layer_norm, reference.norm2)]
    for mine, theirs in pairs:
        theirs.weight.copy_(mine.weight)
        theirs.bias.copy_(mine.bias)


def _assert_same_outputs_and_gradients(ours, reference, x, ours_args, reference_args):
    x_ours, x_reference = x.clone().requires_grad_(), x.clone().requires_grad_()
    output = ours(x_ours, **ours_args)
    expected = reference(x_reference, **reference_args)
    torch.testing.assert_close(output, expected, atol=1e-5, rtol=1e-5)
    weight = ours.feedforward_intermediate_dense.weight
    got = torch.autograd.grad(output.square().sum(), (x_ours, weight))
    want = torch.autograd.grad(expected.square().sum(), (x_reference, reference.linear1.weight))
    for g, w in zip(got, want):
        torch.testing.assert_close(g, w, atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("norm_first", [False, True])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_encoder_matches_torch_encoder_layer_with_padding(norm_first, activation):
    torch.manual_seed(0)
    ours = TransformerEncoder(FF, HEADS, activation=activation, norm_first=norm_first).eval()
    x = torch.randn(2, 5, D)
    ours(x)  # build
    reference = nn.TransformerEncoderLayer(
        D, HEADS, FF, dropout=0.0, activation=activation, batch_first=True, norm_first=norm_first
    ).eval()
    _copy_block(ours, reference)
    mask = torch.tensor([[True] * 5, [True] * 3 + [False] * 2])
    _assert_same_outputs_and_gradients(
        ours, reference, x, {"mask": mask}, {"src_key_padding_mask": ~mask}
    )


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_without_encoder_is_a_causal_encoder_layer(norm_first):
    torch.manual_seed(0)
    ours = TransformerDecoder(FF, HEADS, norm_first=norm_first).eval()
    x = torch.randn(2, 6, D)
    ours(x)
    reference = nn.TransformerEncoderLayer(
        D, HEADS, FF, dropout=0.0, batch_first=True, norm_first=norm_first
    ).eval()
    _copy_block(ours, reference)
    causal = nn.Transformer.generate_square_subsequent_mask(6)
    _assert_same_outputs_and_gradients(
        ours, reference, x, {}, {"src_mask": causal, "is_causal": True}
    )
    assert not any("cross" in name for name, _ in ours.named_parameters())


@pytest.mark.parametrize("norm_first", [False, True])
def test_decoder_with_encoder_matches_torch_decoder_layer(norm_first):
    torch.manual_seed(0)
    ours = TransformerDecoder(FF, HEADS, norm_first=norm_first).eval()
    x, memory = torch.randn(2, 4, D), torch.randn(2, 6, D)
    memory_mask = torch.tensor([[True] * 6, [True] * 2 + [False] * 4])
    ours(x, memory)
    reference = nn.TransformerDecoderLayer(
        D, HEADS, FF, dropout=0.0, batch_first=True, norm_first=norm_first
    ).eval()
    _copy_block(ours, reference)
    _assert_same_outputs_and_gradients(
        ours,
        reference,
        x,
        {"encoder_sequence": memory, "encoder_mask": memory_mask},
        {
            "memory": memory,
            "tgt_mask": nn.Transformer.generate_square_subsequent_mask(4),
            "tgt_is_causal": True,
            "memory_key_padding_mask": ~memory_mask,
        },
    )


def test_decoder_only_language_model_with_cache_gives_the_full_forward_logits():
    torch.manual_seed(0)
    vocabulary, length = 11, 9
    embed = TokenAndPositionEmbedding(vocabulary, length, 16)
    blocks = [TransformerDecoder(32, 2, norm_first=True), TransformerDecoder(32, 2)]
    head = Dense(vocabulary)
    nn.ModuleList([embed, *blocks, head]).eval()
    ids = torch.randint(1, vocabulary, (2, length))
    x = embed(ids)
    for block in blocks:
        x = block(x)
    full = head(x)  # (2, 9, 11)
    caches, logits = [KeyValueCache()] * len(blocks), []
    for chunk in (ids[:, :4], *ids[:, 4:].split(1, dim=1)):  # a prompt, then token by token
        x = embed(chunk, start_index=caches[0].length)
        for index, block in enumerate(blocks):
            x, caches[index] = block(x, cache=caches[index])
        logits.append(head(x))
    assert [cache.length for cache in caches] == [length, length]
    torch.testing.assert_close(torch.cat(logits, dim=1), full, atol=1e-5, rtol=1e-5)


def test_padded_sequence_gives_the_same_sequential_output_as_unpadded():
    torch.manual_seed(0)
    model = Sequential(
        [
            TokenAndPositionEmbedding(20, 8, 16, mask_zero=True),
            TransformerEncoder(32, 2),
            GlobalAveragePooling1D(),
            Dense(2),
        ]
    ).eval()
    sequences = [[3, 7, 2, 9, 4], [5, 1, 8]]
    padded = torch.tensor([s + [0] * (8 - len(s)) for s in sequences])
    batch = model(padded)
    for row, sequence in enumerate(sequences):
        torch.testing.assert_close(batch[row], model(torch.tensor([sequence]))[0])
    model.layers[0].mask_zero = False  # without the mask, the padding changes the result
    assert not torch.allclose(model(padded)[1], batch[1], atol=1e-3)


def test_block_submodule_names_for_checkpoint_mapping():
    encoder = TransformerEncoder(12, 2)
    encoder(torch.randn(1, 3, 4))
    shapes = {name: tuple(p.shape) for name, p in encoder.named_parameters()}
    expected = {
        **{f"self_attention.{n}_dense.weight": (4, 4) for n in ("query", "key", "value", "output")},
        **{f"self_attention.{n}_dense.bias": (4,) for n in ("query", "key", "value", "output")},
        "self_attention_layer_norm.weight": (4,),
        "self_attention_layer_norm.bias": (4,),
        "feedforward_intermediate_dense.weight": (12, 4),
        "feedforward_intermediate_dense.bias": (12,),
        "feedforward_output_dense.weight": (4, 12),
        "feedforward_output_dense.bias": (4,),
        "feedforward_layer_norm.weight": (4,),
        "feedforward_layer_norm.bias": (4,),
    }
    assert shapes == expected
    clone = TransformerEncoder(**encoder.get_config())
    assert clone.get_config() == encoder.get_config()


@pytest.mark.parametrize(
    "make, error, message",
    [
        (lambda: TransformerEncoder(0, 2), ConfigError, "received intermediate_dim=0"),
        (lambda: TransformerEncoder(8, 0), ConfigError, "received num_heads=0"),
        (lambda: TransformerDecoder(8, 2, dropout=-0.5), ConfigError, "received dropout=-0.5"),
        (lambda: TransformerEncoder(8, 2, activation="nope"), ConfigError, "nope"),
        (lambda: TransformerEncoder(8, 2, layer_norm_epsilon=0), ConfigError, "epsilon=0"),
    ],
)
def test_invalid_block_arguments_raise_config_error(make, error, message):
    with pytest.raises(error, match=message):
        make()


def test_block_shape_errors_and_inconsistent_decoder_use():
    with pytest.raises(ShapeError, match="needs at least one feature per head, received 3"):
        TransformerEncoder(8, num_heads=4)(torch.randn(2, 5, 3))
    with pytest.raises(ShapeError, match="inputs of shape \\(batch, steps, features\\)"):
        TransformerEncoder(8, 2)(torch.randn(2, 4))
    decoder = TransformerDecoder(8, 2)
    decoder(torch.randn(1, 3, 4))
    with pytest.raises(ConfigError, match="first called without encoder_sequence"):
        decoder(torch.randn(1, 3, 4), torch.randn(1, 2, 4))

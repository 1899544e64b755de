"""MultiHeadAttention against torch.nn.MultiheadAttention, its masks, its two paths and its cache."""

import pytest
import torch
from torch import nn

from ember.errors import ConfigError, ShapeError
from ember.layers.attention import KeyValueCache, MultiHeadAttention

ATOL = 1e-5


def _pair(embed_dim=8, num_heads=2, seed=0):
    """An ember MultiHeadAttention and a torch.nn.MultiheadAttention with the same weights."""
    torch.manual_seed(seed)
    ours = MultiHeadAttention(num_heads, embed_dim // num_heads)
    ours(torch.zeros(1, 1, embed_dim), torch.zeros(1, 1, embed_dim))  # build
    for dense in (ours.query_dense, ours.key_dense, ours.value_dense, ours.output_dense):
        nn.init.normal_(dense.bias)  # non-zero biases, so they are checked too
    reference = nn.MultiheadAttention(embed_dim, num_heads, batch_first=True)
    with torch.no_grad():
        dense = (ours.query_dense, ours.key_dense, ours.value_dense)
        reference.in_proj_weight.copy_(torch.cat([d.weight for d in dense]))
        reference.in_proj_bias.copy_(torch.cat([d.bias for d in dense]))
        reference.out_proj.weight.copy_(ours.output_dense.weight)
        reference.out_proj.bias.copy_(ours.output_dense.bias)
    return ours, reference


def test_outputs_scores_and_gradients_match_torch_multihead_attention():
    ours, reference = _pair()
    query = torch.randn(3, 5, 8, requires_grad=True)
    key, value = torch.randn(3, 7, 8), torch.randn(3, 7, 8, requires_grad=True)
    output, scores = ours(query, value, key=key, return_attention_scores=True)
    expected, expected_scores = reference(query, key, value, average_attn_weights=False)
    assert output.shape == (3, 5, 8) and scores.shape == (3, 2, 5, 7)
    torch.testing.assert_close(output, expected, atol=ATOL, rtol=1e-5)
    torch.testing.assert_close(scores, expected_scores, atol=ATOL, rtol=1e-5)
    ours_grads = torch.autograd.grad(
        output.square().sum(), (query, value, ours.query_dense.weight, ours.output_dense.bias)
    )
    reference_grads = torch.autograd.grad(
        expected.square().sum(),
        (query, value, reference.in_proj_weight, reference.out_proj.bias),
    )
    reference_grads = (*reference_grads[:2], reference_grads[2][:8], reference_grads[3])  # q rows
    for got, want in zip(ours_grads, reference_grads):
        torch.testing.assert_close(got, want, atol=1e-4, rtol=1e-4)


def test_fused_path_matches_explicit_path_with_padding_and_causal_masks():
    torch.manual_seed(0)
    layer = MultiHeadAttention(num_heads=2, key_dim=3, value_dim=5, output_shape=6)
    x = torch.randn(2, 6, 4, requires_grad=True)
    mask = torch.tensor([[True] * 6, [True] * 3 + [False] * 3])
    results = []
    for explicit in (False, True):
        output = layer(
            x, x, value_mask=mask, use_causal_mask=True, return_attention_scores=explicit
        )
        output = output[0] if explicit else output
        results.append((output, torch.autograd.grad(output.sum(), (x, layer.key_dense.weight))))
    (fused, fused_grads), (explicit, explicit_grads) = results
    assert fused.shape == (2, 6, 6)
    torch.testing.assert_close(fused, explicit, atol=1e-6, rtol=1e-5)
    for got, want in zip(fused_grads, explicit_grads):
        torch.testing.assert_close(got, want, atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("scores", [False, True])
def test_padded_keys_never_change_outputs_at_real_positions(scores):
    torch.manual_seed(0)
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    query, value = torch.randn(1, 4, 8), torch.randn(1, 3, 8)
    unpadded = layer(query, value, return_attention_scores=scores)
    padded_value = torch.cat([value, 100 * torch.randn(1, 2, 8)], dim=1)  # garbage in the padding
    mask = torch.tensor([[True, True, True, False, False]])
    padded = layer(query, padded_value, value_mask=mask, return_attention_scores=scores)
    if scores:
        (unpadded, unpadded_scores), (padded, padded_scores) = unpadded, padded
        torch.testing.assert_close(padded_scores[..., :3], unpadded_scores)
        assert (padded_scores[..., 3:] == 0).all()
    torch.testing.assert_close(padded, unpadded, atol=ATOL, rtol=1e-5)


def test_causal_output_at_step_t_ignores_later_steps():
    torch.manual_seed(0)
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    x = torch.randn(2, 6, 8)
    changed = x.clone()
    changed[:, 4:] = torch.randn(2, 2, 8)
    before = layer(x, x, use_causal_mask=True)
    after = layer(changed, changed, use_causal_mask=True)
    torch.testing.assert_close(after[:, :4], before[:, :4])
    assert not torch.allclose(after[:, 4:], before[:, 4:])


@pytest.mark.parametrize("scores", [False, True])
def test_queries_with_every_key_masked_are_finite_and_get_the_output_bias(scores):
    torch.manual_seed(0)
    layer = MultiHeadAttention(num_heads=2, key_dim=4)
    x = torch.randn(2, 3, 8, requires_grad=True)
    mask = torch.tensor([[True, True, False], [False, False, False]])  # sample 1: all padding
    output = layer(x, x, value_mask=mask, return_attention_scores=scores)
    output = output[0] if scores else output
    (gradient,) = torch.autograd.grad(output.sum(), (x,))
    assert torch.isfinite(output).all() and torch.isfinite(gradient).all()
    torch.testing.assert_close(output[1], layer.output_dense.bias.expand(3, 8))


def test_attention_mask_and_query_mask_combine_like_a_hand_written_softmax():
    torch.manual_seed(0)
    layer = MultiHeadAttention(num_heads=1, key_dim=4, use_bias=False)
    x = torch.randn(1, 3, 4)
    attention_mask = torch.tensor([[[1, 0, 1], [1, 1, 0], [0, 1, 1]]]).bool()
    output, scores = layer(x, x, attention_mask=attention_mask, return_attention_scores=True)
    q, k, v = layer.query_dense(x), layer.key_dense(x), layer.value_dense(x)
    logits = (q @ k.transpose(1, 2) / 2).masked_fill(~attention_mask, float("-inf"))
    torch.testing.assert_close(scores[:, 0], logits.softmax(-1))
    torch.testing.assert_close(output, layer.output_dense(logits.softmax(-1) @ v))
    query_mask = torch.tensor([[True, False, True]])
    masked = layer(x, x, query_mask=query_mask, attention_mask=attention_mask)
    torch.testing.assert_close(masked[:, 0::2], output[:, 0::2])
    assert (masked[:, 1] == 0).all()  # no bias: a query that attends nothing outputs zeros


def test_cache_decoding_step_by_step_matches_the_full_causal_forward():
    torch.manual_seed(0)
    layer = MultiHeadAttention(num_heads=2, key_dim=4).eval()
    x = torch.randn(2, 7, 8)
    full = layer(x, x, use_causal_mask=True)
    prompt, cache = layer(x[:, :3], x[:, :3], use_causal_mask=True, cache=KeyValueCache())
    steps = [prompt]
    for t in range(3, 7):
        step, cache = layer(x[:, t : t + 1], x[:, t : t + 1], use_causal_mask=True, cache=cache)
        steps.append(step)
    assert cache.length == 7 and cache.key.shape == (2, 2, 7, 4) and cache.mask is None
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=ATOL, rtol=1e-5)


def test_cache_remembers_the_padding_of_a_left_padded_prompt():
    torch.manual_seed(0)
    layer = MultiHeadAttention(num_heads=2, key_dim=4).eval()
    x = torch.randn(2, 5, 8)
    mask = torch.tensor([[False, False, True, True, True], [True] * 5])
    full = layer(x, x, value_mask=mask, use_causal_mask=True)
    prompt, cache = layer(
        x[:, :3], x[:, :3], value_mask=mask[:, :3], use_causal_mask=True, cache=KeyValueCache()
    )
    steps = [prompt]
    for t in (3, 4):  # new tokens: no mask given, the cache keeps the prompt's
        step, cache = layer(x[:, t : t + 1], x[:, t : t + 1], use_causal_mask=True, cache=cache)
        steps.append(step)
    assert cache.mask.tolist() == mask.tolist()
    torch.testing.assert_close(torch.cat(steps, dim=1), full, atol=ATOL, rtol=1e-5)
    with_scores = layer(x[:, :1], x[:, :1], return_attention_scores=True, cache=KeyValueCache())
    assert len(with_scores) == 3 and with_scores[1].shape == (2, 2, 1, 1)


def test_value_dim_and_output_shape_set_the_projection_sizes():
    layer = MultiHeadAttention(num_heads=3, key_dim=2, value_dim=5, output_shape=7)
    output = layer(torch.randn(2, 4, 6), torch.randn(2, 9, 10))
    assert output.shape == (2, 4, 7)
    assert layer.query_dense.weight.shape == (6, 6) and layer.key_dense.weight.shape == (6, 10)
    assert layer.value_dense.weight.shape == (15, 10) and layer.output_dense.weight.shape == (7, 15)
    clone = MultiHeadAttention(**layer.get_config())
    assert clone(torch.randn(1, 2, 6), torch.randn(1, 3, 10)).shape == (1, 2, 7)


@pytest.mark.parametrize(
    "make, message",
    [
        (lambda: MultiHeadAttention(0, 4), "expected a positive integer, received num_heads=0"),
        (lambda: MultiHeadAttention(2, -1), "received key_dim=-1"),
        (lambda: MultiHeadAttention(2, 4, value_dim=2.5), "received value_dim=2.5"),
        (lambda: MultiHeadAttention(2, 4, dropout=1.0), "received dropout=1.0"),
        (lambda: MultiHeadAttention(2, 4, output_shape=0), "received output_shape=0"),
    ],
)
def test_invalid_arguments_raise_config_error(make, message):
    with pytest.raises(ConfigError, match=message):
        make()


def test_wrong_ranks_and_mask_shapes_raise_shape_error():
    layer = MultiHeadAttention(2, 4)
    with pytest.raises(ShapeError, match="query of shape \\(batch, steps, features\\).*\\(8,\\)"):
        layer(torch.randn(3, 8), torch.randn(3, 8))
    x = torch.randn(2, 5, 8)
    with pytest.raises(ShapeError, match="value of shape"):
        layer(x, torch.randn(2, 8))
    with pytest.raises(ShapeError, match="key_mask/value_mask must have shape \\(2, 5\\)"):
        layer(x, x, value_mask=torch.ones(2, 4, dtype=torch.bool))

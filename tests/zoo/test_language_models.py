"""The recurrent and transformer language models: shapes, incremental generation, errors."""

import pytest
import torch

from ember.errors import ConfigError
from ember.models import RecurrentLanguageModel, TransformerLanguageModel


def networks():
    torch.manual_seed(0)
    return [
        RecurrentLanguageModel(11, embedding_dim=6, units=8, num_layers=2, cell="lstm"),
        RecurrentLanguageModel(11, embedding_dim=6, units=8, cell="gru"),
        RecurrentLanguageModel(11, embedding_dim=6, units=8, cell="rnn"),
        TransformerLanguageModel(11, context=12, dim=16, num_layers=2, num_heads=2),
    ]


@pytest.mark.parametrize("index", range(4))
def test_incremental_steps_equal_the_full_forward(index):
    net = networks()[index].eval()
    ids = torch.randint(0, 11, (2, 10))
    with torch.no_grad():
        full = net(ids)  # (2, 10, 11)
        assert full.shape == (2, 10, 11)
        logits, state = net.generation_step(ids[:, :4], None)  # the prompt at once
        torch.testing.assert_close(logits, full[:, 3], atol=1e-5, rtol=1e-5)
        for t in range(4, 10):  # then one token at a time
            logits, state = net.generation_step(ids[:, t : t + 1], state)
            torch.testing.assert_close(logits, full[:, t], atol=1e-5, rtol=1e-5)


def test_transformer_is_causal():
    net = networks()[3].eval()
    ids = torch.randint(0, 11, (1, 12))
    changed = ids.clone()
    changed[0, 8:] = (changed[0, 8:] + 1) % 11
    with torch.no_grad():
        torch.testing.assert_close(net(ids)[:, :8], net(changed)[:, :8])


def test_bad_settings_are_rejected():
    with pytest.raises(ConfigError, match="cell in rnn, lstm, gru"):
        RecurrentLanguageModel(10, cell="tcn")
    with pytest.raises(ConfigError, match="units=0"):
        RecurrentLanguageModel(10, units=0)
    with pytest.raises(ConfigError, match="multiple of num_heads"):
        TransformerLanguageModel(10, dim=30, num_heads=4)

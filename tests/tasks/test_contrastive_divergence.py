"""ContrastiveDivergence: the CD-k update by hand, persistent chains, exact resume, bad inputs."""

import pytest
import torch

import ember
from ember.errors import ConfigError, DataError, ShapeError
from ember.tasks.contrastive_divergence import ContrastiveDivergence
from ember.zoo.rbm import BernoulliRBM

PROTOTYPES = torch.tensor(
    [[1, 1, 1, 1, 0, 0, 0, 0, 1, 0, 1, 0], [0, 0, 0, 0, 1, 1, 1, 1, 0, 1, 0, 1]],
    dtype=torch.float32,
)


def patterns(n=64, noise=0.05, seed=0):
    """Noisy copies of two 12-bit prototypes, and which prototype each one is."""
    generator = torch.Generator().manual_seed(seed)
    labels = torch.randint(0, 2, (n,), generator=generator)
    flips = torch.bernoulli(torch.full((n, 12), noise), generator=generator)
    return (PROTOTYPES[labels] - flips).abs(), labels


def random_rbm(visible=12, hidden=6, seed=0):
    torch.manual_seed(seed)
    rbm = BernoulliRBM(visible, hidden, weight_scale=0.5)
    with torch.no_grad():
        rbm.visible_bias.normal_(0, 0.5)
        rbm.hidden_bias.normal_(0, 0.5)
    return rbm


def hand_cd_gradients(rbm, v_data, v_model):
    """The CD update direction <v hᵀ>_data - <v hᵀ>_model (h: probabilities), per parameter."""
    with torch.no_grad():
        h_data, h_model = rbm.hidden_probabilities(v_data), rbm.hidden_probabilities(v_model)
        return {
            "weight": h_data.T @ v_data / len(v_data) - h_model.T @ v_model / len(v_model),
            "visible_bias": v_data.mean(0) - v_model.mean(0),
            "hidden_bias": h_data.mean(0) - h_model.mean(0),
        }


@pytest.mark.parametrize("k", [1, 3])
def test_surrogate_gradient_is_the_negated_cd_k_update(k):
    rbm = random_rbm()
    v_data, _ = patterns(8)
    torch.manual_seed(1)
    outputs = ContrastiveDivergence(rbm, k=k).training_step((v_data,))
    outputs["loss"].backward()
    # The task's negative samples are exactly k Gibbs steps from the data, with these draws.
    torch.manual_seed(1)
    v_model = rbm.gibbs(v_data, k)
    expected = hand_cd_gradients(rbm, v_data, v_model)
    for name, parameter in rbm.named_parameters():
        torch.testing.assert_close(parameter.grad, -expected[name], rtol=1e-5, atol=1e-6)


def test_one_sgd_step_on_the_engine_applies_the_cd_1_rule():
    rbm = random_rbm()
    before = {name: p.detach().clone() for name, p in rbm.named_parameters()}
    v_data, labels = patterns(16)
    torch.manual_seed(2)
    v_model = rbm.gibbs(v_data, 1)
    expected = hand_cd_gradients(rbm, v_data, v_model)
    torch.manual_seed(2)
    trainer = ember.Trainer(
        ContrastiveDivergence(rbm), ember.optimizers.SGD(0.5), epochs=1, device="cpu"
    )
    # (x, y): the labels are ignored; one batch of all 16 samples in order.
    trainer.fit((v_data, labels), batch_size=16, shuffle=False, verbose=0)
    for name, parameter in rbm.named_parameters():
        # W <- W + lr (<v hᵀ>_data - <v hᵀ>_model), likewise for the biases.
        torch.testing.assert_close(
            parameter.detach(), before[name] + 0.5 * expected[name], rtol=1e-5, atol=1e-6
        )


def test_scores_match_their_definitions():
    rbm = random_rbm()
    v_data, _ = patterns(8)
    torch.manual_seed(3)
    outputs = ContrastiveDivergence(rbm).training_step((v_data,))
    torch.manual_seed(3)
    h = rbm.sample_hidden(v_data)
    reconstruction = rbm.visible_probabilities(h).detach()
    v_model = rbm.sample_visible(h)
    free_energy = rbm.free_energy(v_data).detach()
    torch.testing.assert_close(outputs["free_energy"], free_energy.mean())
    torch.testing.assert_close(
        outputs["loss"].detach(), free_energy.mean() - rbm.free_energy(v_model).detach().mean()
    )
    torch.testing.assert_close(outputs["reconstruction"], (v_data - reconstruction).pow(2).mean())
    # The pseudo-log-likelihood flips one random unit per sample, drawn after the chain.
    units = torch.randint(0, 12, (8,))
    flipped = v_data.clone()
    flipped[torch.arange(8), units] = 1 - flipped[torch.arange(8), units]
    gap = rbm.free_energy(flipped).detach() - free_energy
    expected = 12 * torch.nn.functional.logsigmoid(gap).mean()
    torch.testing.assert_close(outputs["pseudo_log_likelihood"], expected)


@pytest.mark.parametrize("persistent", [False, True])
def test_training_on_tiny_data_lowers_reconstruction_error(persistent):
    ember.set_seed(0)
    x, _ = patterns(96)
    task = ContrastiveDivergence(BernoulliRBM(12, 6), persistent=persistent)
    optimizer = ember.optimizers.SGD(0.1, momentum=0.5)
    history = ember.Trainer(task, optimizer, epochs=30, device="cpu").fit(
        x, batch_size=16, verbose=0
    )
    reconstruction = history.history["reconstruction"]
    assert reconstruction[-1] < 0.5 * reconstruction[0]
    assert (
        history.history["pseudo_log_likelihood"][-1] > history.history["pseudo_log_likelihood"][0]
    )


def test_persistent_chains_start_at_the_data_and_carry_on_between_steps():
    rbm = random_rbm()
    task = ContrastiveDivergence(rbm, k=2, persistent=True, chains=5)
    first, second = patterns(4, seed=1)[0], patterns(4, seed=2)[0]
    torch.manual_seed(4)
    task.training_step((first,))
    torch.manual_seed(4)
    # 5 chains from a batch of 4: the batch, cycled; then k Gibbs steps.
    expected = rbm.gibbs(first[[0, 1, 2, 3, 0]], 2)
    assert torch.equal(task.chain, expected)
    chain_before = task.chain.clone()
    torch.manual_seed(5)
    task.training_step((second,))
    torch.manual_seed(5)
    assert torch.equal(task.chain, rbm.gibbs(chain_before, 2))  # continued, not restarted
    chain_before = task.chain.clone()
    task.validation_step((second,))
    assert torch.equal(task.chain, chain_before)  # evaluating leaves the chains alone


def test_load_state_dict_restores_the_chains_and_the_next_step():
    rbm = random_rbm()
    task = ContrastiveDivergence(rbm, persistent=True)
    batch = (patterns(6)[0],)
    task.training_step(batch)
    restored = ContrastiveDivergence(rbm, persistent=True)
    restored.load_state_dict(task.state_dict())
    assert torch.equal(restored.chain, task.chain)
    torch.manual_seed(6)
    expected = task.training_step(batch)
    torch.manual_seed(6)
    got = restored.training_step(batch)
    assert torch.equal(restored.chain, task.chain)
    assert torch.equal(got["loss"], expected["loss"])
    assert ContrastiveDivergence(rbm).state_dict() == {"chain": None}
    with pytest.raises(ShapeError, match=r"\(chains, 12\)"):
        restored.load_state_dict({"chain": torch.zeros(3, 7)})


def test_a_persistent_run_resumes_exactly_from_its_checkpoint(tmp_path):
    from ember.runs.checkpoint import load_checkpoint
    from ember.runs.run_callbacks import Checkpointer

    x, _ = patterns(40)

    def run(folder, epochs, resume=False):
        ember.set_seed(0)
        rbm = BernoulliRBM(12, 6)
        task = ContrastiveDivergence(rbm, persistent=True)
        order = torch.Generator().manual_seed(0)
        checkpoint = load_checkpoint(folder) if resume else None
        checkpointer = Checkpointer(folder, order, monitor="loss", resume_from=checkpoint)
        optimizer = ember.optimizers.SGD(0.1, momentum=0.5)
        trainer = ember.Trainer(
            task, optimizer, epochs=epochs, callbacks=[checkpointer], device="cpu"
        )
        batches = ember.data.TensorBatches([x], 8, shuffle=True, generator=order)
        start = 0 if checkpoint is None else checkpoint.epoch
        trainer.fit(batches, verbose=0, initial_epoch=start)
        return rbm, task

    straight, straight_task = run(tmp_path / "straight", 3)
    run(tmp_path / "stopped", 2)
    resumed, resumed_task = run(tmp_path / "stopped", 3, resume=True)
    assert torch.equal(resumed_task.chain, straight_task.chain)
    for a, b in zip(resumed.parameters(), straight.parameters()):
        assert torch.equal(a, b)


def test_predict_on_the_engine_gives_hidden_probabilities():
    rbm = random_rbm()
    x = patterns(10)[0].view(10, 3, 4, 1)  # images are flattened
    trainer = ember.Trainer(ContrastiveDivergence(rbm), epochs=0, device="cpu")
    features = trainer.predict(x, batch_size=4)
    torch.testing.assert_close(features, rbm.hidden_probabilities(x.flatten(1)).detach())


# -- bad inputs: ember errors naming the problem and the fix, before any step ---------------------
def fit_raises(error, x, match, **task_options):
    rbm = random_rbm()
    weights = rbm.weight.detach().clone()
    trainer = ember.Trainer(ContrastiveDivergence(rbm, **task_options), "sgd", device="cpu")
    with pytest.raises(error, match=match) as raised:
        trainer.fit(x, verbose=0)
    assert torch.equal(rbm.weight, weights)  # nothing was trained
    assert "Fix:" in str(raised.value)


def test_data_outside_zero_one_is_a_data_error():
    x, _ = patterns(8)
    fit_raises(DataError, x * 2 - 1, r"values in \[0, 1\].*received data in \[-1, 1\]")
    fit_raises(DataError, x * 255, r"divide by 255")


def test_visible_size_mismatch_names_both_sizes():
    fit_raises(ShapeError, torch.rand(8, 2, 5, 1), r"12 visible units.*10 values per sample")


@pytest.mark.parametrize("options, match", [({"k": 0}, "k=0"), ({"chains": 0}, "chains=0")])
def test_bad_task_settings_are_config_errors(options, match):
    with pytest.raises(ConfigError, match=match):
        ContrastiveDivergence(random_rbm(), **options)


def test_a_module_that_is_not_an_rbm_is_a_config_error():
    with pytest.raises(ConfigError, match="BernoulliRBM"):
        ContrastiveDivergence(torch.nn.Linear(3, 2))

"""The engine's contract: tasks, objectives, the engine's own state, fit's arguments."""

from __future__ import annotations

import copy

import pytest
import torch
import torch.nn.functional as F
from torch import nn

import ember
from ember.errors import ConfigError
from ember.tasks import GAN
from ember.train import Objective, Task, Trainer


class MeanSquaredError(Task):
    def training_step(self, batch):
        x, y = batch
        return {"loss": F.mse_loss(self.module(x), y)}


def regression_data(n=64, seed=0):
    generator = torch.Generator().manual_seed(seed)
    x = torch.randn(n, 3, generator=generator)
    return x, x @ torch.tensor([[1.0], [-2.0], [0.5]])


def test_the_trainer_refuses_an_object_that_is_not_a_task():
    class LooksLikeATask:
        module = nn.Linear(2, 1)

        def training_step(self, batch):
            return {"loss": self.module(batch[0]).sum()}

    with pytest.raises(ConfigError, match=r"needs a task .*received LooksLikeATask.*subclass"):
        Trainer(LooksLikeATask())
    with pytest.raises(ConfigError, match="trains a torch.nn.Module, received str"):
        MeanSquaredError("not a module")


@pytest.mark.parametrize(
    "arguments, message",
    [
        ({"loss": ""}, "name of a loss"),
        ({"parameters": [nn.Parameter(torch.zeros(1))]}, "parameters=list"),
        ({"every": 0}, "positive integer, received every=0"),
    ],
)
def test_bad_objectives_are_refused(arguments, message):
    with pytest.raises(ConfigError, match=message):
        Objective(**arguments)


class Declares(MeanSquaredError):
    def __init__(self, module, objectives):
        super().__init__(module)
        self.declared = objectives

    def objectives(self):
        return self.declared


@pytest.mark.parametrize(
    "objectives, message",
    [
        ([], "returned no objective"),
        ([Objective(), Objective()], "names a loss twice"),
        (["loss"], "must return ember.train.Objective"),
        ([Objective(parameters=nn.ReLU())], "has no parameters"),
    ],
)
def test_objectives_are_checked_before_any_step(objectives, message):
    module = nn.Linear(3, 1)
    before = copy.deepcopy(module.state_dict())
    with pytest.raises(ConfigError, match=message):
        Trainer(Declares(module, objectives), device="cpu").fit(regression_data(), verbose=0)
    assert all(torch.equal(v, before[k]) for k, v in module.state_dict().items())


def test_a_step_without_its_loss_names_what_it_returned():
    class Forgets(Task):
        def training_step(self, batch):
            return {"error": self.module(batch[0]).sum()}

    with pytest.raises(ConfigError, match=r"holding the loss 'loss'.*received \['error'\]"):
        Trainer(Forgets(nn.Linear(3, 1)), device="cpu").fit(regression_data(), verbose=0)


def test_an_optimizer_over_other_tensors_is_refused():
    module, stranger = nn.Linear(3, 1), nn.Linear(3, 1)
    optimizer = torch.optim.SGD([*module.parameters(), *stranger.parameters()], lr=0.1)
    with pytest.raises(ConfigError, match="holds 2 tensor"):
        Trainer(MeanSquaredError(module), optimizer, device="cpu").fit(regression_data(), verbose=0)


def test_fit_takes_epochs_and_callbacks_without_changing_the_trainer():
    seen = []
    callback = ember.callbacks.LambdaCallback(
        on_epoch_start=lambda epoch, logs: seen.append(trainer.epochs)
    )
    trainer = Trainer(MeanSquaredError(nn.Linear(3, 1)), "sgd", epochs=5, device="cpu")
    history = trainer.fit(regression_data(), epochs=2, callbacks=[callback], verbose=0)
    assert len(history.epoch) == 2 and seen == [2, 2]
    assert trainer.default_epochs == 5 and trainer.default_callbacks == ()
    assert trainer.epochs == 2 and trainer.epoch == 2 and trainer.global_step == 4
    with pytest.raises(AttributeError):
        trainer.epochs = 3  # the engine's state is its own


def fit_and_resume(task_factory, data, optimizer, epochs, split):
    """Weights after ``epochs`` straight, and after ``split`` + the rest from the state_dict."""
    ember.set_seed(0)
    straight = task_factory()
    Trainer(straight, optimizer, device="cpu").fit(data, epochs=epochs, batch_size=16, verbose=0)

    ember.set_seed(0)
    first = task_factory()
    trainer = Trainer(first, optimizer, device="cpu")
    stop = ember.callbacks.LambdaCallback(
        on_epoch_end=lambda epoch, logs: setattr(trainer, "stop_training", epoch + 1 == split)
    )  # a run stopped after epoch `split` of `epochs` (its schedule spans all of them)
    trainer.fit(data, epochs=epochs, callbacks=[stop], batch_size=16, verbose=0)
    weights, state = copy.deepcopy(first.module.state_dict()), copy.deepcopy(trainer.state_dict())

    ember.set_seed(123)  # disturb every random state: the state_dict must restore it
    second = task_factory()
    second.module.load_state_dict(weights)
    resumed = Trainer(second, optimizer, device="cpu")
    resumed.load_state_dict(state)  # before fit: applied when the optimizers exist
    resumed.fit(data, epochs=epochs, initial_epoch=split, batch_size=16, verbose=0)
    return straight, second, resumed


def test_the_state_dict_resumes_training_exactly():
    def task():
        net = nn.Sequential(nn.Linear(3, 8), nn.Dropout(0.3), nn.Linear(8, 1))
        return MeanSquaredError(net)

    schedule = ember.optimizers.Adam(ember.schedules.OneCycle(0.05))
    straight, second, resumed = fit_and_resume(task, regression_data(), schedule, 4, 2)
    for key, value in straight.module.state_dict().items():
        assert torch.equal(value, second.module.state_dict()[key]), key
    assert resumed.global_step == 16 and resumed.epoch == 4
    assert sorted(resumed.state_dict()) == [
        "epoch",
        "global_step",
        "objectives",
        "rng",
        "scaler",
        "task",
    ]


def test_train_on_batch_is_one_engine_step():
    torch.manual_seed(0)
    module = nn.Linear(3, 1)
    trainer = Trainer(MeanSquaredError(module), ember.optimizers.SGD(0.1), device="cpu")
    x, y = regression_data(8)
    expected = copy.deepcopy(module)
    loss = F.mse_loss(expected(x), y)
    loss.backward()
    out = trainer.train_on_batch((x, y))
    assert not out["loss"].requires_grad and trainer.global_step == 1
    torch.testing.assert_close(out["loss"], loss.detach())
    for mine, theirs in zip(module.parameters(), expected.parameters()):
        torch.testing.assert_close(mine, theirs - 0.1 * theirs.grad)


def tiny_gan(seed=0):
    torch.manual_seed(seed)
    generator = nn.Sequential(nn.Linear(4, 16), nn.Tanh(), nn.Unflatten(1, (4, 4, 1)))
    discriminator = nn.Sequential(nn.Flatten(), nn.Linear(16, 1))
    sgd = ember.optimizers.SGD(0.1)
    gan = GAN(
        generator,
        discriminator,
        latent_size=4,
        generator_optimizer=sgd,
        discriminator_optimizer=sgd,
    )
    return gan, copy.deepcopy(generator), copy.deepcopy(discriminator)


def sgd_step(network, loss, lr=0.1):
    grads = torch.autograd.grad(loss, list(network.parameters()))
    with torch.no_grad():
        for param, grad in zip(network.parameters(), grads):
            param -= lr * grad


def test_a_gan_under_bf16_mixed_on_the_cpu_equals_a_hand_written_step():
    gan, generator, discriminator = tiny_gan()
    trainer = Trainer(gan, precision="bf16-mixed", device="cpu")
    real = torch.rand(8, 4, 4, 1, generator=torch.Generator().manual_seed(0))
    torch.manual_seed(1)
    out = trainer.train_on_batch((real,))

    torch.manual_seed(1)
    with torch.autocast("cpu", dtype=torch.bfloat16):  # the same ops under the same autocast
        fake = generator(torch.randn(8, 4))
        real_logits = discriminator(2 * real - 1).reshape(8)
        fake_logits = discriminator(fake.detach()).reshape(8)
        d_loss = F.binary_cross_entropy_with_logits(
            real_logits, torch.ones(8)
        ) + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros(8))
    sgd_step(discriminator, d_loss)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        g_loss = F.binary_cross_entropy_with_logits(discriminator(fake).reshape(8), torch.ones(8))
    sgd_step(generator, g_loss)

    assert fake.dtype == torch.bfloat16  # autocast really ran
    torch.testing.assert_close(out["d_loss"], d_loss.detach().float())
    torch.testing.assert_close(out["g_loss"], g_loss.detach().float())
    for mine, theirs in [
        (gan.module.discriminator, discriminator),
        (gan.module.generator, generator),
    ]:
        for a, b in zip(mine.parameters(), theirs.parameters()):
            assert a.dtype == torch.float32
            torch.testing.assert_close(a, b)


def test_a_gan_trains_under_bf16_mixed_for_an_epoch():
    gan, *_ = tiny_gan()
    history = Trainer(gan, precision="bf16-mixed", device="cpu").fit(
        torch.rand(32, 4, 4, 1), batch_size=8, verbose=0
    )
    assert all(torch.isfinite(torch.tensor(v)).all() for v in history.history.values())


def test_a_checkpoint_from_before_objectives_still_restores_the_optimizer():
    # Checkpoints written before this engine kept one optimizer under "optimizer"/"scheduler".
    torch.manual_seed(0)
    trainer = Trainer(MeanSquaredError(nn.Linear(3, 1)), "adam", device="cpu")
    trainer.fit(regression_data(), epochs=1, verbose=0)
    state = trainer.state_dict()
    saved = state.pop("objectives")["loss"]
    legacy = {**state, "optimizer": saved["optimizer"], "scheduler": saved["scheduler"]}
    restored = Trainer(MeanSquaredError(nn.Linear(3, 1)), "adam", device="cpu")
    restored.load_state_dict(legacy)
    restored.fit(regression_data(), epochs=1, verbose=0)  # builds the optimizer, then restores
    steps = {int(s["step"]) for s in restored.optimizer.state.values()}
    assert steps == {4} and restored.global_step == 4  # 2 steps saved + 2 more

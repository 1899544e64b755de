"""The GAN task: its step ratio, its losses against hand formulas, exact resume, bad inputs."""

import copy

import pytest
import torch

import ember
from ember.data.batches import TensorBatches
from ember.errors import ConfigError, DataError, ShapeError
from ember.runs.checkpoint import load_checkpoint
from ember.runs.run_callbacks import Checkpointer
from ember.tasks.gan import GAN
from ember.tasks.gan_losses import gradient_penalty
from ember.zoo.dcgan import DCGANDiscriminator, DCGANGenerator

CPU = torch.device("cpu")
LATENT = 4


def tiny_networks(seed=0):
    """A linear-tanh generator of 4x4x1 images and a linear discriminator: easy to redo by hand."""
    torch.manual_seed(seed)
    generator = torch.nn.Sequential(
        torch.nn.Linear(LATENT, 16), torch.nn.Tanh(), torch.nn.Unflatten(1, (4, 4, 1))
    )
    discriminator = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 1))
    return generator, discriminator


def images(n=8, seed=0):
    return torch.rand(n, 4, 4, 1, generator=torch.Generator().manual_seed(seed))


def adam_steps(optimizer):
    return {int(state["step"]) for state in optimizer.state.values()}


def assert_sgd_step_then_same(network, loss, trained, lr=0.1):
    """Step ``network`` by hand (plain SGD, rate ``lr``, on ``loss``); it must equal ``trained``."""
    grads = torch.autograd.grad(loss, list(network.parameters()))
    with torch.no_grad():
        for param, grad in zip(network.parameters(), grads):
            param -= lr * grad
    for mine, theirs in zip(network.parameters(), trained.parameters()):
        torch.testing.assert_close(mine, theirs)


@pytest.mark.parametrize("ratio, generator_steps", [(1, 12), (3, 4), (5, 2)])
def test_both_optimizers_step_in_the_configured_ratio(ratio, generator_steps):
    gan = GAN(*tiny_networks(), latent_size=LATENT, discriminator_steps=ratio)
    trainer = ember.Trainer(gan, epochs=2, device="cpu")
    trainer.fit(images(48), batch_size=8, verbose=0)
    assert trainer.global_step == 12  # 6 batches per epoch
    assert adam_steps(trainer.optimizers["d_loss"]) == {12}
    assert adam_steps(trainer.optimizers["g_loss"]) == {generator_steps}


def test_the_generator_steps_on_every_kth_call_only():
    gan = GAN(*tiny_networks(), latent_size=LATENT, discriminator_steps=3)
    trainer = ember.Trainer(gan, device="cpu")
    batch = (images(),)
    before = copy.deepcopy(gan.module.generator.state_dict())
    for _ in range(2):
        trainer.train_on_batch(batch)
    for key, value in gan.module.generator.state_dict().items():
        assert torch.equal(value, before[key]), key
    trainer.train_on_batch(batch)
    assert not torch.equal(gan.module.generator[0].weight, before["0.weight"])


def test_non_saturating_step_matches_the_binary_cross_entropy_formulas_by_hand():
    sgd = ember.optimizers.SGD(0.1)
    gan = GAN(
        *tiny_networks(),
        latent_size=LATENT,
        generator_optimizer=sgd,
        discriminator_optimizer=sgd,
    )
    x = images()
    trainer = ember.Trainer(gan, device="cpu")
    generator, discriminator = (copy.deepcopy(m) for m in gan.module.children())
    torch.manual_seed(1)
    out = trainer.train_on_batch((x,))  # the engine's step: both backward passes and updates

    torch.manual_seed(1)
    fake = generator(torch.randn(len(x), LATENT))  # the same noise as the step drew
    p_real = torch.sigmoid(discriminator(2 * x - 1)).squeeze(1)
    p_fake = torch.sigmoid(discriminator(fake.detach())).squeeze(1)
    d_loss = -torch.log(p_real).mean() - torch.log(1 - p_fake).mean()
    torch.testing.assert_close(out["d_loss"], d_loss.detach())
    torch.testing.assert_close(out["d_real"], p_real.mean().detach())
    torch.testing.assert_close(out["d_fake"], p_fake.mean().detach())
    # one plain SGD step of the discriminator on that loss ...
    assert_sgd_step_then_same(discriminator, d_loss, gan.module.discriminator)
    # ... then the generator's, judged by the updated discriminator: -mean log D(G(z))
    g_loss = -torch.log(torch.sigmoid(discriminator(fake)).squeeze(1)).mean()
    torch.testing.assert_close(out["g_loss"], g_loss.detach())
    torch.testing.assert_close(out["loss"], g_loss.detach())
    assert_sgd_step_then_same(generator, g_loss, gan.module.generator)


def test_gradient_penalty_matches_a_direct_autograd_computation():
    torch.manual_seed(0)
    critic = torch.nn.Sequential(
        torch.nn.Flatten(), torch.nn.Linear(16, 8), torch.nn.Softplus(), torch.nn.Linear(8, 1)
    )
    real, fake, mix = images(5, seed=1), images(5, seed=2), torch.rand(5)
    penalty = gradient_penalty(critic, real, fake, mix=mix)

    norms = []
    for i in range(5):  # one image at a time, straight from the definition
        point = (mix[i] * real[i] + (1 - mix[i]) * fake[i]).unsqueeze(0).requires_grad_(True)
        (gradient,) = torch.autograd.grad(critic(point).sum(), point)
        norms.append(gradient.flatten().norm())
    expected = ((torch.stack(norms) - 1) ** 2).mean()
    torch.testing.assert_close(penalty, expected)
    penalty.backward()  # create_graph: the penalty itself trains the critic
    assert critic[1].weight.grad.abs().sum() > 0


def test_wasserstein_step_reports_the_critic_loss_with_its_penalty():
    generator, critic = tiny_networks()
    gan = GAN(generator, critic, latent_size=LATENT, loss="wasserstein_gp", gradient_penalty=10)
    x = images()
    trainer = ember.Trainer(gan, device="cpu")
    generator0, critic0 = (copy.deepcopy(m) for m in gan.module.children())
    torch.manual_seed(3)
    out = trainer.train_on_batch((x,))
    # A linear critic's gradient is its weight at every interpolate: the penalty is exact.
    expected_penalty = (critic0[1].weight.norm() - 1) ** 2
    torch.testing.assert_close(out["gradient_penalty"], expected_penalty.detach())
    torch.manual_seed(3)
    fake = generator0(torch.randn(len(x), LATENT))
    d_loss = critic0(fake).mean() - critic0(2 * x - 1).mean() + 10 * expected_penalty
    torch.testing.assert_close(out["d_loss"], d_loss.detach())
    torch.testing.assert_close(out["g_loss"], -gan.module.discriminator(fake).mean().detach())


def test_conditional_dcgan_trains_and_validates_on_the_same_engine():
    torch.manual_seed(0)
    gan = GAN(
        DCGANGenerator(8, width=4, num_classes=3),
        DCGANDiscriminator(width=4, num_classes=3, normalization="layer"),
        latent_size=8,
        loss="wasserstein_gp",
        discriminator_steps=2,
        conditional=True,
        num_classes=3,
    )
    x, y = torch.rand(32, 28, 28, 1), torch.randint(0, 3, (32,))
    history = ember.Trainer(gan, epochs=1, device="cpu").fit(
        (x, y), (x, y), batch_size=16, verbose=0
    )
    logs = {k: v[-1] for k, v in history.history.items()}
    assert set(logs) == {
        *(
            f"{p}{k}"
            for p in ("", "val_")
            for k in ("loss", "d_loss", "g_loss", "d_real", "d_fake")
        ),
        "gradient_penalty",
    }
    assert all(torch.isfinite(torch.tensor(v)) for v in logs.values())
    samples = gan.sample(6)  # default labels 0, 1, 2, 0, 1, 2
    assert samples.shape == (6, 28, 28, 1) and 0 <= samples.min() and samples.max() <= 1


def test_samples_predictions_and_fixed_noise():
    gan = GAN(DCGANGenerator(8, width=4), DCGANDiscriminator(width=4), latent_size=8)
    rng_state = torch.get_rng_state()
    first = gan.sample(5, generator=torch.Generator().manual_seed(4))
    assert torch.equal(torch.get_rng_state(), rng_state)  # the seeded generator alone was used
    assert torch.equal(first, gan.sample(5, generator=torch.Generator().manual_seed(4)))
    assert first.shape == (5, 28, 28, 1) and 0 <= first.min() and first.max() <= 1
    latents = torch.randn(4, 8)
    predicted = ember.Trainer(gan, device="cpu").predict(latents, batch_size=3)
    torch.testing.assert_close(predicted, gan.generate(latents))


def fit_gan(task, run_dir, epochs, data, resume_from=None):
    order = torch.Generator().manual_seed(7)  # the data order, restored by the Checkpointer
    checkpointer = Checkpointer(run_dir, order, monitor="loss", resume_from=resume_from)
    trainer = ember.Trainer(task, epochs=epochs, callbacks=[checkpointer], device="cpu")
    batches = TensorBatches((data,), batch_size=16, shuffle=True, generator=order)
    initial_epoch = 0 if resume_from is None else resume_from.epoch
    trainer.fit(batches, verbose=0, initial_epoch=initial_epoch)
    return trainer


def small_dcgan(seed):
    torch.manual_seed(seed)
    generator, discriminator = DCGANGenerator(8, width=4), DCGANDiscriminator(width=4)
    return GAN(generator, discriminator, latent_size=8, discriminator_steps=2)


def test_checkpoint_resumes_exactly(tmp_path):
    data = torch.rand(48, 28, 28, 1, generator=torch.Generator().manual_seed(0))  # 3 steps/epoch
    straight = small_dcgan(0)
    straight_trainer = fit_gan(straight, tmp_path / "straight", 2, data)

    fit_gan(small_dcgan(0), tmp_path / "resumed", 1, data)
    checkpoint = load_checkpoint(tmp_path / "resumed")
    assert checkpoint.state["global_step"] == 3  # the generator's next step is mid-epoch
    torch.manual_seed(123)  # disturb every random state: the checkpoint must restore it
    resumed = small_dcgan(1)
    resumed_trainer = fit_gan(resumed, tmp_path / "resumed", 2, data, resume_from=checkpoint)

    assert resumed_trainer.global_step == straight_trainer.global_step == 6
    expected = straight.module.state_dict()
    for key, value in resumed.module.state_dict().items():
        assert torch.equal(value, expected[key]), key
    generator_steps = [
        adam_steps(t.optimizers["g_loss"]) for t in (resumed_trainer, straight_trainer)
    ]
    assert generator_steps[0] == generator_steps[1]

    # Without the engine's state (both optimizers' moments, the step counter) the runs part ways.
    forgetful = small_dcgan(1)
    checkpoint.state.update(objectives={}, global_step=0)
    fit_gan(forgetful, tmp_path / "forgetful", 2, data, resume_from=checkpoint)
    assert not torch.equal(
        forgetful.module.generator.project[0].weight, expected["generator.project.0.weight"]
    )


def test_a_gan_given_one_network_is_refused():
    generator, discriminator = tiny_networks()
    with pytest.raises(ConfigError, match="needs two networks.*discriminator=NoneType"):
        GAN(generator, None, latent_size=LATENT)
    with pytest.raises(ConfigError, match="the same module twice"):
        GAN(generator, generator, latent_size=LATENT)
    shared = torch.nn.Sequential(torch.nn.Flatten(), generator[0])
    with pytest.raises(ConfigError, match="share 2 parameter tensor"):
        GAN(generator, shared, latent_size=LATENT)


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"latent_size": 0}, "positive integer, received latent_size=0"),
        ({"latent_size": LATENT, "discriminator_steps": 0}, "discriminator_steps=0"),
        ({"latent_size": LATENT, "loss": "hinge"}, "loss='hinge'"),
        ({"latent_size": LATENT, "conditional": True}, "needs the number of classes"),
        ({"latent_size": LATENT, "num_classes": 3}, "only used by a conditional GAN"),
        ({"latent_size": LATENT, "generator_optimizer": 3}, "optimizer must be a name"),
    ],
)
def test_bad_settings_are_refused(settings, message):
    with pytest.raises(ConfigError, match=message):
        GAN(*tiny_networks(), **settings)


def test_bad_data_is_refused_before_any_step():
    gan = GAN(DCGANGenerator(8, width=4), DCGANDiscriminator(width=4), latent_size=8)
    trainer = ember.Trainer(gan, device="cpu")
    before = copy.deepcopy(gan.module.state_dict())
    with pytest.raises(ShapeError, match=r"\(28, 28, 1\).*\(32, 32, 3\)"):
        trainer.fit(torch.rand(4, 32, 32, 3), verbose=0)
    with pytest.raises(DataError, match=r"in \[0, 1\], received values in \[0, 255\]"):
        trainer.fit(
            torch.full((4, 28, 28, 1), 255.0).index_fill(0, torch.tensor([0]), 0), verbose=0
        )
    conditional = GAN(
        DCGANGenerator(8, width=4, num_classes=3),
        DCGANDiscriminator(width=4, num_classes=3),
        latent_size=8,
        conditional=True,
        num_classes=3,
    )
    with pytest.raises(DataError, match="without labels"):
        ember.Trainer(conditional, device="cpu").fit(torch.rand(4, 28, 28, 1), verbose=0)
    with pytest.raises(DataError, match=r"ids in \[0, 5\]"):
        conditional.setup((torch.rand(4, 28, 28, 1), torch.tensor([0, 1, 2, 5])), CPU)
    with pytest.raises(ShapeError, match="latent vectors of size 7"):
        GAN(*tiny_networks(), latent_size=7).setup((images(),), CPU)
    for key, value in gan.module.state_dict().items():
        assert torch.equal(value, before[key]), key


class LabelScaledGenerator(torch.nn.Module):
    """A tiny conditional generator: the noise scaled by a label embedding, then linear-tanh."""

    def __init__(self, classes=3):
        super().__init__()
        self.embedding = torch.nn.Embedding(classes, LATENT)
        self.linear = torch.nn.Linear(LATENT, 16)

    def forward(self, latents, labels):
        return torch.tanh(self.linear(latents * self.embedding(labels))).view(-1, 4, 4, 1)


def test_ac_gan_step_matches_the_hand_formulas():
    torch.manual_seed(0)
    generator = LabelScaledGenerator()
    discriminator = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(16, 1 + 3))
    sgd = ember.optimizers.SGD(0.1)
    gan = GAN(
        generator,
        discriminator,
        latent_size=LATENT,
        generator_optimizer=sgd,
        discriminator_optimizer=sgd,
        conditional=True,
        num_classes=3,
        class_loss=0.5,
    )
    x, y = images(), torch.tensor([0, 1, 2, 0, 1, 2, 0, 1])
    trainer = ember.Trainer(gan, device="cpu")
    generator, discriminator = copy.deepcopy(generator), copy.deepcopy(discriminator)
    torch.manual_seed(1)
    out = trainer.train_on_batch((x, y))

    torch.manual_seed(1)
    fake = generator(torch.randn(len(x), LATENT), y)
    bce, ce = (
        torch.nn.functional.binary_cross_entropy_with_logits,
        torch.nn.functional.cross_entropy,
    )
    real_out, fake_out = discriminator(2 * x - 1), discriminator(fake.detach())
    class_loss = ce(real_out[:, 1:], y)  # the real images only
    d_loss = (
        bce(real_out[:, 0], torch.ones(8)) + bce(fake_out[:, 0], torch.zeros(8)) + 0.5 * class_loss
    )
    torch.testing.assert_close(out["class_loss"], class_loss.detach())
    torch.testing.assert_close(out["d_loss"], d_loss.detach())
    assert_sgd_step_then_same(discriminator, d_loss, gan.module.discriminator)
    # the generator: fool the updated discriminator and be seen as the class it was asked for
    judged = discriminator(fake)
    g_loss = bce(judged[:, 0], torch.ones(8)) + 0.5 * ce(judged[:, 1:], y)
    torch.testing.assert_close(out["g_loss"], g_loss.detach())
    assert_sgd_step_then_same(generator, g_loss, gan.module.generator)


def test_ac_gan_settings_and_shapes_are_checked():
    conditional = {"latent_size": 8, "conditional": True, "num_classes": 10}
    networks = (DCGANGenerator(8, width=4, num_classes=10), DCGANDiscriminator(width=4))
    with pytest.raises(ConfigError, match="must be conditional"):
        GAN(DCGANGenerator(8, width=4), DCGANDiscriminator(width=4), latent_size=8, class_loss=1.0)
    with pytest.raises(ConfigError, match="non-saturating"):
        GAN(*networks, **conditional, class_loss=1.0, loss="wasserstein_gp")
    with pytest.raises(ConfigError, match="non-negative number"):
        GAN(*networks, **conditional, class_loss=-1.0)
    # a discriminator with one output cannot give class logits: said before any step
    gan = GAN(*networks, **conditional, class_loss=1.0)
    batch = (torch.rand(4, 28, 28, 1), torch.tensor([0, 1, 2, 3]))
    with pytest.raises(ShapeError, match=r"\(N, 11\).*class_outputs=10"):
        gan.setup(batch, CPU)
    with pytest.raises(ConfigError, match="would copy the label"):
        DCGANDiscriminator(width=4, num_classes=10, class_outputs=10)
    scores = DCGANDiscriminator(width=4, class_outputs=10)(batch[0])
    assert scores.shape == (4, 11)
    GAN(
        networks[0], DCGANDiscriminator(width=4, class_outputs=10), **conditional, class_loss=1.0
    ).setup(batch, CPU)

"""fine_tune: the head alone with the backbone frozen, then everything at discriminative rates."""

import pytest
import torch
from torch import nn

import ember
from ember import transfer

BASE = 0.01


class Recorder(ember.Callback):
    """Per fit: the optimizer's parameters, each step's learning rates, the backbone's grads."""

    def __init__(self, backbone: list[nn.Parameter]) -> None:
        self.backbone = backbone
        self.fits: list[dict] = []

    def on_fit_start(self, logs=None):
        groups = self.trainer.optimizer.param_groups
        self.fits.append(
            {
                "params": {id(p) for g in groups for p in g["params"]},
                "lrs": [[g["lr"] for g in groups]],
                "grads_none": [],
            }
        )

    def on_batch_end(self, batch, logs=None):
        self.fits[-1]["lrs"].append([g["lr"] for g in self.trainer.optimizer.param_groups])

    def on_epoch_end(self, epoch, logs=None):
        self.fits[-1]["grads_none"].append(all(p.grad is None for p in self.backbone))


def _model() -> ember.Model:
    torch.manual_seed(0)
    net = nn.Sequential(
        nn.Conv2d(3, 4, 3), nn.BatchNorm2d(4), nn.ReLU(), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
        nn.Linear(4, 3),
    )  # fmt: skip
    model = ember.Model(net)
    model.compile(
        optimizer="sgd",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        from_logits=True,
        device="cpu",
    )
    return model


def _data(n: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    generator = torch.Generator().manual_seed(2)
    return torch.randn(n, 3, 8, 8, generator=generator), torch.randint(
        0, 3, (n,), generator=generator
    )


def _torch_one_cycle(max_lr: float, total_steps: int, pct_start: float) -> list[float]:
    """The reference: PyTorch's OneCycleLR on one group, lr before each step and after the last."""
    weight = nn.Parameter(torch.zeros(1))
    sgd = torch.optim.SGD([weight], lr=max_lr)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        sgd, max_lr=max_lr, total_steps=total_steps, pct_start=pct_start, cycle_momentum=False
    )
    lrs = [sgd.param_groups[0]["lr"]]
    for _ in range(total_steps - 1):
        sgd.step()
        scheduler.step()
        lrs.append(sgd.param_groups[0]["lr"])
    return lrs


def test_fine_tune_trains_the_head_alone_then_everything_at_discriminative_rates():
    model = _model()
    net = model.network
    backbone = [*net[0].parameters(), *net[1].parameters()]
    before = [p.clone() for p in backbone] + [b.clone() for b in net[1].buffers()]
    head_before = net[5].weight.clone()
    recorder = Recorder(backbone)
    snapshots = []

    class Snapshot(ember.Callback):
        def on_fit_end(self, logs=None):
            snapshots.append([p.clone() for p in backbone] + [b.clone() for b in net[1].buffers()])

    x, y = _data()
    history = transfer.fine_tune(
        model,
        x,
        y,
        frozen_epochs=1,
        epochs=2,
        base_learning_rate=BASE,
        batch_size=8,
        validation_data=(x[:8], y[:8]),
        verbose=0,
        callbacks=[recorder, Snapshot()],
    )
    frozen, unfrozen = recorder.fits
    # Phase 1: the optimizer holds the head alone; the backbone gets no gradient and no update,
    # and its batch-norm statistics stay as they were (inference mode).
    assert frozen["params"] == {id(net[5].weight), id(net[5].bias)}
    assert frozen["grads_none"] == [True]
    assert all(torch.equal(a, b) for a, b in zip(before, snapshots[0]))
    assert not torch.equal(net[5].weight, head_before)
    head_lrs = [lrs[0] for lrs in frozen["lrs"]][:4]
    assert head_lrs == pytest.approx(_torch_one_cycle(BASE, 4, 0.99), rel=1e-12)
    # Phase 2: everything, the groups 0, 1, 5 at (1/100, 1/10, 1) of one-cycle's BASE / 2.
    assert unfrozen["params"] == {id(p) for p in net.parameters()}
    reference = _torch_one_cycle(BASE / 2, 8, 0.3)
    for step, lrs in enumerate(unfrozen["lrs"][:8]):
        assert lrs == pytest.approx([reference[step] * s for s in (0.01, 0.1, 1.0)], rel=1e-9)
    assert not all(torch.equal(a, b) for a, b in zip(snapshots[0], snapshots[1]))
    # Afterwards: a plain model again, and one history over both phases.
    assert all(p.requires_grad and not hasattr(p, "lr_scale") for p in net.parameters())
    assert history.epoch == [0, 1, 2] and model.history is history
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert len(history.history["val_loss"]) == 3


def test_fine_tune_with_no_frozen_epochs_runs_the_unfrozen_phase_only():
    model = _model()
    recorder = Recorder([])
    history = transfer.fine_tune(
        model, *_data(), frozen_epochs=0, epochs=1, batch_size=8, verbose=0, callbacks=[recorder]
    )
    assert len(recorder.fits) == 1 and history.epoch == [0]
    assert recorder.fits[0]["params"] == {id(p) for p in model.network.parameters()}


def test_fine_tune_needs_a_compiled_model_with_a_head():
    with pytest.raises(ember.NotCompiledError, match="received Model.*Fix:"):
        transfer.fine_tune(ember.Model(nn.Linear(2, 2)), torch.randn(4, 2), torch.zeros(4))
    model = ember.Model(nn.Conv1d(1, 1, 1))
    model.compile(loss="mse", device="cpu")
    with pytest.raises(ember.ConfigError, match="found no classifier head"):
        transfer.fine_tune(model, torch.randn(4, 1, 3), torch.randn(4, 1, 3))

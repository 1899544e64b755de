"""Fit a built image model to its input: the number of channels and the axis order.

:func:`adapt_input_channels` rebuilds the first convolution for another channel count, deriving
its kernel from the old one (so pretrained features survive); :func:`set_data_format` makes a
model take Keras-style channels-last ``(N, H, W, C)`` images (or channels-first ones, for a
model that natively takes channels-last) through a forward pre-hook, leaving the module
structure and the state-dict keys untouched.

Example:
    >>> import torch
    >>> from torch import nn
    >>> net = nn.Sequential(nn.Conv2d(3, 4, 3), nn.Flatten())
    >>> net = set_data_format(adapt_input_channels(net, 1), "channels_last")
    >>> net(torch.rand(2, 5, 5, 1)).shape, net.data_format
    (torch.Size([2, 36]), 'channels_last')
"""

from __future__ import annotations

import torch
from torch import nn

from ember import checks
from ember.errors import ConfigError, ShapeError

DATA_FORMATS = ("channels_first", "channels_last")


def first_conv(model: nn.Module) -> tuple[str, nn.Conv2d]:
    """The first ``nn.Conv2d`` of ``model`` (in registration order) and its dotted name.

    Example:
        >>> first_conv(nn.Sequential(nn.Identity(), nn.Conv2d(3, 8, 3)))
        ('1', Conv2d(3, 8, kernel_size=(3, 3), stride=(1, 1)))
    """
    for name, module in model.named_modules():
        if isinstance(module, nn.Conv2d):
            return name, module
    raise ConfigError(
        f"{type(model).__name__} has no nn.Conv2d, so its input channels cannot be adapted. "
        f"Fix: build it with the channel count you need instead."
    )


def adapt_kernel(weight: torch.Tensor, in_channels: int) -> torch.Tensor:
    """A conv kernel ``(out, old, kh, kw)`` turned into one for ``in_channels`` input channels.

    One channel: the sum over the old input channels, so a grey image gives exactly what the
    old network gives on that image repeated in every channel. Other counts: the old channels
    repeated cyclically and scaled by ``old / in_channels`` (timm's ``adapt_input_conv`` rule),
    which keeps the output's scale; an image repeated to a multiple of the old channel count
    gives exactly the old output.

    Example:
        >>> kernel = torch.ones(1, 3, 1, 1)
        >>> adapt_kernel(kernel, 1).flatten().tolist(), adapt_kernel(kernel, 6).sum().item()
        ([3.0], 3.0)
    """
    old = weight.shape[1]
    if in_channels == old:
        return weight
    if in_channels == 1:
        return weight.sum(dim=1, keepdim=True)
    cycle = torch.arange(in_channels, device=weight.device) % old
    return weight[:, cycle] * (old / in_channels)


def adapt_input_channels(model: nn.Module, in_channels: int) -> nn.Module:
    """Rebuild ``model``'s first convolution for ``in_channels`` inputs, in place; returns ``model``.

    The new kernel comes from the old one by :func:`adapt_kernel` (pretrained RGB kernels are
    summed for one grey channel), the bias is kept. A model that records its input channels in an
    integer ``in_channels`` attribute (``SmallResNet``, ``LeNet5``) has it updated.

    Example:
        >>> net = nn.Sequential(nn.Conv2d(3, 8, 3), nn.ReLU())
        >>> adapt_input_channels(net, 1)[0]
        Conv2d(1, 8, kernel_size=(3, 3), stride=(1, 1))
    """
    in_channels = checks.positive_int("in_channels", in_channels)
    name, conv = first_conv(model)
    if conv.in_channels == in_channels:
        return model
    if not name:
        raise ConfigError(
            f"the model is itself a Conv2d and cannot be replaced in place, received "
            f"in_channels={in_channels}. Fix: build nn.Conv2d({in_channels}, ...) instead."
        )
    if conv.groups != 1:
        raise ConfigError(
            f"the first convolution of {type(model).__name__} ({name}) is grouped "
            f"(groups={conv.groups}), received in_channels={in_channels}. Fix: build the model "
            f"for {in_channels} channels instead of adapting it."
        )
    new = nn.Conv2d(
        in_channels,
        conv.out_channels,
        conv.kernel_size,
        conv.stride,
        conv.padding,
        conv.dilation,
        bias=conv.bias is not None,
        padding_mode=conv.padding_mode,
        device=conv.weight.device,
        dtype=conv.weight.dtype,
    )
    with torch.no_grad():
        new.weight.copy_(adapt_kernel(conv.weight, in_channels))
        if conv.bias is not None:
            new.bias.copy_(conv.bias)
    parent, _, attribute = name.rpartition(".")
    setattr(model.get_submodule(parent), attribute, new)
    if checks.is_int(getattr(model, "in_channels", None)):
        model.in_channels = in_channels
    return model


class ToNativeLayout:
    """A forward pre-hook: checks the images' layout and channels, then permutes them into the
    model's own layout (when it differs).

    A plain class rather than a closure, so that a model carrying it can still be pickled and
    deep-copied. The channel count is read from the first convolution at each call (by name:
    :func:`adapt_input_channels` may have replaced the module since).
    """

    def __init__(self, data_format: str, conv_name: str, native: str = "channels_first") -> None:
        self.data_format = data_format
        self.conv_name = conv_name
        self.native = native

    def __call__(self, module: nn.Module, args: tuple) -> tuple:
        x = args[0]
        channels = module.get_submodule(self.conv_name).in_channels
        last = self.data_format == "channels_last"
        if x.ndim != 4 or x.shape[-1 if last else 1] != channels:
            raise ShapeError(self._mismatch(module, tuple(x.shape), channels))
        if self.data_format == self.native:
            return args
        x = x.permute(0, 3, 1, 2) if last else x.permute(0, 2, 3, 1)  # a view, no copy
        return (x, *args[1:])

    def _mismatch(self, module: nn.Module, shape: tuple, channels: int) -> str:
        last = self.data_format == "channels_last"
        expected = f"(N, H, W, {channels})" if last else f"(N, {channels}, H, W)"
        problem = (
            f"{type(module).__name__} was built for {channels}-channel images with "
            f"data_format={self.data_format!r}, so it expects {expected}; received shape {shape}."
        )
        other = "channels_first" if last else "channels_last"
        if len(shape) != 4:
            return f"{problem} Fix: pass a batch of images, e.g. x[None] for one image."
        received, elsewhere = (shape[-1], shape[1]) if last else (shape[1], shape[-1])
        if elsewhere == channels or (elsewhere <= 4 < received):
            fix = f"these look like {other} images: build it with data_format={other!r}, or permute them"
        elif received == 1 and channels == 3:
            fix = (
                "for grey images build it with create(..., in_channels=1) (pretrained RGB kernels "
                "are summed: the same as repeating the grey channel), or repeat the channel three "
                "times"
            )
        elif received == 4 and channels == 3:
            fix = "drop the alpha channel (RGBA -> RGB), x[..., :3] channels-last or x[:, :3]"
        else:
            fix = f"build it with create(..., in_channels={received})"
        return f"{problem} Fix: {fix}."


def set_data_format(
    model: nn.Module, data_format: str, native: str = "channels_first"
) -> nn.Module:
    """Make ``model`` take ``data_format`` images; it natively takes ``native`` ones.

    Sets ``model.data_format``. A forward pre-hook (:class:`ToNativeLayout`) checks each input's
    layout and channel count (an error says how to convert) and, when the two formats differ,
    permutes it, so the parameters, the state-dict keys and the module tree stay exactly those
    of the native model.

    Example:
        >>> net = set_data_format(nn.Conv2d(1, 2, 3), "channels_last")
        >>> net(torch.rand(4, 8, 8, 1)).shape  # (N, H, W, C) in, the conv's (N, C, H, W) out
        torch.Size([4, 2, 6, 6])
    """
    checks.one_of("data_format", data_format, DATA_FORMATS)
    checks.one_of("native", native, DATA_FORMATS)
    current = getattr(model, "data_format", None)
    if current == data_format:
        return model
    if current is not None:
        # A second hook would permute twice; the first cannot be found again to be removed.
        raise ConfigError(
            f"{type(model).__name__} already takes data_format={current!r}, received "
            f"data_format={data_format!r}. Fix: build a new model with the format you need."
        )
    name, _ = first_conv(model)
    model.register_forward_pre_hook(ToNativeLayout(data_format, name, native))
    model.data_format = data_format
    return model

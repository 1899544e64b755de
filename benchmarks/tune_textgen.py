"""Short probes for the textgen-* defaults: val loss after a fixed wall-clock budget.

Each spec is ``name,kind,batch,context,learning_rate,seconds,init[,compile][,layers x dim]``
(kind: tf, lstm, gru, rnn; init: ``gpt`` for N(0, 0.02) weights, ``-`` for ember's Keras
defaults; ``compile``: train through ``torch.compile``, its compile time inside the budget;
e.g. ``6x96``: the transformer's blocks and width, 4x128 by default). Constant learning rate
after a 30-step warm-up, random windows, gradients clipped to norm 1; the validation loss is over
up to 400 windows of the held-out last 10% of Moby-Dick. Run alone: it measures wall time.

    python benchmarks/tune_textgen.py lstm-b16,lstm,16,64,3e-3,90,- tf-b32,tf,32,64,3e-3,90,-
"""

import sys
import time

import torch
import torch.nn.functional as F

from ember import datasets
from ember.models import RecurrentLanguageModel, TransformerLanguageModel
from ember.nlp import CharTokenizer

torch.manual_seed(0)
text = datasets.moby_dick()
tok = CharTokenizer().fit([text])
V = tok.vocabulary_size
ids = torch.tensor(tok.encode(text))
cut = int(len(ids) * 0.9)
train, val = ids[:cut], ids[cut:]


def val_loss(net, T):
    net.eval()
    n = (len(val) - 1) // T
    n = min(n, 400)
    x = val[: n * T].view(n, T)
    y = val[1 : n * T + 1].view(n, T)
    tot = 0
    with torch.no_grad():
        for i in range(0, n, 50):
            tot += F.cross_entropy(
                net(x[i : i + 50]).reshape(-1, V), y[i : i + 50].reshape(-1), reduction="sum"
            ).item()
    net.train()
    return tot / (n * T)


def run(name, kind, B, T, lr, budget, init=None, compiled=False, shape="4x128", warm=30):
    torch.manual_seed(0)
    layers, dim = (int(n) for n in shape.split("x"))
    net = (
        TransformerLanguageModel(V, context=T, dim=dim, num_layers=layers)
        if kind == "tf"
        else RecurrentLanguageModel(V, units=384, cell={"rnn": "rnn"}.get(kind, kind))
    )
    net(torch.zeros(1, T, dtype=torch.long))
    if init == "gpt":
        for p in net.parameters():
            if p.ndim == 2:
                torch.nn.init.normal_(p, 0, 0.02)
    opt = torch.optim.AdamW(net.parameters(), lr, weight_decay=0.0)
    forward = torch.compile(net) if compiled else net
    g = torch.Generator().manual_seed(0)
    t = time.perf_counter()
    step = 0
    while time.perf_counter() - t < budget:
        off = torch.randint(0, len(train) - T - 1, (B,), generator=g)
        x = torch.stack([train[o : o + T] for o in off])
        y = torch.stack([train[o + 1 : o + T + 1] for o in off])
        for gr in opt.param_groups:
            gr["lr"] = lr * min(1, (step + 1) / warm)
        loss = F.cross_entropy(forward(x).reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        step += 1
    print(
        f"{name}: steps {step}, tokens {step * B * T / 1e6:.2f}M, val {val_loss(net, T):.3f}",
        flush=True,
    )


for spec in sys.argv[1:]:
    name, kind, B, T, lr, budget, init, *extra = spec.split(",")
    compiled = "compile" in extra
    shapes = [e for e in extra if "x" in e]
    run(
        name,
        kind,
        int(B),
        int(T),
        float(lr),
        float(budget),
        init if init != "-" else None,
        compiled,
        shapes[0] if shapes else "4x128",
    )

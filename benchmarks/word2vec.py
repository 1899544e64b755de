"""Word2vec engines side by side: gensim (ember's ``Word2Vec``) vs the same recipe in PyTorch.

Both train on Jane Austen's six novels + Moby-Dick (one sequence per paragraph, ~944k words) with
the same settings (100 dimensions, window 5, min_count 5, 5 negatives, 5 epochs, subsampling 1e-3,
learning rate 0.025 falling linearly to 0.0001) and the same number of threads, interleaved in each
repeat so machine load hits both alike. Quality is measured on a small hand-made set for these
novels: analogy accuracy (3CosAdd, top 1, 792 questions: gender, plurals, past tenses, ordinals,
comparatives) and neighbour purity (the share of each of 80 words' 5 nearest, among those 80, that
belong to its category: family, numbers, time, body, sea, feelings, colours, speech, titles).

    python benchmarks/word2vec.py --repeats 3      # skip-gram and CBOW, 2 threads, seeds 0-2
    python benchmarks/word2vec.py --threads 1 2 --architectures cbow --engines gensim pytorch

The PyTorch engine ("pytorch") is the word2vec recipe vectorised over chunks of 1,024 words (no
per-pair Python): subsampling, dynamic windows, unigram^0.75 negatives drawn per pair, linear
learning-rate decay, and word2vec's sparse SGD update written out by hand (checked against autograd
before timing); every word of a chunk is updated from the vectors as they were before it.
"pytorch-shared" draws 64 noise words per chunk, shared by all its pairs, so the noise scores are
matrix products (Ji et al., 2016), each weighted 5/64: the same expected gradient, less gathering.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time
from collections import Counter

import torch
import torch.nn.functional as F

from ember.datasets import jane_austen, moby_dick
from ember.nlp import Word2Vec
from ember.nlp.word2vec_training import split_sentences

SETTINGS = dict(vector_size=100, window=5, min_count=5, negative=5, epochs=5, sample=1e-3)
ALPHA, MIN_ALPHA = 0.025, 0.0001  # gensim's (and word2vec's skip-gram) defaults


# -- corpus and the hand-made evaluation set --------------------------------------------------------
def corpus() -> list[list[str]]:
    """Both books, one token list per paragraph (blank-line separated), as Word2Vec.fit splits."""
    paragraphs = []
    for text in (jane_austen(), moby_dick()):
        paragraphs.extend(re.split(r"\n\s*\n", text))
    return [tokens for tokens in split_sentences(paragraphs) if tokens]


CATEGORIES = {
    "family": "mother father sister brother daughter son aunt uncle wife husband cousin niece nephew",
    "number": "two three four five six seven eight ten twenty hundred thousand",
    "time": "morning evening night day week month year hour minute",
    "body": "head hand hands eyes face arm arms foot feet heart lips",
    "sea": "whale whales sea ocean ship boat boats harpoon sailors deck mast",
    "feeling": "happy glad sorry pleasure delight grief joy comfort",
    "colour": "white black red green blue yellow",
    "speech": "said replied cried answered exclaimed",
    "title": "mr mrs miss sir lady colonel",
}
PAIRS = {  # every two pairs of a group make a question: a is to b as c is to d
    "gender": "he:she his:her man:woman men:women brother:sister father:mother son:daughter "
    "uncle:aunt husband:wife nephew:niece gentleman:lady gentlemen:ladies mr:mrs sir:madam "
    "boy:girl brothers:sisters",
    "plural": "whale:whales boat:boats ship:ships day:days year:years hand:hands eye:eyes "
    "sister:sisters brother:brothers letter:letters friend:friends hour:hours week:weeks "
    "thing:things word:words man:men woman:women",
    "past": "is:was are:were have:had do:did say:said think:thought go:went come:came see:saw "
    "know:knew feel:felt give:gave take:took find:found tell:told make:made",
    "ordinal": "one:first two:second three:third four:fourth five:fifth",
    "comparative": "young:younger old:older great:greater high:higher near:nearer",
}


def quality(words: list[str], vectors: torch.Tensor) -> tuple[float, float]:
    """(analogy accuracy, neighbour purity) of ``vectors`` on the hand-made set."""
    index = {word: row for row, word in enumerate(words)}
    unit = F.normalize(vectors.float(), dim=1)
    questions = []
    for text in PAIRS.values():
        pairs = [tuple(pair.split(":")) for pair in text.split()]
        pairs = [pair for pair in pairs if pair[0] in index and pair[1] in index]
        questions += [(*p, *q) for p in pairs for q in pairs if not set(p) & set(q)]
    a, b, c, d = (torch.tensor([index[q[i]] for q in questions]) for i in range(4))
    scores = (unit[b] - unit[a] + unit[c]) @ unit.T  # (Q, V)
    rows = torch.arange(len(questions))
    for query in (a, b, c):
        scores[rows, query] = -float("inf")
    analogy = (scores.argmax(1) == d).float().mean().item()
    members = [
        (index.get(w, -1), k) for k, text in enumerate(CATEGORIES.values()) for w in text.split()
    ]
    members = [(row, k) for row, k in members if row >= 0]
    ids, labels = torch.tensor([m[0] for m in members]), torch.tensor([m[1] for m in members])
    similarity = unit[ids] @ unit[ids].T
    similarity.fill_diagonal_(-float("inf"))
    nearest = similarity.topk(5, dim=1).indices
    purity = (labels[nearest] == labels[:, None]).float().mean().item()
    return analogy, purity


# -- the PyTorch engine ---------------------------------------------------------------------------------
def negative_sampling_step(inputs, targets, weights, lr):
    """One word2vec update by hand: each of ``inputs`` (B, D) scores its ``targets`` (B, K+1, D),
    the true word first, then K noise words; ``weights`` (B, K+1) zero a noise word that is the
    true word. Loss: ``-log σ(u·v+) - Σ log σ(-u·v-)``, whose gradient with respect to a score is
    ``σ(score) - label``. Returns the steps word2vec adds: ``-lr`` times the gradients."""
    scores = torch.einsum("bkd,bd->bk", targets, inputs)  # (B, K+1)
    labels = torch.zeros_like(scores)
    labels[:, 0] = 1
    g = (labels - torch.sigmoid(scores)) * weights * lr  # -lr * dloss/dscore
    return torch.einsum("bk,bkd->bd", g, targets), g[:, :, None] * inputs[:, None, :]


def shared_negative_step(inputs, positives, noise, weights, lr):
    """The same update with M noise words shared by the whole chunk (Ji et al., 2016), so the
    noise scores are one matrix product: each of ``inputs`` (B, D) scores its ``positives`` (B, D)
    and all ``noise`` vectors (M, D), each weighted ``weights`` (B, M) (K/M, or 0 where a noise
    word is the true word): the same expected gradient as K noise words per pair."""
    g_positive = (1 - torch.sigmoid((inputs * positives).sum(1))) * lr  # (B,)
    g_noise = -torch.sigmoid(inputs @ noise.T) * weights * lr  # (B, M)
    step_inputs = g_positive[:, None] * positives + g_noise @ noise  # (B, D)
    return step_inputs, g_positive[:, None] * inputs, g_noise.T @ inputs  # (B, D), (M, D)


def check_steps_against_autograd() -> None:
    """Both hand-written updates equal -lr times autograd's gradients of their losses."""
    generator = torch.Generator().manual_seed(0)
    B, K, M, D, lr = 7, 3, 6, 5, 0.1
    inputs, targets, noise = (
        torch.randn(*shape, generator=generator, dtype=torch.float64, requires_grad=True)
        for shape in [(B, D), (B, K + 1, D), (M, D)]
    )
    weights = (torch.rand(B, K + 1, generator=generator) > 0.2).double()
    scores = (targets * inputs[:, None, :]).sum(-1)
    loss = -(F.logsigmoid(scores[:, 0]) * weights[:, 0]).sum()
    loss = loss - (F.logsigmoid(-scores[:, 1:]) * weights[:, 1:]).sum()
    loss.backward()
    steps = negative_sampling_step(inputs.detach(), targets.detach(), weights, lr)
    torch.testing.assert_close(steps, (-lr * inputs.grad, -lr * targets.grad))
    inputs.grad = targets.grad = None
    positives = targets[:, 0]
    shared_weights = torch.rand(B, M, generator=generator, dtype=torch.float64)
    loss = -F.logsigmoid((inputs * positives).sum(1)).sum()
    loss = loss - (F.logsigmoid(-inputs @ noise.T) * shared_weights).sum()
    loss.backward()
    steps = shared_negative_step(
        inputs.detach(), positives.detach(), noise.detach(), shared_weights, lr
    )
    expected = (-lr * inputs.grad, -lr * targets.grad[:, 0], -lr * noise.grad)
    torch.testing.assert_close(steps, expected)


def torch_word2vec(sentences, sg: bool, seed: int, shared: int = 0, chunk: int = 1024):
    """Train word2vec in PyTorch; returns (words, vectors). ``chunk`` words are updated at once,
    from the vectors as they were before the chunk; ``shared=M`` shares M noise words per chunk."""
    window, negative, epochs = SETTINGS["window"], SETTINGS["negative"], SETTINGS["epochs"]
    generator = torch.Generator().manual_seed(seed)
    counts = Counter(word for sentence in sentences for word in sentence)
    minimum = SETTINGS["min_count"]
    words = [w for w, n in sorted(counts.items(), key=lambda kv: -kv[1]) if n >= minimum]
    index = {word: row for row, word in enumerate(words)}
    ids, sentence_of = [], []
    for number, sentence in enumerate(sentences):
        row = [index[word] for word in sentence if word in index]
        ids += row
        sentence_of += [number] * len(row)
    ids, sentence_of = torch.tensor(ids), torch.tensor(sentence_of)  # (N,), (N,)
    frequency = torch.tensor([counts[word] for word in words], dtype=torch.float64)
    threshold = SETTINGS["sample"] * frequency.sum()
    keep_probability = (((frequency / threshold).sqrt() + 1) * threshold / frequency).float()
    noise_cdf = frequency.pow(0.75).cumsum(0)
    noise_cdf = (noise_cdf / noise_cdf[-1]).float()  # unigram^0.75, cumulative

    def draw_noise(*shape):
        uniform = torch.rand(*shape, generator=generator)
        return torch.searchsorted(noise_cdf, uniform).clamp(max=len(words) - 1)

    vocabulary_size, dim, total = len(words), SETTINGS["vector_size"], len(ids)
    syn0 = (torch.rand(vocabulary_size, dim, generator=generator) * 2 - 1) / dim  # input vectors
    syn1 = torch.zeros(vocabulary_size, dim)  # output vectors
    offsets = torch.cat([torch.arange(-window, 0), torch.arange(1, window + 1)])  # (2W,)
    for epoch in range(epochs):
        # Subsampling: drop frequent words before windows are drawn (so windows reach further).
        kept = torch.rand(total, generator=generator) < keep_probability[ids]
        raw_position = kept.nonzero().squeeze(1)
        words_kept, sentences_kept = ids[kept], sentence_of[kept]
        count = len(words_kept)
        for start in range(0, count, chunk):
            done = epoch * total + int(raw_position[start])
            lr = ALPHA - (ALPHA - MIN_ALPHA) * done / (epochs * total)
            # Dynamic window: each center word sees 1..window words on each side, same sequence.
            centers = torch.arange(start, min(start + chunk, count))  # (C,)
            reach = torch.randint(1, window + 1, (len(centers),), generator=generator)
            context = centers[:, None] + offsets  # (C, 2W)
            clamped = context.clamp(0, count - 1)
            valid = (offsets.abs() <= reach[:, None]) & (context >= 0) & (context < count)
            valid &= sentences_kept[clamped] == sentences_kept[centers][:, None]
            rows, columns = valid.nonzero(as_tuple=True)
            context_words = words_kept[clamped[rows, columns]]  # (P,)
            if sg:  # each context word predicts the center word (as word2vec and gensim do)
                inputs = syn0.index_select(0, context_words)  # (P, D)
                predicted = words_kept[centers[rows]]  # (P,)
            else:  # the mean of the context predicts the center word
                size = valid.sum(1, keepdim=True).clamp(min=1)  # (C, 1)
                inputs = torch.zeros(len(centers), dim)
                inputs.index_add_(0, rows, syn0.index_select(0, context_words))
                inputs /= size  # (C, D)
                predicted = words_kept[centers]  # (C,)
            if shared:
                noise_ids = draw_noise(shared)  # (M,)
                weights = (noise_ids != predicted[:, None]) * (negative / shared)  # (B, M)
                step_inputs, step_positives, step_noise = shared_negative_step(
                    inputs, syn1.index_select(0, predicted), syn1.index_select(0, noise_ids),
                    weights, lr,
                )  # fmt: skip
                syn1.index_add_(0, predicted, step_positives)
                syn1.index_add_(0, noise_ids, step_noise)
            else:
                noise_ids = draw_noise(len(predicted), negative)  # (B, K)
                target_ids = torch.cat([predicted[:, None], noise_ids], 1)  # (B, K+1)
                targets = syn1.index_select(0, target_ids.flatten()).view(*target_ids.shape, dim)
                weights = torch.cat(
                    [torch.ones(len(predicted), 1), noise_ids != predicted[:, None]], 1
                )
                step_inputs, step_targets = negative_sampling_step(inputs, targets, weights, lr)
                syn1.index_add_(0, target_ids.flatten(), step_targets.flatten(0, 1))
            if sg:
                syn0.index_add_(0, context_words, step_inputs)
            else:  # gensim's cbow_mean: the error is shared out over the context words
                syn0.index_add_(0, context_words, (step_inputs / size)[rows])
    return words, syn0


# -- the side-by-side run -------------------------------------------------------------------------------
SHARED_NOISE = 64  # noise words per chunk for the shared variant


def run_gensim(sentences, sg: bool, seed: int, threads: int):
    model = Word2Vec(sg=sg, seed=seed, workers=threads, **SETTINGS).fit(sentences)
    return model.vocabulary, model.vectors


def run_pytorch(sentences, sg: bool, seed: int, threads: int):
    torch.set_num_threads(threads)
    return torch_word2vec(sentences, sg, seed)


def run_pytorch_shared(sentences, sg: bool, seed: int, threads: int):
    torch.set_num_threads(threads)
    return torch_word2vec(sentences, sg, seed, shared=SHARED_NOISE)


ENGINES = {"gensim": run_gensim, "pytorch": run_pytorch, "pytorch-shared": run_pytorch_shared}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=1, help="runs per engine, seeds 0, 1, ...")
    parser.add_argument("--threads", type=int, nargs="+", default=[2])
    parser.add_argument("--architectures", nargs="+", default=["skipgram", "cbow"])
    parser.add_argument("--engines", nargs="+", default=list(ENGINES), choices=list(ENGINES))
    args = parser.parse_args()
    check_steps_against_autograd()
    sentences = corpus()
    print(f"corpus: {len(sentences):,} paragraphs, {sum(map(len, sentences)):,} words", flush=True)
    rows = []
    for architecture in args.architectures:
        for threads in args.threads:
            results = {engine: [] for engine in args.engines}
            for repeat in range(args.repeats):
                for engine in args.engines:  # interleaved, so load drift hits every engine
                    start = time.perf_counter()
                    words, vectors = ENGINES[engine](
                        sentences, architecture == "skipgram", repeat, threads
                    )
                    seconds = time.perf_counter() - start
                    analogy, purity = quality(words, vectors)
                    results[engine].append((seconds, analogy, purity))
                    print(
                        f"  {architecture}, {threads} thread(s), {engine}, seed {repeat}: "
                        f"{seconds:.1f} s, analogy {analogy:.3f}, purity {purity:.3f}",
                        flush=True,
                    )
            for engine in args.engines:
                rows.append((architecture, threads, engine, results[engine]))
    print(table(rows))


def table(rows) -> str:
    """Markdown: medians over the repeats, and each engine's time over gensim's."""
    lines = [
        "| architecture | threads | engine | seconds | analogy accuracy | neighbour purity | "
        "time / gensim |",
        "|---|---|---|---|---|---|---|",
    ]
    gensim_seconds = {}
    for architecture, threads, engine, results in rows:
        seconds, analogy, purity = (statistics.median(r[i] for r in results) for i in range(3))
        if engine == "gensim":
            gensim_seconds[architecture, threads] = seconds
        base = gensim_seconds.get((architecture, threads))
        ratio = f"{seconds / base:.1f}" if base else "-"
        lines.append(
            f"| {architecture} | {threads} | {engine} | {seconds:.1f} | {analogy:.3f} | "
            f"{purity:.3f} | {ratio} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()

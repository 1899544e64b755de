"""Word2Vec: training on planted structure, hand-set vectors, projector files, save/load, Embedding
loading (frozen and trainable) and every error."""

import math
import random

import numpy as np
import pytest
import torch

from ember import layers, models
from ember.errors import ConfigError, DataError, SaveError, ShapeError, UnknownNameError
from ember.nlp import Word2Vec, WordTokenizer
from ember.nlp.word2vec_training import MAX_SENTENCE, split_sentences

pytest.importorskip("gensim")

SEA = ["ship", "sail", "wave", "harbour", "anchor", "sailor"]
BALL = ["dance", "gown", "music", "partner", "waltz", "ballroom"]


def topic_corpus(sentences: int = 300, seed: int = 0) -> list[list[str]]:
    """Sentences of 8 words, each drawn from one topic only: neighbours must share the topic."""
    rng = random.Random(seed)
    return [rng.choices(SEA if index % 2 else BALL, k=8) for index in range(sentences)]


def small_model(**settings) -> Word2Vec:
    options = dict(vector_size=16, window=3, min_count=1, epochs=10, sample=0)
    return Word2Vec(**{**options, **settings}).fit(topic_corpus())


# Unit vectors where king - man + woman is exactly queen: cosine 1, the others by hand.
HAND_WORDS = ["king", "queen", "man", "woman", "girl", "apple"]
HAND_VECTORS = torch.tensor(
    [
        [1.0, 0.0, 1.0, 0.0],  # king: male + royal
        [0.0, 1.0, 1.0, 0.0],  # queen: female + royal
        [1.0, 0.0, 0.0, 1.0],  # man: male + person
        [0.0, 1.0, 0.0, 1.0],  # woman: female + person
        [0.0, 1.0, 0.0, 0.0],  # girl: female
        [0.0, 0.0, 0.0, 1.0],  # apple
    ]
) / torch.tensor([[math.sqrt(2)]] * 4 + [[1.0]] * 2)


# -- training (gensim does it; these pin down what ember gets back) -------------------------------
@pytest.mark.parametrize("sg", ["skipgram", "cbow"])
def test_neighbours_come_from_the_planted_topic(sg):
    model = small_model(sg=sg)
    for word in SEA + BALL:
        topic = SEA if word in SEA else BALL
        neighbours = [other for other, _ in model.most_similar(word, k=3)]
        assert set(neighbours) <= set(topic), (word, neighbours)


def test_vocabulary_counts_and_vectors_as_counted_by_hand():
    texts = ["b a c a", "Dog, b? a!", "rare"]
    model = Word2Vec(vector_size=6, window=2, min_count=2, epochs=1).fit(texts)
    # a: 3, b: 2 (ties: first appearance first, as in WordTokenizer); c, dog, rare: below min_count
    assert model.vocabulary == ["a", "b"]
    assert model.counts == [3, 2]
    assert model.vectors.shape == (2, 6) and model.vectors.dtype == torch.float32
    assert torch.equal(model["b"], model.vectors[1])
    assert "a" in model and "dog" not in model


def test_ties_keep_first_appearance_order():
    model = Word2Vec(vector_size=4, min_count=1, epochs=1).fit([["z", "y", "x", "y", "x", "z"]])
    assert model.vocabulary == ["z", "y", "x"]


def test_same_seed_gives_the_same_vectors_and_another_seed_other_ones():
    first, again, other = small_model(seed=3), small_model(seed=3), small_model(seed=4)
    assert torch.equal(first.vectors, again.vectors)
    assert not torch.allclose(first.vectors, other.vectors)


def test_strings_are_split_like_word_tokenizer_without_punctuation():
    assert split_sentences("Don't stop, Ahab!") == [["don", "t", "stop", "ahab"]]
    assert split_sentences([["Keep", ",", "as", "is"]]) == [["Keep", ",", "as", "is"]]
    long_text = ["w"] * (2 * MAX_SENTENCE + 5)  # gensim would drop words past MAX_SENTENCE
    assert [len(s) for s in split_sentences([long_text])] == [MAX_SENTENCE, MAX_SENTENCE, 5]


# -- queries on hand-set vectors ----------------------------------------------------------------------
def test_analogy_is_3cosadd_with_the_query_words_left_out():
    model = Word2Vec.from_vectors(HAND_WORDS, HAND_VECTORS)
    answers = model.analogy("man", "king", "woman", k=3)
    # query = king - man + woman = (0, 1, 1, 0) / sqrt(2), unit length: queen 1, girl 1/sqrt(2)
    assert [word for word, _ in answers] == ["queen", "girl", "apple"]
    assert [score for _, score in answers] == pytest.approx([1.0, 1 / math.sqrt(2), 0.0], abs=1e-6)


def test_most_similar_orders_by_cosine_and_leaves_the_word_out():
    words = ["sea", "tea", "lake", "ocean"]
    vectors = [[2.0, 0.0], [0.0, 1.0], [0.6, 0.8], [0.8, 0.6]]  # cosines to sea: 0, 0.6, 0.8
    model = Word2Vec.from_vectors(words, vectors)
    answers = model.most_similar("sea", k=10)  # k above the vocabulary: all the others
    assert [word for word, _ in answers] == ["ocean", "lake", "tea"]
    assert [score for _, score in answers] == pytest.approx([0.8, 0.6, 0.0], abs=1e-6)
    assert model.most_similar("sea", k=1) == [("ocean", pytest.approx(0.8))]


# -- files ---------------------------------------------------------------------------------------------
def test_projector_tsv_files_have_the_exact_format(tmp_path):
    model = Word2Vec.from_vectors(["sea", "océan"], [[1.0, -0.5], [0.25, 2e-7]])
    vectors_path, metadata_path = model.export_tsv(tmp_path / "projector")
    assert vectors_path.read_bytes() == b"1\t-0.5\n0.25\t2e-07\n"
    assert metadata_path.read_bytes() == "sea\nocéan\n".encode()
    assert sorted(p.name for p in (tmp_path / "projector").iterdir()) == [
        "metadata.tsv",
        "vectors.tsv",
    ]


def test_a_word_with_a_tab_cannot_go_to_the_projector(tmp_path):
    model = Word2Vec.from_vectors(["new\tyork"], [[1.0]])
    with pytest.raises(DataError, match="tabs or line breaks"):
        model.export_tsv(tmp_path)
    assert not list(tmp_path.iterdir())


def test_save_and_load_give_back_the_same_model(tmp_path):
    model = small_model(sg="cbow", seed=5)
    model.save(tmp_path / "w2v")
    loaded = Word2Vec.load(tmp_path / "w2v")
    assert torch.equal(loaded.vectors, model.vectors)
    assert loaded.vocabulary == model.vocabulary and loaded.counts == model.counts
    assert repr(loaded) == repr(model) and loaded.architecture == "cbow"
    assert loaded.most_similar("ship", k=3) == model.most_similar("ship", k=3)
    assert sorted(p.name for p in (tmp_path / "w2v").iterdir()) == [
        "config.json",
        "vectors.safetensors",
    ]


def test_save_refuses_to_overwrite_a_folder_that_is_not_ember_s(tmp_path):
    (tmp_path / "photos").mkdir()
    (tmp_path / "photos" / "cat.jpg").write_bytes(b"...")
    with pytest.raises(SaveError, match="refusing to overwrite"):
        Word2Vec.from_vectors(["a"], [[1.0]]).save(tmp_path / "photos")
    assert (tmp_path / "photos" / "cat.jpg").read_bytes() == b"..."


def test_load_rejects_missing_and_foreign_folders(tmp_path):
    with pytest.raises(SaveError, match="missing"):
        Word2Vec.load(tmp_path / "nowhere")
    models.Sequential([layers.Dense(2, input_shape=(3,))]).save(tmp_path / "net")
    with pytest.raises(SaveError, match="not a Word2Vec folder"):
        Word2Vec.load(tmp_path / "net")


@pytest.mark.parametrize("method", ["pca", "tsne"])
def test_plot_map_draws_one_label_per_word(tmp_path, method):
    model = small_model()
    figure = model.plot_map(tmp_path / f"map-{method}.png", method=method, top=8)
    assert (tmp_path / f"map-{method}.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    labels = [text.get_text() for text in figure.axes[0].texts]
    assert labels == model.vocabulary[:8]


def test_plot_map_of_chosen_words_as_svg(tmp_path):
    figure = small_model().plot_map(tmp_path / "map.svg", words=["ship", "sail", "dance"])
    assert (tmp_path / "map.svg").read_text().lstrip().startswith("<?xml")
    assert [text.get_text() for text in figure.axes[0].texts] == ["ship", "sail", "dance"]


# -- into an Embedding ---------------------------------------------------------------------------------
def hand_tokenizer() -> WordTokenizer:
    # vocabulary: [PAD], [UNK], the, king (2 each; "the" first), ",", queen, apple, man
    return WordTokenizer().fit(["the king, the queen", "King apple man"])


def test_embedding_matrix_rows_follow_the_tokenizer_ids():
    model = Word2Vec.from_vectors(HAND_WORDS, HAND_VECTORS)
    tokenizer = hand_tokenizer()
    assert tokenizer.vocabulary == ["[PAD]", "[UNK]", "the", "king", ",", "queen", "apple", "man"]
    matrix = model.embedding_matrix(tokenizer, unknown="zero")
    assert matrix.shape == (8, 4)
    for token_id, token in enumerate(tokenizer.vocabulary):
        expected = model[token] if token in model else torch.zeros(4)
        assert torch.equal(matrix[token_id], expected), token
    random_rows = model.embedding_matrix(tokenizer)  # unknown="random", drawn with model.seed
    assert torch.equal(random_rows, model.embedding_matrix(tokenizer))
    assert torch.equal(random_rows[0], torch.zeros(4))  # padding stays zero
    assert random_rows[[1, 2, 4]].abs().sum(1).min() > 0  # [UNK], "the", ","
    assert torch.equal(random_rows[[3, 5, 6, 7]], matrix[[3, 5, 6, 7]])


def test_uppercase_tokens_find_lowercase_vectors():
    model = Word2Vec.from_vectors(HAND_WORDS, HAND_VECTORS)
    tokenizer = WordTokenizer(lowercase=False).fit(["King queen"])
    matrix = model.embedding_matrix(tokenizer, unknown="zero")
    assert torch.equal(matrix[tokenizer.encode("King")[0]], model["king"])


def classifier(embedding: layers.Embedding) -> models.Sequential:
    model = models.Sequential(
        [embedding, layers.GlobalAveragePooling1D(), layers.Dense(2, activation="softmax")]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", device="cpu")
    return model


def train_on_ids(model: models.Sequential, tokenizer: WordTokenizer) -> None:
    texts = ["the king", "the queen", "apple man", "king queen"] * 8
    ids = tokenizer.encode_batch(texts)
    labels = np.array([0, 1, 0, 1] * 8)
    model.fit(ids, labels, batch_size=8, epochs=2, verbose=0)


def test_frozen_embedding_gets_no_gradient_and_keeps_its_vectors():
    tokenizer = hand_tokenizer()
    vectors = Word2Vec.from_vectors(HAND_WORDS, HAND_VECTORS)
    embedding = vectors.to_embedding(tokenizer)  # trainable=False
    before = embedding.weight.detach().clone()
    model = classifier(embedding)
    model(tokenizer.encode_batch(["the king"]))  # builds the Dense layer
    dense_before = model.layers[-1].weight.detach().clone()
    train_on_ids(model, tokenizer)
    assert embedding.weight.grad is None and not embedding.weight.requires_grad
    assert torch.equal(embedding.weight.detach(), before)
    assert not torch.equal(model.layers[-1].weight.detach(), dense_before)  # the rest trained


def test_trainable_embedding_starts_from_the_vectors_and_changes():
    tokenizer = hand_tokenizer()
    vectors = Word2Vec.from_vectors(HAND_WORDS, HAND_VECTORS)
    embedding = layers.Embedding(tokenizer.vocabulary_size, 4, mask_zero=True)
    vectors.load_into(embedding, tokenizer, trainable=True)
    assert torch.equal(embedding.weight.detach(), vectors.embedding_matrix(tokenizer))
    before = embedding.weight.detach().clone()
    train_on_ids(classifier(embedding), tokenizer)
    assert embedding.weight.requires_grad
    assert not torch.equal(embedding.weight.detach(), before)


def test_loading_into_an_embedding_of_the_wrong_size_says_which_size():
    vectors = Word2Vec.from_vectors(HAND_WORDS, HAND_VECTORS)
    with pytest.raises(ShapeError, match=r"input_dim=5, output_dim=4.*Embedding\(8, 4\)"):
        vectors.load_into(layers.Embedding(5, 4), hand_tokenizer())
    with pytest.raises(ShapeError, match=r"output_dim=16"):
        vectors.load_into(layers.Embedding(8, 16), hand_tokenizer())


# -- errors ----------------------------------------------------------------------------------------------
def test_unknown_words_are_errors_naming_close_matches():
    model = Word2Vec.from_vectors(["whale", "whales", "ship"], torch.eye(3))
    with pytest.raises(UnknownNameError, match=r"'wale' is not in the vocabulary.*'whale'"):
        model.most_similar("wale")
    with pytest.raises(KeyError, match=r"close matches: 'whale'"):
        model.analogy("ship", "whale", "Whale")
    with pytest.raises(UnknownNameError, match="no close matches"):
        model.analogy("ship", "zzz", "whale")
    with pytest.raises(UnknownNameError, match="'boat'"):
        model.plot_map("unused.png", words=["ship", "whale", "boat"])


@pytest.mark.parametrize("texts", [[], [""], ["!!! ... ?"], [[]]])
def test_an_empty_corpus_is_an_error(texts):
    with pytest.raises(DataError, match="empty corpus"):
        Word2Vec().fit(texts)


def test_a_min_count_that_leaves_no_word_says_the_highest_count():
    with pytest.raises(ConfigError, match=r"min_count=5 leaves no word.*'the', appears 3 times"):
        Word2Vec(min_count=5).fit(["the cat", "the dog", "the end"])


@pytest.mark.parametrize(
    "settings, message",
    [
        ({"vector_size": 0}, "received vector_size=0"),
        ({"window": 2.5}, "received window=2.5"),
        ({"sg": "glove"}, "'skipgram' or 'cbow', received 'glove'"),
        ({"seed": -1}, "received seed=-1"),
        ({"sample": 1.0}, "received sample=1.0"),
        ({"negative": 0}, "received negative=0"),
    ],
)
def test_bad_settings_are_refused_before_training(settings, message):
    with pytest.raises(ConfigError, match=message):
        Word2Vec(**settings)


def test_bad_inputs_and_arguments():
    with pytest.raises(DataError, match="text 1 is a int"):
        Word2Vec().fit(["fine", 3])
    with pytest.raises(ConfigError, match="no vectors yet"):
        Word2Vec().most_similar("a")
    model = Word2Vec.from_vectors(HAND_WORDS, HAND_VECTORS)
    with pytest.raises(ConfigError, match="received k=0"):
        model.most_similar("king", k=0)
    with pytest.raises(ConfigError, match="received method='umap'"):
        model.plot_map("unused.png", method="umap")
    with pytest.raises(ConfigError, match="received unknown='mean'"):
        model.embedding_matrix(hand_tokenizer(), unknown="mean")
    with pytest.raises(DataError, match="one vector per word"):
        Word2Vec.from_vectors(["a", "b"], [[1.0, 2.0]])

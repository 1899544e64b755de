"""Natural-language tools: tokenizers (characters, words, byte-level BPE / any HF tokenizer.json).

Every tokenizer reserves id 0 for padding, so ``encode_batch`` output feeds
``layers.Embedding(..., mask_zero=True)`` directly. :class:`Word2Vec` learns word vectors (skip-gram
or CBOW) that load into such an ``Embedding``.

Example:
    >>> from ember.nlp import WordTokenizer
    >>> tokenizer = WordTokenizer().fit(["the cat sat", "the dog sat down"])
    >>> tokenizer.encode_batch(["the cat", "the dog sat down"])
    tensor([[2, 4, 0, 0],
            [2, 5, 3, 6]])
"""

from ember.nlp.bpe_tokenizer import BPETokenizer
from ember.nlp.char_tokenizer import CharTokenizer
from ember.nlp.tokenizer_base import PAD_TOKEN, Tokenizer
from ember.nlp.word2vec import Word2Vec
from ember.nlp.word_tokenizer import WordTokenizer

__all__ = [
    "PAD_TOKEN",
    "BPETokenizer",
    "CharTokenizer",
    "Tokenizer",
    "Word2Vec",
    "WordTokenizer",
]

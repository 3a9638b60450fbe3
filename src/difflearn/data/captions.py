r"""The captions of the glyph images: their grammar, vocabulary and tokenizer.

A caption reads out an image's attributes (`difflearn.data.glyphs`) in one fixed
order,

    caption    := "a" [size] colour glyph ["," rotation] ["," "on a" background
                  "background"]
    rotation   := "upright" | "rotated left" | "rotated right"

for example "a small red 3, rotated left, on a dark background" or "a cyan 7". The
colour and the glyph are always there; the size, the rotation and the background
phrase may be left out (then the caption says nothing about them). Every word is in
`VOCAB`, 30 tokens in all, so a tokenizer is a dictionary lookup: `tokenize` maps
a caption to `CONTEXT_LENGTH` token ids, `<start>` first and `<pad>` after the last
word, as CLIP's tokenizer does for Stable Diffusion. The empty caption `""` is
`<start>` and padding: the null condition of classifier-free guidance.
"""

from __future__ import annotations

import re

import torch

from .glyphs import ATTRIBUTES, make_caption

SPECIAL = ("<pad>", "<start>")
WORDS = ("a", ",", "on", "background", "rotated", "upright", "left", "right")
VOCAB = (
    SPECIAL
    + WORDS
    + ATTRIBUTES["size"]
    + ATTRIBUTES["colour"]
    + ATTRIBUTES["glyph"]
    + ATTRIBUTES["background"]
)
TOKEN_ID = {w: i for i, w in enumerate(VOCAB)}
PAD, START = 0, 1
CONTEXT_LENGTH = 16  # the longest caption has 12 words, plus <start>


def words_of(caption: str) -> list[str]:
    """Lower-case words of a caption, commas as words of their own."""
    if not isinstance(caption, str):
        raise ValueError(f"caption must be a str, got {type(caption).__name__}")
    return re.findall(r"[^\s,]+|,", caption.lower())


# --8<-- [start:tokenize]
def tokenize(captions) -> torch.Tensor:
    """Token ids `(B, CONTEXT_LENGTH)` of a caption or a list of captions.

    Raises a ValueError naming the words that are not in `VOCAB` (and the vocabulary),
    or a caption with more than `CONTEXT_LENGTH - 1` words.
    """
    if isinstance(captions, str):
        captions = [captions]
    rows = []
    for caption in captions:
        words = words_of(caption)
        unknown = sorted({w for w in words if w not in TOKEN_ID})
        if unknown:
            raise ValueError(
                f"caption {caption!r} has words outside the vocabulary: {unknown}; "
                f"the vocabulary is {list(VOCAB[2:])}"
            )
        if len(words) > CONTEXT_LENGTH - 1:
            raise ValueError(
                f"caption {caption!r} has {len(words)} words, more than the "
                f"{CONTEXT_LENGTH - 1} that fit in the context"
            )
        ids = [START] + [TOKEN_ID[w] for w in words]
        rows.append(ids + [PAD] * (CONTEXT_LENGTH - len(ids)))
    return torch.tensor(rows, dtype=torch.int64)


# --8<-- [end:tokenize]


def parse_caption(caption: str) -> dict[str, int]:
    """The attribute indices a caption names (a subset of `ATTRIBUTES`).

    The inverse of `make_caption`: `parse_caption(make_caption(a))` gives back `a`.
    Raises a ValueError for a caption that does not follow the grammar.
    """
    words = words_of(caption)
    tokenize(caption)  # unknown words: the tokenizer's error
    found: dict[str, int] = {}
    for name, values in ATTRIBUTES.items():
        if name == "rotation":
            continue
        hits = [w for w in words if w in values]
        if len(hits) > 1:
            raise ValueError(f"caption {caption!r} names two {name}s: {hits}")
        if hits:
            found[name] = values.index(hits[0])
    if "upright" in words:
        found["rotation"] = ATTRIBUTES["rotation"].index("upright")
    for side in ("left", "right"):
        if side in words:
            found["rotation"] = ATTRIBUTES["rotation"].index(side)
    if caption.strip() and make_caption(
        {**dict.fromkeys(ATTRIBUTES, 0), **found},
        ("size" not in found, "rotation" not in found, "background" not in found),
    ) != " ".join(words).replace(" ,", ","):
        raise ValueError(
            f"caption {caption!r} does not follow the grammar "
            "'a [size] colour glyph[, rotation][, on a background background]', "
            "e.g. 'a small red 3, rotated left, on a dark background'"
        )
    return found


__all__ = [
    "CONTEXT_LENGTH",
    "PAD",
    "START",
    "TOKEN_ID",
    "VOCAB",
    "make_caption",
    "parse_caption",
    "tokenize",
    "words_of",
]

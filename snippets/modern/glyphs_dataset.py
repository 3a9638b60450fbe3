"""The glyph data set: sizes, determinism, the caption grammar and the tokenizer."""

import math

import torch
from difflearn.data import ATTRIBUTES, VOCAB, load_glyphs, parse_caption, tokenize

test = load_glyphs("test")
assert test.images.shape == (2000, 3, 32, 32) and len(test.captions) == 2000
assert float(test.images.min()) >= -1 and float(test.images.max()) <= 1
assert torch.equal(load_glyphs("test", n=100).images, test.images[:100])  # seeded
combinations = math.prod(len(v) for v in ATTRIBUTES.values())
print(f"{combinations} attribute combinations, vocabulary of {len(VOCAB)} tokens")
assert combinations == 720 and len(VOCAB) == 30

# every caption names the attributes of its image (and only those)
for i, caption in enumerate(test.captions):
    named = parse_caption(caption)
    assert all(int(test.attributes[k][i]) == v for k, v in named.items())
    assert {"glyph", "colour"} <= named.keys()  # always said
complete = sum(len(parse_caption(c)) == 5 for c in test.captions) / len(test)
se = math.sqrt(0.75**3 * (1 - 0.75**3) / len(test))
print(f"complete captions: {complete:.3f} (expected 0.75^3 = {0.75**3:.3f})")
assert abs(complete - 0.75**3) < 4 * se

tokens = tokenize(test.captions[0])
print(test.captions[0], "->", tokens.tolist()[0])
try:
    tokenize("a purple 3 on a mauve background")
except ValueError as err:  # names the unknown words and lists the vocabulary
    print(err)
    assert "['mauve', 'purple']" in str(err) and "'magenta'" in str(err)

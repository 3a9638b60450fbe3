"""Exercise: how many different captions can the grammar produce?

The glyph (10) and the colour (6) are always said; the size is one of 2 words or left
out (3 choices), the rotation one of 3 phrases or left out (4), the background one of
2 or left out (3): 10 * 6 * 3 * 4 * 3 = 2160 captions, 720 of them complete.
"""

import itertools

from difflearn.data import ATTRIBUTES, make_caption

captions, complete = set(), set()
for idx in itertools.product(*(range(len(v)) for v in ATTRIBUTES.values())):
    attrs = dict(zip(ATTRIBUTES, idx))
    for omit in itertools.product([False, True], repeat=3):
        captions.add(make_caption(attrs, omit))
        if not any(omit):
            complete.add(make_caption(attrs, omit))
print(len(captions), "captions,", len(complete), "complete")
assert len(captions) == 10 * 6 * 3 * 4 * 3 == 2160
assert len(complete) == 720

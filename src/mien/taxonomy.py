"""Label sets of the v0 API, in the order the API emits them.

The order of each tuple is the order of the output vectors and of the wire lists, so it is part of
the contract: never sort or reorder these at run time.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "BURST_DESCRIPTIONS",
    "EMOTIONS_48",
    "EMOTIONS_53",
    "FACE_DESCRIPTIONS",
    "FACS_ITEMS",
    "LANGUAGE_ONLY_EMOTIONS",
    "SENTIMENT_LEVELS",
    "TOXICITY_LABELS",
]

EMOTIONS_48: Final[tuple[str, ...]] = (
    "Admiration", "Adoration", "Aesthetic Appreciation", "Amusement", "Anger", "Anxiety", "Awe",
    "Awkwardness", "Boredom", "Calmness", "Concentration", "Confusion", "Contemplation", "Contempt",
    "Contentment", "Craving", "Desire", "Determination", "Disappointment", "Disgust", "Distress",
    "Doubt", "Ecstasy", "Embarrassment", "Empathic Pain", "Entrancement", "Envy", "Excitement",
    "Fear", "Guilt", "Horror", "Interest", "Joy", "Love", "Nostalgia", "Pain", "Pride",
    "Realization", "Relief", "Romance", "Sadness", "Satisfaction", "Shame", "Surprise (negative)",
    "Surprise (positive)", "Sympathy", "Tiredness", "Triumph",
)  # fmt: skip
"""Face, facemesh, speech prosody and vocal burst dimensions."""

LANGUAGE_ONLY_EMOTIONS: Final[tuple[str, ...]] = (
    "Annoyance", "Disapproval", "Enthusiasm", "Gratitude", "Sarcasm",
)  # fmt: skip
"""The five dimensions only the Emotional Language model has."""

EMOTIONS_53: Final[tuple[str, ...]] = tuple(sorted(EMOTIONS_48 + LANGUAGE_ONLY_EMOTIONS))
"""Emotional Language dimensions: the 48 plus five, alphabetical like the 48."""

SENTIMENT_LEVELS: Final[tuple[str, ...]] = tuple(str(level) for level in range(1, 10))
"""Nine sentiment levels, "1" (most negative) to "9" (most positive)."""

TOXICITY_LABELS: Final[tuple[str, ...]] = (
    "toxic", "severe_toxic", "obscene", "threat", "insult", "identity_hate",
)  # fmt: skip

FACS_ITEMS: Final[tuple[str, ...]] = (
    "AU1 Inner Brow Raise", "AU2 Outer Brow Raise", "AU4 Brow Lowerer", "AU5 Upper Lid Raise",
    "AU6 Cheek Raise", "AU7 Lids Tight", "AU9 Nose Wrinkle", "AU10 Upper Lip Raiser",
    "AU11 Nasolabial Furrow Deepener", "AU12 Lip Corner Puller", "AU14 Dimpler",
    "AU15 Lip Corner Depressor", "AU16 Lower Lip Depress", "AU17 Chin Raiser", "AU18 Lip Pucker",
    "AU19 Tongue Show", "AU20 Lip Stretch", "AU22 Lip Funneler", "AU23 Lip Tightener",
    "AU24 Lip Presser", "AU25 Lips Part", "AU26 Jaw Drop", "AU27 Mouth Stretch", "AU28 Lips Suck",
    "AU32 Bite", "AU34 Puff", "AU37 Lip Wipe", "AU38 Nostril Dilate", "AU43 Eye Closure",
    "AU53 Head Up", "AU54 Head Down", "Hand over Mouth", "Hand over Eyes", "Hand over Forehead",
    "Hand over Face", "Hand touching Face / Head",
)  # fmt: skip
"""FACS 2.0 items of the face model's ``facs`` output."""

FACE_DESCRIPTIONS: Final[tuple[str, ...]] = (
    "Beaming", "Biting lip", "Cheering", "Cringe", "Cry", "Eyes closed", "Face in hands", "Frown",
    "Gasp", "Glare", "Glaring", "Grimace", "Grin", "Jaw drop", "Laugh", "Licking lip", "Pout",
    "Scowl", "Smile", "Smirk", "Snarl", "Squint", "Sulking", "Tongue out", "Wide-eyed", "Wince",
    "Wrinkled nose",
)  # fmt: skip

BURST_DESCRIPTIONS: Final[tuple[str, ...]] = (
    "Cackle", "Cheer", "Chuckle", "Cry", "Gasp", "Giggle", "Groan", "Growl", "Grunt", "Hiss",
    "Hoot", "Howl", "Laugh", "Moan", "Pant", "Roar", "Scream", "Screech", "Shout", "Shriek",
    "Sigh", "Snicker", "Snort", "Sob", "Squeal", "Wail", "Wheep", "Whimper", "Yawn", "Yelp", "Ah",
    "Aha", "Ahh", "Argh", "Aww", "Eek", "Eww", "Grr", "Ha", "Hah", "Haha", "Hehe", "Hmm", "Huh",
    "Hurray", "Mhm", "Mmm", "Oh", "Ohh", "Ooh", "Ooph", "Ouch", "Oww", "Pff", "Phew", "Tsk", "Ugh",
    "Uh", "Uh-huh", "Umm", "Whee", "Whew", "Woah", "Wow", "Yay", "Yippee", "Yuck",
)  # fmt: skip
"""The 67 vocal-burst types of the burst model's ``descriptions`` output."""

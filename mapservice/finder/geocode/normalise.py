"""Normalisation and parsing of German addresses: street, place and house-number text folded into
comparable keys, and :func:`parse_address` splitting free text into a :class:`ParsedAddress`."""

from __future__ import annotations

import re
import unicodedata
from typing import NamedTuple

_UMLAUTS = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue"})
_NON_WORD = re.compile(r"[\W_]+")
# "Pl." / "Marktpl." after folding; only with the dot, because a bare "pl" ending is ambiguous.
_PLATZ_ABBR = re.compile(r"pl\.(?=[\W_]|$)")


def fold(text: str) -> str:
    """Casefold, ß→ss, umlauts→ae/oe/ue, other accents stripped.

    Umlauts are spelled out (not stripped) because that is how Germans type them without the
    keys, and how official data writes them in capitals ("LOEBDERGRABEN"). NFC first, so a
    decomposed "u" + combining diaeresis is an ü too.
    """
    s = unicodedata.normalize("NFC", text).casefold().translate(_UMLAUTS)
    s = unicodedata.normalize("NFKD", s)
    return "".join(ch for ch in s if not unicodedata.combining(ch))


def normalize_street(text: str) -> str:
    """Comparable key of a street name: "Anna-Siemsen-Straße" → "anna siemsen str".

    "straße"/"strasse" at the end of a word become "str" (so "Str.", "Str" and "Straße" agree),
    "Pl." becomes "platz", punctuation and runs of spaces become one space.
    """
    s = _PLATZ_ABBR.sub("platz ", fold(text))
    words: list[str] = []
    for word in _NON_WORD.sub(" ", s).split():
        if word.endswith("strasse"):
            word = word[: -len("strasse")] + "str"
        elif word == "pl":
            word = "platz"
        words.append(word)
    return " ".join(words)


def normalize_place(text: str) -> str:
    """Comparable key of a place name: "Jena-Lobeda" → "jena lobeda"."""
    return " ".join(_NON_WORD.sub(" ", fold(text)).split())


def normalize_housenumber(text: str) -> str:
    """ "27 A" → "27a": house number suffixes are written with and without space and in any case."""
    return "".join(fold(text).split())


class ParsedAddress(NamedTuple):
    """Parts of a free-text address; each None when the text did not contain it."""

    street: str | None
    housenumber: str | None  # normalised: "27a", "27-29"
    postcode: str | None
    place: str | None


_POSTCODE_TOKEN = re.compile(r"^\d{5}$")
_ANY_POSTCODE = re.compile(r"(?<!\d)\d{5}(?!\d)")
# "Hauptmarkt 108056 Zwickau": number and postcode run together, as some web pages print them.
_RUN_TOGETHER = re.compile(r"(?<!\d)(\d{1,3})((?:0[1-9]|[1-9]\d)\d{3})(?!\d)")
_HOUSENUMBER_TOKEN = re.compile(r"^\d{1,4}[a-zA-Z]?(?:[-/]\d{1,4}[a-zA-Z]?)?$")
_SUFFIX_TOKEN = re.compile(r"^[a-zA-Z]$")
# "Str.27", "Siemsenstr27": a number glued to the street name.
_GLUED_NUMBER = re.compile(r"(?<=[^\W\d_])(?=\d)|(?<=\.)(?=\d)")
_SEGMENTS = re.compile(r"[,;\n]+")
_NUMBER_WORDS = frozenset({"nr", "nr.", "no", "no.", "hausnummer", "hnr", "hnr."})


def parse_address(text: str) -> ParsedAddress:
    """Split "Anna-Siemsen-Str. 27, Jena" or "Am Anger 28 07743 Jena" into its parts.

    The house number is the first number (1–4 digits, optional letter, "27 A", "2-4") that
    follows a word; numbers followed by a dot inside the street ("Straße des 17. Juni") are
    ordinals, not house numbers. A five-digit number is the postcode. The street is the words
    before the house number (or postcode), everything else is the place. Commas separate parts,
    so "07743 Jena, Am Anger 28" works as well.
    """
    s = unicodedata.normalize("NFC", text).strip()
    if not _ANY_POSTCODE.search(s):
        s = _RUN_TOGETHER.sub(r"\1 \2", s, count=1)
    s = _GLUED_NUMBER.sub(" ", s)
    segments = [[t for t in seg.split() if t.casefold() not in _NUMBER_WORDS] for seg in _SEGMENTS.split(s)]
    segments = [seg for seg in segments if seg]

    postcode: str | None = None
    postcode_at: tuple[int, int] | None = None
    for si, seg in enumerate(segments):
        for ti, token in enumerate(seg):
            if _POSTCODE_TOKEN.match(token.rstrip(".")):
                postcode, postcode_at = token.rstrip("."), (si, ti)
                break
        if postcode:
            break

    housenumber: str | None = None
    number_at: tuple[int, set[int]] | None = None  # segment, token indexes of number and suffix
    for si, seg in enumerate(segments):
        for ti in range(1, len(seg)):
            last = ti == len(seg) - 1
            token = seg[ti].rstrip(".") if last else seg[ti]
            if (si, ti) == postcode_at or not _HOUSENUMBER_TOKEN.match(token):
                continue
            if not any(re.search(r"[^\W\d_]", w) for w in seg[:ti]):
                continue
            used = {ti}
            if ti + 1 < len(seg) and _SUFFIX_TOKEN.match(seg[ti + 1].rstrip(".")):
                token += seg[ti + 1].rstrip(".")
                used.add(ti + 1)
            housenumber, number_at = normalize_housenumber(token), (si, used)
            break
        if housenumber:
            break

    def skipped(si: int) -> set[int]:
        out = set(number_at[1]) if number_at and number_at[0] == si else set()
        if postcode_at and postcode_at[0] == si:
            out.add(postcode_at[1])
        return out

    if number_at is not None:
        street_segment: int | None = number_at[0]
    else:
        street_segment = next(
            (si for si, seg in enumerate(segments) if min(skipped(si), default=len(seg)) > 0), None
        )
    street_words: list[str] = []
    place_words: list[str] = []
    for si, seg in enumerate(segments):
        skip = skipped(si)
        boundary = min(skip, default=len(seg))
        if si == street_segment:
            street_words = seg[:boundary]
            place_words += [t for ti, t in enumerate(seg[boundary:], boundary) if ti not in skip]
        else:
            place_words += [t for ti, t in enumerate(seg) if ti not in skip]
    street = " ".join(street_words).strip(" -") or None
    place = " ".join(place_words).strip(" .-") or None
    return ParsedAddress(street, housenumber, postcode, place)

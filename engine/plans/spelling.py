"""One-letter slips in a grammar's own words, read as the word meant.

People type «в течении года», «ежекваратльно», «I полугодье». A grammar that knows
only the right spelling turns such a cell into a problem that a person then fixes by
hand — for a slip anybody reads past. :class:`Speller` corrects a word when it is one
edit (a letter wrong, missing, extra, or two neighbours swapped: the optimal string
alignment distance of rapidfuzz) away from exactly one word of the grammar's vocabulary,
and only when both are long enough that one edit cannot turn one ordinary word into
another («карте» is one letter from «марте»; neither is corrected). The caller records
every correction as a note the review shows ("«…» прочитано как «…»"), so nothing is
read differently without a person seeing it.

The vocabulary has whole words and stems (``"ежеквартальн*"``: any ending). Words that
*start* with a stem are known and never corrected; a stem's ending is kept when the stem
itself is misspelt («полугодье» → «полугодие»).
"""

from __future__ import annotations

from collections.abc import Iterable

from rapidfuzz.distance import OSA

#: Shorter words are never corrected: too many ordinary words are one letter apart.
MIN_LENGTH = 6
#: Stems are compared over their own length, so a shorter stem is already a long word.
MIN_STEM = 5


class Speller:
    """Corrections against a fixed vocabulary; built once per grammar."""

    def __init__(self, known: Iterable[str], targets: Iterable[str]) -> None:
        """``known``: every word and ``stem*`` the grammar reads (never corrected);
        ``targets``: those a misspelt word may be corrected to (the meaningful ones —
        fillers such as «данного» are known but not worth a correction note)."""
        self._known_words: set[str] = set()
        self._known_stems: list[str] = []
        for entry in known:
            self._add(entry, self._known_words, self._known_stems)
        self._words: set[str] = set()
        self._stems: list[str] = []
        for entry in targets:
            self._add(entry, self._words, self._stems)
        self._words = {w for w in self._words if len(w) >= MIN_LENGTH}
        self._stems = sorted({s for s in self._stems if len(s) >= MIN_STEM})
        self._known_stems = sorted(set(self._known_stems))

    @staticmethod
    def _add(entry: str, words: set[str], stems: list[str]) -> None:
        for part in entry.split():
            if part.endswith("*"):
                stems.append(part[:-1])
            else:
                words.add(part)

    def known(self, word: str) -> bool:
        return word in self._known_words or any(word.startswith(s) for s in self._known_stems)

    def correct(self, word: str) -> str | None:
        """The vocabulary word a lower-case ``word`` stands for, or None.

        None for a known word, a short word, or a word one edit away from several
        different vocabulary words (ambiguous: not guessed).
        """
        if len(word) < MIN_LENGTH or self.known(word):
            return None
        found: set[str] = {w for w in self._words if OSA.distance(word, w, score_cutoff=1) <= 1}
        for stem in self._stems:
            best: tuple[int, int, str] | None = None
            for cut in (len(stem), len(stem) - 1, len(stem) + 1):
                if cut <= 0 or cut > len(word):
                    continue
                distance = OSA.distance(word[:cut], stem, score_cutoff=1)
                if distance <= 1:
                    # prefer a replaced or swapped letter (same length) over a missing one
                    rank = (distance, abs(cut - len(stem)), stem + word[cut:])
                    best = rank if best is None or rank < best else best
            if best is not None:
                found.add(best[2])
        return found.pop() if len(found) == 1 else None

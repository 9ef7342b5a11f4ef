"""Write the given names, surnames and patronymics of the Russian morphological dictionary.

The dictionary (OpenCorpora, shipped in pymorphy2-dicts-ru) tags lemmas ``Name``, ``Surn`` and
``Patr``. Walking it takes most of a minute, so the lists are written once into this folder
and read from here; run again after the dictionary's version changes:

    .venv/bin/python -m redaction.lexicon.extract_dictionary_names
"""

from __future__ import annotations

from pathlib import Path

from redaction.morphology import analyzer

HERE = Path(__file__).resolve().parent
FILES = {"Name": "given_names_dictionary.txt", "Surn": "surnames_dictionary.txt", "Patr": "patronymics_dictionary.txt"}


def extract() -> dict[str, set[str]]:
    dictionary = analyzer().dictionary
    found: dict[str, set[str]] = {tag: set() for tag in FILES}
    for word, (paradigm, index) in dictionary.words.iteritems():
        if index:
            continue
        tag = dictionary.build_tag_info(paradigm, index)
        for grammeme in FILES:
            if grammeme in tag:
                found[grammeme].add(word)
    return found


def main() -> None:
    for grammeme, words in extract().items():
        header = f"# {grammeme} lemmas of the Russian morphological dictionary (extract_dictionary_names.py).\n"
        (HERE / FILES[grammeme]).write_text(header + "".join(f"{w}\n" for w in sorted(words)), encoding="utf-8")


if __name__ == "__main__":
    main()

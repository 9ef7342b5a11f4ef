"""Names in running text: persons, private places, employers; public places and units kept.

Russian text goes through natasha's NER (slovnet, trained on Russian news), and every
capitalised word is also checked against the given names, surnames and patronymics of the
Russian dictionary and the North Caucasian list, so a name the network misses in an unusual
case or sentence is still found. Latin-script text has no offline English NER to lean on
(README: "English names"), so names are found from the lexicons (given names romanised, the
surname endings of the region) and from context: a title or a kinship word before a capitalised
word, a second capitalised word beside a known name.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from redaction import names
from redaction.morphology import entities, parses, word_is_known
from redaction.patterns import shaped
from redaction.spans import Span
from redaction.tokens import (
    Token,
    common_english,
    never_a_name,
    public_places,
    readings,
    tokenise,
    unit_starters,
    units,
)

_NOT_PERSONS = frozenset({"бог", "аллах", "господь", "всевышний", "god", "allah", "лгбт", "lgbt"})
_PERSON_CUES = frozenset(
    """mr mrs ms miss dr brother sister cousin uncle aunt son daughter husband wife father mother
    friend boyfriend girlfriend partner neighbour neighbor nephew niece grandson granddaughter
    grandfather grandmother named called officer colonel major captain lieutenant sergeant imam
    mullah brother-in-law sister-in-law fiancé fiance classmate colleague acquaintance informant
    брат брата брату братом брате сестра сестры сестре сестру сестрой дядя дяди дяде дядю дядей
    тетя тётя тети тёти тете тёте тетю тётю отец отца отцу отцом мать матери матерью сын сына сыну
    сыном дочь дочери друг друга другу другом подруга подруги знакомый знакомого знакомому
    двоюродный двоюродного зовут звали звать имени имя парень парня парню партнер партнёр
    сосед соседа соседу соседка племянник племянника жена жены муж мужа мужем полковник майор
    капитан лейтенант сержант имам мулла господин госпожа""".split()
)
_PLACE_CUES_EN = frozenset("in at near from into to outside behind village town settlement".split())
_ADDRESS_RU = re.compile(
    # A settlement named at the head of a street address is part of the address.
    r"(?:\b(?:г\.|город|с\.|село|пос\.|пгт\.?|ст-ца)\s*[А-ЯЁ][\w\-]*,\s*)?"
    r"(?:\b(?:ул|пр|пр-т|пер|наб|пл|мкр|б-р|просп)\.\s?|"
    r"\b(?:улиц[аеуы]й?|проспект[аеу]?|переул(?:ок|ке|ка)|бульвар[аеу]?|шоссе|набережн(?:ая|ой|ую)|"
    r"площад(?:ь|и)|микрорайон[аеу]?|квартал[аеу]?)\s+)"
    r"(?:имени\s+|им\.\s?)?(?:[«\"]?[А-ЯЁ0-9][\w.\-]*[»\"]?(?:\s+[А-ЯЁ][\w\-]*)?)"
    r"(?:,?\s*(?:(?:д\.|дом[аеу]?)\s*№?\s*)?\d+[а-яА-Я]?(?:\s*[/к]\s*\d+)?)?"
    r"(?:,?\s*(?:корп\.|корпус|стр\.)\s*\d+)?"
    r"(?:,?\s*(?:кв\.|квартир[аеуы])\s*№?\s*\d+)?",
)
_HOUSE_RU = re.compile(r"\b(?:д\.|дом[аеу]?|кв\.|квартир[аеуы]|подъезд[аеу]?)\s*№?\s*\d+[а-я]?(?:\s*[/к]\s*\d+)?")
_SETTLEMENT_RU = re.compile(
    r"\b(?:с\.|село|селе|села|селом|сёл[ао]?|пос\.|пгт\.?|пос[её]л(?:ок|ке|ка|ком)|ст-ц[аеы]|станиц[аеуы]|"
    r"аул[аеу]?|деревн[яеиюй]|хутор[аеу]?|х\.)\s*"
    r"(?P<n>[А-ЯЁ][\w\-]*(?:[\s\-][А-ЯЁ][\w\-]*)?)"
)
_CHECHEN_SETTLEMENT = re.compile(
    r"\b(?:[А-ЯЁа-яё][а-яё]+-?(?:[Юю]рт\w*|[Мм]артан\w*|[Ээ]вл\w*)|"
    r"[A-Za-z][a-z]+-?(?:[Yy]urt|[Mm]artan|[Ee]vl))\b"
)
# A French address ("12 rue des Tanneurs, appt 4B") and a street typed in lowercase in a chat.
_ADDRESS_FR = re.compile(
    r"\b\d+(?:\s?(?:bis|ter))?,?\s+(?:rue|avenue|av\.|boulevard|bd|place|impasse|allée|allee|chemin|quai|cours)\s+"
    r"(?:(?:de la|de l'|du|des|de|d')\s*)?[A-ZÀ-Ÿ][\w\-']+(?:\s+[A-ZÀ-Ÿ][\w\-']+)*"
    r"(?:,?\s*(?:appt|apt|app\.?|bât\.?|bat\.?|étage|porte)\s*\w+)?"
)
_LOWERCASE_STREET = re.compile(r"\b[a-z][a-z\-]{2,}\s+(?:st|str|street|ave|avenue|prospekt|prospect|pr)\b\.?")
_ADDRESS_EN = re.compile(
    r"\b(?:\d+[A-Za-z]?,?\s+)?(?:[A-Z][\w\-']+\s+){1,3}(?:Street|St\.|Avenue|Ave\.|Road|Rd\.|Lane|Boulevard|"
    r"Blvd\.|Prospekt|Prospect|Highway|Embankment|Drive|Way|Place|Square)"
    r"(?:,?\s*(?:house|building|bldg\.?|no\.?)?\s*\d+[a-z]?)?(?:,?\s*(?:flat|apartment|apt\.?)\s*\d+)?"
)
_FLAT_EN = re.compile(r"\b(?:flat|apartment|apt\.?|house|building)\s+(?:No\.?\s*)?\d+[a-z]?\b", re.IGNORECASE)
_VILLAGE_EN = re.compile(r"\b(?:village|town|settlement|hamlet)\s+of\s+(?P<n>[A-Z][\w\-']+(?:[\s\-][A-Z][\w\-']+)?)")
_VILLAGE_AFTER_EN = re.compile(r"\b(?P<n>[A-Z][\w\-']+(?:-[A-Z][\w\-']+)?)\s+(?:village|settlement)\b")
_VENUE = re.compile(
    r"\b(?:мечет[ьиюей]|джума-мечет[ьиюей]|церкв[иьюей]|храм[аеу]?|mosque|church|parish|кафе|автосервис\w*|"
    r"автомойк\w*|шиномонтаж\w*|салон\w*\s+связи|аптек\w*|парикмахерск\w*|ателье|пекарн\w*|мастерск\w*|"
    r"киоск\w*|склад\w*|офис\w*|garage|bookshop|bakery|pharmacy|workshop|librairie|boulangerie|ресторан\w*|бар[аеу]?|клуб[аеу]?|магазин\w*|салон\w*|кофейн\w+|гостиниц\w+|отел[ьяею]\w*|"
    r"хостел\w*|сауна|сауне|спортзал\w*|café|cafe|restaurant|bar|club|shop|store|salon|hotel|hostel|gym)\s+"
    r"(?P<n>(?:св\.\s*|St\.?\s+|du\s+|de\s+la\s+|des\s+)?(?:[«\"“][^»\"”]{1,40}[»\"”]|[A-ZА-ЯЁ][\w\-'’]*"
    r"(?:\s+[A-ZА-ЯЁ][\w\-'’]*)?))"
)
_NUMBERED_PLACE = re.compile(
    r"\b(?:школ[аеуыой]{1,2}|гимнази[яиюей]|лице[йяюем]|детск\w+\s+сад\w*|больниц[аеуыей]|поликлиник[аеуи]|"
    r"колони[яиюей]|СИЗО|ИК|school|hospital|clinic|kindergarten|gymnasium|colony)\s*(?:№|No\.?|number|N)\s*\d+",
    re.IGNORECASE,
)
_STREET_BEFORE = re.compile(
    r"\b[А-ЯЁ][а-яё]+(?:ом|ой|ая|ий|ый|ое|ую|ого|ому|ем)\s+(?:проспект\w*|улиц\w+|переул\w+|бульвар\w*|шоссе|"
    r"набережн\w+|площад[ьи]\w*)(?:,?\s*(?:д\.|дом)?\s*\d+[а-я]?)?"
)
_GERMAN_STREET = re.compile(
    r"\b(?:[A-ZÄÖÜ][\wäöüß\-]*\s+(?:Straße|Strasse|Gasse|Weg|Platz|Allee|Damm|Ring|Ufer)|[A-ZÄÖÜ][\wäöüß\-]*(?:straße|strasse|gasse|weg|platz|allee|damm|ring|ufer|chaussee|laan|gatan|vägen|"
    r"straat|gracht|rue|ulica))(?:\s+\d+[a-z]?)?(?:,?\s*(?:flat|apartment|apt\.?|Wohnung|Whg\.?)\s*\d+)?\b"
)
_COMPANY = re.compile(
    r"(?:\b(?:ООО|ОАО|ЗАО|ПАО|АО|ИП|ГУП|МУП|ГБУ|ФГУП|LLC|Ltd|GmbH|Inc|JSC|OOO|Kanzlei|Firma|Cabinet|Société)\.?\s*)"
    r"(?:[«\"“][^»\"”]{1,50}[»\"”]|[A-ZА-ЯЁ][\w\-]+(?:\s+(?:&\s+)?[A-ZА-ЯЁ][\w\-]+){0,3}(?:\s+[A-ZА-ЯЁ]\.(?:\s?[A-ZА-ЯЁ]\.)?)?)"
)
_EMPLOYER_CUE = re.compile(
    r"\b(?:работа(?:л|ла|ли|ет|ю|ешь)|трудил(?:ся|ась)|подрабатыва\w+|устроил(?:ся|ась)|служил|учил(?:ся|ась)|"
    r"учится|студент\w*|работу|работы|works?|worked|working|employed|job|employee|employer|intern(?:ed)?|"
    r"studies|studied|studying|student|teaches|taught|volunteers?|volunteered|owner|owns|director|manager|head|"
    r"владел\w*|владеет|директор\w*|хозя\w+|руководител\w*)"
    r"(?:\s+(?:as\s+)?(?:an?\s+)?[a-zа-яё\-]+(?:\s+[a-zа-яё\-]+){0,3}?)?\s+"
    r"(?:(?:в|во|на|у|at|for|in|by|with|of)\s+)(?:(?:the|a|an|местн\w+|одн\w+)\s+)?"
    r"(?P<n>(?:[а-яa-z\-]+\s+){0,2}?[«\"“][^»\"”]{1,50}[»\"”]|[A-ZА-ЯЁ][\w\-&']*(?:[ \t]+[A-ZА-ЯЁ][\w\-&']*){0,3})"
)
_UNIT_NAME = re.compile(
    r"\b(?:ГУ\s+МВД|О?МВД|ОВД|УМВД|РОВД|ГОВД|УВД|У?ФСБ|СУ\s+СК|СК|ОМОН|СОБР|ППСП?(?:-\d)?|УФСИН|ГИБДД|ЦПЭ|"
    r"Росгвардии|Росгвардия)"
    r"(?:\s*[«\"“][^»\"”]{1,30}[»\"”])?(?:\s+России)?"
    r"(?:\s+по\s+(?:г\.\s*|городу\s+)?[А-ЯЁ][\w\-]*(?:\s+(?:району|округу|области|краю|[Рр]еспублике))?)?"
)
_DISTRICT = re.compile(
    r"\b(?:[А-ЯЁ][а-яё\-]+(?:ский|ской|ском|ского|скому|ским|цкий|цкого|цком|цкому)\s+(?:район|округ)\w*|"
    r"[A-Z][a-z\-]+\s+(?:[Dd]istrict|[Rr]aion))\b"
)
_INSTITUTION_RU = re.compile(
    r"\b[А-ЯЁ][а-яё\-]+(?:ого|ой|ый|ий|ая|ом|ую|ому|ым|ое)\s+(?:[а-яё\-]+(?:ого|ой|ый|ий|ая|ом|ую|ому|ым|ое)\s+){0,3}"
    r"(?:университет|больниц|институт|колледж|академи|техникум|завод|комбинат|банк|рын[оке]|школ|лице|"
    r"гимнази|фабрик|компани|училищ|поликлиник|клиник|центр|предприяти)\w*"
    r"(?:\s+[а-яё]+(?:а|и|ы|ов|ей|ия|ии|ого|ой))?"
)
_INSTITUTION_EN = re.compile(
    r"\b(?:[A-Z][\w\-']+\s+){1,4}(?:University|Hospital|Institute|College|Academy|School|Clinic|Factory|Plant|Bank|"
    r"Market|Company|Towers|Tower|Mall|Plaza|Hotel|Restaurant|Café|Cafe|Garage|Workshop|Store|Shop|Centre|Center|"
    r"supermarket|market|shop|store|café|cafe|restaurant|garage|factory|bakery|pharmacy)\b"
)
_NICKNAME = re.compile(
    r"(?:по\s+(?:кличке|прозвищу)|кличка|прозвище|позывной|позывным|nicknamed|nickname|known\s+as|goes\s+by|"
    r"call\s+sign)\s*[:—–-]?\s*(?P<n>[«\"“][^»\"”]{1,30}[»\"”]|[A-ZА-ЯЁ][\w\-]+)|"
    r"(?:зовут|звали|называют|называли|прозвали|call(?:ed|s)?(?:\s+(?:him|her))?)\s+(?:ещё\s+|еще\s+)?"
    r"(?P<q>[«\"“][^»\"”]{1,30}[»\"”])"
)
_UNIT_POSSESSIVE = re.compile(
    r"\b[A-Z][a-z]+['’]s\s+(?:police|regiment|battalion|men|forces|guards|security|people|unit|troops)\b"
)


def recognise(text: str, lang: str | None) -> list[Span]:
    tokens = tokenise(text)
    found = shaped(text) + list(kept(text, tokens))
    found += list(_places_and_employers(text))
    if lang != "en" and re.search("[а-яё]", text, re.IGNORECASE):
        found += list(_natasha(text, tokens))
    found += list(_persons_from_words(text, tokens))
    return found


def kept(text: str, tokens: list[Token]) -> Iterator[Span]:
    """Public places and units: proposed so that overlapping guesses lose to them."""
    for token in tokens:
        if not (token.capitalised or token.text.isupper()):
            continue
        length = public_places().match_at(tokens, token.index)
        if length:
            yield Span(token.start, tokens[token.index + length - 1].end, "PUBLIC_PLACE", "lexicon")
        length = units().match_at(tokens, token.index)
        if length:
            yield Span(token.start, tokens[token.index + length - 1].end, "UNIT", "lexicon")
    yield from _unit_phrases(text, tokens)
    for match in _UNIT_POSSESSIVE.finditer(text):
        yield Span(match.start(), match.end(), "UNIT", "unit")
    for match in _UNIT_NAME.finditer(text):
        yield Span(match.start(), match.end(), "UNIT", "unit-name")
    for match in _DISTRICT.finditer(text):
        yield Span(match.start(), match.end(), "PUBLIC_PLACE", "district")


def _unit_phrases(text: str, tokens: list[Token]) -> Iterator[Span]:
    for token in tokens:
        if token.lower not in unit_starters():
            continue
        if token.cyrillic:
            end = _unit_name_after(text, tokens, token.index + 1)
            if end > token.end:
                yield Span(token.start, end, "UNIT", "unit")
        else:
            start = _unit_name_before(tokens, token.index)
            if start < token.start:
                yield Span(start, token.end, "UNIT", "unit")


def _unit_name_after(text: str, tokens: list[Token], index: int) -> int:
    end = tokens[index - 1].end
    quoted = re.match(r"\s*[«\"“][^»\"”]{1,40}[»\"”]", text[end:])
    if quoted:
        end += quoted.end()
        index = _next_token_after(tokens, end)
    taken = 0
    while index < len(tokens) and taken < 5:
        token = tokens[index]
        if not _joins(text, tokens[index - 1], token) or not (
            token.lower in ("имени", "им") or token.capitalised or token.text.isupper() or token.text.isdigit()
        ):
            break
        end, index, taken = token.end, index + 1, taken + 1
    return end


def _next_token_after(tokens: list[Token], offset: int) -> int:
    return next((t.index for t in tokens if t.start >= offset), len(tokens))


def _unit_name_before(tokens: list[Token], index: int) -> int:
    start = tokens[index].start
    for token in reversed(tokens[max(0, index - 3) : index]):
        if not (token.capitalised or token.text.isupper()) or token.lower in common_english() - {"sever"}:
            break
        start = token.start
    return start


def _places_and_employers(text: str) -> Iterator[Span]:
    for pattern in (_ADDRESS_RU, _HOUSE_RU, _ADDRESS_EN, _FLAT_EN, _ADDRESS_FR, _LOWERCASE_STREET):
        for match in pattern.finditer(text):
            yield Span(match.start(), match.end(), "PRIVATE_PLACE", "address")
    for pattern in (_SETTLEMENT_RU, _VILLAGE_EN, _VILLAGE_AFTER_EN, _VENUE, _NUMBERED_PLACE):
        for match in pattern.finditer(text):
            yield Span(match.start(), match.end(), "PRIVATE_PLACE", "place")
    for match in _STREET_BEFORE.finditer(text):
        yield Span(match.start(), match.end(), "PRIVATE_PLACE", "street-shape")
    for match in _GERMAN_STREET.finditer(text):
        yield Span(match.start(), match.end(), "PRIVATE_PLACE", "address")
    for match in _CHECHEN_SETTLEMENT.finditer(text):
        yield Span(match.start(), match.end(), "PRIVATE_PLACE", "settlement-shape")
    for match in _NICKNAME.finditer(text):
        start, end = match.span("n") if match.group("n") else match.span("q")
        yield Span(start, end, "PERSON", "nickname", ((text[start:end].strip('«»"“”'), "unknown"),))
    for pattern in (_COMPANY, _INSTITUTION_RU, _INSTITUTION_EN):
        for match in pattern.finditer(text):
            yield Span(match.start(), match.end(), "EMPLOYER", "company")
    for match in _EMPLOYER_CUE.finditer(text):
        start, end = match.span("n")
        value = text[start:end].rstrip(" ,.")
        yield Span(start, start + len(value), "EMPLOYER", "employer")


def _natasha(text: str, tokens: list[Token]) -> Iterator[Span]:
    for entity in entities(text):
        words = [t for t in tokens if entity.start <= t.start < entity.end]
        if entity.kind == "PER":
            words = _trim(words)
            if words and not _trap(words, tokens) and not all(w.lower in _NOT_PERSONS for w in words):
                yield Span(words[0].start, words[-1].end, "PERSON", "natasha", _roles(words))
        elif entity.kind == "LOC":
            yield Span(entity.start, entity.end, "PRIVATE_PLACE", "natasha")
        else:
            yield Span(entity.start, entity.end, "EMPLOYER", "natasha")


def _trim(words: list[Token]) -> list[Token]:
    """Drop ordinary words the network took into a name («Передайте Исламу»)."""
    while words and _plain_word(words[0]):
        words = words[1:]
    while words and _plain_word(words[-1]):
        words = words[:-1]
    return words


_FUNCTION_WORDS = frozenset({"PREP", "CONJ", "PRCL", "NPRO", "ADVB", "PRED", "INTJ"})


def function_word(token: Token) -> bool:
    readings_ = parses(token.lower) if token.cyrillic else ()
    return bool(readings_) and bool(_FUNCTION_WORDS & readings_[0].tags)


def is_trap(token: Token, tokens: list[Token]) -> bool:
    return _trap([token], tokens)


def ordinary_word(token: Token) -> bool:
    """A known Russian word whose likeliest reading is not a name («Там», «По», «Жена»)."""
    return _ordinary_word(token)


def _ordinary_word(token: Token) -> bool:
    """A known word that no reading makes a name, or whose likeliest reading is a function word.

    «Ислам» opening a sentence stays a candidate (one reading is the name); «Там», «По» do not.
    """
    if not word_is_known(token.lower):
        return False
    readings_ = parses(token.lower)
    if readings_ and _FUNCTION_WORDS & readings_[0].tags:
        return True
    return not any({"Name", "Surn", "Patr"} & reading.tags for reading in readings_)


def _plain_word(token: Token) -> bool:
    if len(token.text) == 1:
        # «Я Идрис», «С Тимировым»: a pronoun or a preposition, unless an initial («И. Дудаев»).
        return not token.period_after
    if never_a_name(token):
        return True
    if token.cyrillic and any(_FUNCTION_WORDS & reading.tags for reading in parses(token.lower)[:1]):
        return True
    if not token.cyrillic:
        return token.lower in common_english() and not names.is_given_name(token.text)
    if not word_is_known(token.lower):
        return False
    return not any({"Name", "Surn", "Patr"} & reading.tags for reading in parses(token.lower))


def _persons_from_words(text: str, tokens: list[Token]) -> Iterator[Span]:
    """Runs of capitalised words that the lexicons or the context say are a name."""
    run: list[Token] = []
    for token in [*tokens, Token("", len(text), len(text), len(tokens), True)]:
        if run and (not _joins(text, run[-1], token) or not _name_like(token)):
            yield from _person_run(text, tokens, run)
            run = []
        if _name_like(token):
            run.append(token)


def _joins(text: str, left: Token, right: Token) -> bool:
    between = text[left.end : right.start]
    if _is_initial(left) or left.lower == "им":
        return bool(re.fullmatch(r"\.?-?[ \t]*", between))
    return not right.sentence_start and bool(re.fullmatch(r"[ \t]*", between))


def _is_initial(token: Token) -> bool:
    return len(token.text) == 1 and token.text.isupper()


def _followed_by_period(token: Token, tokens: list[Token]) -> bool:
    # «И. Дудаев» has an initial; «С Тимировым», «Я Руслан» have a preposition and a pronoun.
    return token.period_after


def _name_like(token: Token) -> bool:
    return (
        token.capitalised
        and not token.text.isdigit()
        and not readings(token) & _NOT_PERSONS
        and not never_a_name(token)
    )


def _person_run(text: str, tokens: list[Token], run: list[Token]) -> Iterator[Span]:
    """Split a run of capitalised words into the parts that are names."""
    roles = [_role(t, tokens) for t in run]
    start = 0
    while start < len(run):
        if roles[start] is None:
            start += 1
            continue
        end = start
        while end + 1 < len(run) and roles[end + 1] is not None:
            end += 1
        words, word_roles_ = _trim_run(run[start : end + 1], roles[start : end + 1])
        if words and _is_person(words, word_roles_, tokens):
            yield Span(words[0].start, words[-1].end, "PERSON", "lexicon", _roles(words))
        start = end + 1


def calendar_word(token: Token, tokens: list[Token]) -> bool:
    """A month or a day used as one: beside a number or after "in", "on", "since"..."""
    if token.lower not in _CALENDAR:
        return False
    before = tokens[token.index - 1] if token.index > 0 else None
    after = tokens[token.index + 1] if token.index + 1 < len(tokens) else None
    # "3 May", "May 20", but not a list's "1. May will..." (a number with a full stop).
    if (before and before.text.isdigit() and not before.period_after) or (after and after.text.isdigit()):
        return True
    return bool(
        before
        and before.lower
        in {"in", "on", "since", "until", "till", "by", "from", "of", "early", "late", "mid", "last", "next", "this"}
    )


_CALENDAR = frozenset(
    "january february march april may june july august september october november december monday tuesday "
    "wednesday thursday friday saturday sunday".split()
)


def _trim_run(words: list[Token], roles: list[str | None]) -> tuple[list[Token], list[str | None]]:
    """Drop a month beside a name ("6 April Beslan Gerikhanov") and a title opening a sentence."""
    strong = {"given", "surname", "patronymic"}
    while len(words) > 1 and words[0].lower in _CALENDAR and strong & set(roles[1:]):
        words, roles = words[1:], roles[1:]
    while len(words) > 1 and words[-1].lower in _CALENDAR and strong & set(roles[:-1]):
        words, roles = words[:-1], roles[:-1]
    if len(words) > 1 and words[0].sentence_start and roles[0] == "unknown" and roles[1] == "given":
        if not words[0].cyrillic:
            words, roles = words[1:], roles[1:]
    return words, roles


def _role(token: Token, tokens: list[Token]) -> str | None:
    """What a capitalised word may be in a name; None if it is not part of one."""
    if len(token.text) == 1:
        return "initial" if _followed_by_period(token, tokens) else None
    if _public_or_unit(token, tokens) or never_a_name(token):
        return None
    if token.cyrillic and token.sentence_start and _ordinary_word(token):
        return None
    if not token.cyrillic and token.lower in common_english():
        # "Islam", "May", "Mark": a name only beside another part of one.
        return "common_given" if names.is_given_name(token.text) else None
    if names.is_given_name(token.text):
        return "given"
    if names.looks_like_patronymic(token.text):
        return "patronymic"
    if names.is_known_surname(token.text) or _unknown_word_like_surname(token):
        return "surname"
    if token.cyrillic and word_is_known(token.lower):
        return _capitalised_known_word(token)
    return "unknown"


def _capitalised_known_word(token: Token) -> str | None:
    """Russian capitalises only names in mid-sentence: «Лыковой» is Лыкова there, not bast,
    and «с Седой» is Седа; such a word is a name of some kind even when no list has it."""
    if token.sentence_start:
        return None
    if names.looks_like_surname(token.text):
        return "surname"
    if names.given_lemma(token.text, guess=True):
        return "given"
    return "unknown"


def _unknown_word_like_surname(token: Token) -> bool:
    # «Один» ends like a surname but is a word the dictionary knows.
    return names.looks_like_surname(token.text) and not (token.cyrillic and word_is_known(token.lower))


def _public_or_unit(token: Token, tokens: list[Token]) -> bool:
    return bool(public_places().match_at(tokens, token.index) or units().match_at(tokens, token.index))


def _is_person(words: list[Token], roles: list[str | None], tokens: list[Token]) -> bool:
    strong = sum(role in ("given", "surname", "patronymic") for role in roles)
    weak = roles.count("common_given")
    unknown = [w for w, r in zip(words, roles, strict=True) if r == "unknown"]
    if strong == 0 and weak == 0 and not unknown:
        return False
    if len(words) == 1 and _trap(words, tokens):
        return False
    if len(words) == 1 and words[0].sentence_start and roles[0] == "surname" and not words[0].cyrillic:
        return _cued(words[0], tokens) or _verb_follows(words[0], tokens)
    initials = roles.count("initial")
    if strong or (weak and unknown) or (initials and (weak or unknown)) or _cued(words[0], tokens):
        return True
    # A Cyrillic word the dictionary does not know, capitalised (Ширвани), or any capitalised
    # Cyrillic word in mid-sentence: a name.
    if any(w.cyrillic and (not word_is_known(w.lower) or not w.sentence_start) for w in unknown):
        return True
    return _mid_sentence_latin(words, roles)


def _mid_sentence_latin(words: list[Token], roles: list[str | None]) -> bool:
    # Two or more unknown capitalised Latin words in mid-sentence: a name the lexicons lack.
    unknown = [w for w, r in zip(words, roles, strict=True) if r == "unknown"]
    return len(unknown) >= 2 and not words[0].sentence_start and not any(w.cyrillic for w in words)


def _cued(token: Token, tokens: list[Token]) -> bool:
    if token.sentence_start:
        return False
    before = tokens[max(0, token.index - 2) : token.index]
    return any(t.lower.rstrip(".") in _PERSON_CUES for t in before)


def _verb_follows(token: Token, tokens: list[Token]) -> bool:
    following = tokens[token.index + 1] if token.index + 1 < len(tokens) else None
    return bool(following and following.lower in {"said", "told", "wrote", "called", "was", "is", "has", "had"})


def _trap(words: list[Token], tokens: list[Token]) -> bool:
    """A word such as «Надежда» or «Роза» opening a sentence, where it is most often the noun."""
    if len(words) != 1 or not words[0].cyrillic or not words[0].sentence_start:
        return False
    if not word_is_known(words[0].lower):
        return False
    readings_ = parses(words[0].lower)
    if not readings_ or "Name" in readings_[0].tags or "NOUN" not in readings_[0].tags:
        return False
    if "anim" in readings_[0].tags:
        return False
    return not _past_verb_follows(words[0], tokens)


def _past_verb_follows(token: Token, tokens: list[Token]) -> bool:
    following = tokens[token.index + 1] if token.index + 1 < len(tokens) else None
    if following is None:
        return False
    return any({"VERB", "past"} <= reading.tags for reading in parses(following.lower))


def word_roles(words: list[Token]) -> tuple[tuple[str, str], ...]:
    return _roles(words)


def _roles(words: list[Token]) -> tuple[tuple[str, str], ...]:
    return tuple((w.text, _word_role(w)) for w in words)


def _word_role(token: Token) -> str:
    if len(token.text) == 1:
        return "initial" if token.period_after else "unknown"
    if not token.cyrillic and token.lower in common_english():
        return "common_given"
    if names.looks_like_patronymic(token.text) and not names.is_given_name(token.text):
        return "patronymic"
    if names.is_given_name(token.text):
        return "given"
    if names.is_known_surname(token.text) or names.looks_like_surname(token.text):
        return "surname"
    return "unknown"


__all__ = ["calendar_word", "function_word", "is_trap", "kept", "ordinary_word", "readings", "recognise", "word_roles"]

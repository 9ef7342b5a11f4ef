"""Identifiers with a shape: phones, e-mail, links, handles, car plates, document numbers, dates of birth.

Each recogniser returns spans; which one wins an overlap is decided in spans.settle (a card
number is not also a phone). The shapes are those people actually write in Russian and
English messages, with every separator and bracket they use.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

from redaction.spans import Span

# Separators inside one phone number: never a line break (a list puts one number per line).
_SEP = r"[ \t\-‐‑–—.]*"
_RU_PHONE = re.compile(
    rf"(?<![\w+])(?:(?:\+\s?7|8|7){_SEP})?(?:\(\s*\d{{3,4}}\s*\)|\d{{3}}){_SEP}\d{{3}}{_SEP}\d{{2}}{_SEP}\d{{2}}(?![\w])"
)
_LOCAL_PHONE = re.compile(r"(?<![\w\-.])\d{2,3}-\d{2}-\d{2}(?![\w\-])")
_INTERNATIONAL_PHONE = re.compile(r"(?<![\w+])(?:\+|00)[ \t]?\d{1,3}(?:[ \t\-‐–.]?\(?\d{1,5}\)?){2,6}(?![\w])")
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-zА-Яа-я]{2,}")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>«»\"']+", re.IGNORECASE)
_SITE = re.compile(
    r"(?<![\w./])(?:t\.me|telegram\.me|vk\.com|vk\.ru|wa\.me|instagram\.com|facebook\.com|fb\.com|"
    r"ok\.ru|twitter\.com|x\.com|tiktok\.com|youtube\.com|signal\.me|linkedin\.com)/[^\s<>«»\"',;)]+",
    re.IGNORECASE,
)
_AT_HANDLE = re.compile(r"(?<![\w@.])@[A-Za-z0-9_](?:[A-Za-z0-9_.]{1,30}[A-Za-z0-9_])")
_APPS = (
    r"(?:telegram|телеграм\w*|телеге|телега|whatsapp|вотсап\w*|ватсап\w*|signal|сигнал\w*|instagram|"
    r"инстаграм\w*|инсте|инста|vk|вк|вконтакте|skype|скайп\w*|viber|вайбер\w*|tiktok|тикток\w*|"
    r"username|user\s?name|nickname|nick|handle|ник\w*|логин\w*|аккаунт\w*|account|юзернейм\w*)"
)
_APP_HANDLE = re.compile(
    rf"\b{_APPS}\s*(?:[:—–-]|is|как|под\s+ником)?\s*[«\"']?(?!{_APPS}\b)(?P<h>@?[A-Za-z][A-Za-z0-9_.]{{2,31}}[A-Za-z0-9_])",
    re.IGNORECASE,
)
_PLATE_LETTERS = "АВЕКМНОРСТУХABEKMHOPCTYX"
_PLATE = re.compile(
    rf"(?<![\w])[{_PLATE_LETTERS}]\s?\d{{3}}\s?[{_PLATE_LETTERS}]{{2}}(?:\s?\|?\s?\d{{2,3}})?(?:\s?RUS)?(?![\w])",
    re.IGNORECASE,
)
_PLATE_CUE = re.compile(
    r"\b(?:госномер\w*|гос\.?\s?номер\w*|номер\w*\s+машины|номер\w*\s+автомобиля|номерами|номерной\s+знак|"
    r"licen[cs]e\s+plates?|number\s+plates?|plates?|registration)\s*(?:№|number|no\.?)?\s*[:—–-]?\s*"
    r"(?P<p>[A-ZА-ЯЁ0-9](?:[A-ZА-ЯЁ0-9 \-]{2,12})[A-ZА-ЯЁ0-9])",
    re.IGNORECASE,
)
_CARD = re.compile(r"(?<![\d\w])(?:\d{4}[\s\-]?){3}\d{4}(?:[\s\-]?\d{1,3})?(?![\d\w])")
_PASSPORT = re.compile(r"(?<![\d\w])\d{2}\s?\d{2}\s?(?:№\s?)?\d{6}(?![\d\w])")
_IBAN = re.compile(r"(?<![\w])[A-Z]{2}\d{2}(?:\s?[A-Z0-9]{4}){2,7}(?:\s?[A-Z0-9]{1,4})?(?![\w])")
_DOCUMENT_CUE = re.compile(
    r"(?:паспорт\w*|серии|серия|загранпаспорт\w*|удостоверени\w*|уголовно\w*\s+дел\w*|\bдел[оау]\b|"
    r"\bдела\b|протокол\w*|постановлени\w*|ИНН|СНИЛС|ОГРН|полис\w*|сч[её]т\w*|карт[аыуе]\w*|"
    r"passport|\bID\b|identity\s+card|case|file|record|account|card|licen[cs]e|permit|visa|виз[аыу]|"
    r"reference|\bref\b|регистрационн\w+|"
    r"номер\w*|number|№|\bNo\.|\bN\s?o\b|#)\s*(?:номер\w*|number|no\.?|№|N)?\s*[:.]?\s*"
    r"(?P<d>(?:(?-i:[A-ZА-ЯЁ]{1,4})[\s\-]?)?\d[\d\s\-/.]{3,}\d(?:[\s\-/](?-i:[A-ZА-ЯЁ]{1,4})\d*)?)",
    re.IGNORECASE,
)
_LONG_NUMBER = re.compile(r"(?<![\d\w])\d{8,}(?![\d\w])")
# Case and file numbers: digits joined by a hyphen or slash, maybe after a short code
# (45123/17, 7234561-160, UCI 1109-4567); a range of years (2017-2018) is not one.
_FILE_NUMBER = re.compile(r"(?<![\w/.\-])(?:[A-ZА-ЯЁ]{1,4}[\s\-]?)?\d{3,}(?:[\-/]\d{2,})+(?![\w/\-])")
# Codes that mix letters and digits with hyphens (412пр-17, FRA-GRZ-2018-00417): at least
# three digits, so unit names such as ППСП-2 stay.
_CODE = re.compile(r"(?<![\w\-])(?=(?:[\w\-]*\d){3})[^\W_]+(?:-[^\W_]+)+(?![\w\-])")
_YEAR_RANGE = re.compile(r"(?:19|20)\d{2}[\-/](?:19|20)?\d{2}")
_FOREIGN_PLATE = re.compile(r"(?<![\w\-])(?:[A-ZÄÖÜ]{1,3}-[A-Z]{1,2}\s?\d{1,4}[EH]?|[A-Z]{2}-\d{3}-[A-Z]{2})(?![\w\-])")
_MONTHS_RU = (
    r"(?:январ[ья]|феврал[ья]|марта?|апрел[ья]|ма[яй]|июн[ья]|июл[ья]|августа?|сентябр[ья]|октябр[ья]|"
    r"ноябр[ья]|декабр[ья])"
)
_MONTHS_EN = (
    r"(?:January|February|March|April|May|June|July|August|September|October|November|December|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)\.?"
)
_DATE = (
    rf"(?:\d{{1,2}}[./\-]\d{{1,2}}[./\-](?:\d{{4}}|\d{{2}})|\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[./][IVX]{{1,4}}[./]\d{{4}}|"
    rf"\d{{1,2}}\s+{_MONTHS_RU}\s+\d{{4}}(?:\s*(?:года|г\.?))?|"
    rf"\d{{1,2}}(?:st|nd|rd|th)?\s+(?:of\s+)?{_MONTHS_EN},?\s+\d{{4}}|{_MONTHS_EN}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|"
    rf"(?:{_MONTHS_RU}|{_MONTHS_EN})\s+\d{{4}}(?:\s*(?:года|г\.?))?|\d{{4}}(?:\s*(?:года|г\.?))?)"
)
_DOB_CUE = re.compile(
    rf"(?:родил(?:ся|ась|ись)|рожд[её]нн?(?:ый|ая|ого|ой)?|рождения|рожд\.|д\.\s?р\.|др\b|born(?:\s+(?:on|in))?|"
    rf"date\s+of\s+birth|birth\s*date|birthday|DOB|d\.o\.b\.|\bb\.)\s*[:\-–—]?\s*(?:в|on|in)?\s*(?P<d>{_DATE})",
    re.IGNORECASE,
)
_YEAR_OF_BIRTH = re.compile(
    rf"(?<![\d.])(?P<d>{_DATE}|\d{{2}}(?:\s*-?(?:го|года|г\.))?)\s*(?:г\.?\s?р\.?|рождения|г\.\s*рождения|гр\.|year\s+of\s+birth)",
    re.IGNORECASE,
)
_PASSPORT_PARTS = re.compile(
    r"(?:серия|серии)\s*(?P<s>\d{2}\s?\d{2})\s*(?:,\s*)?(?:№|номер|н\.)\s*(?P<n>\d{6})", re.IGNORECASE
)
_AGE_BORN = re.compile(r"\((?:b\.|р\.)\s*(?P<d>(?:19|20)\d{2})\)", re.IGNORECASE)


def _whole(pattern: re.Pattern[str], label: str, source: str) -> Callable[[str], Iterator[Span]]:
    def find(text: str) -> Iterator[Span]:
        for match in pattern.finditer(text):
            yield Span(match.start(), match.end(), label, source)

    return find


def _group(pattern: re.Pattern[str], group: str, label: str, source: str) -> Callable[[str], Iterator[Span]]:
    def find(text: str) -> Iterator[Span]:
        for match in pattern.finditer(text):
            start, end = match.span(group)
            value = text[start:end].rstrip(" -.")
            yield Span(start, start + len(value), label, source)

    return find


def _digits(span: Span, text: str) -> int:
    return sum(ch.isdigit() for ch in span.text(text))


def phones(text: str) -> Iterator[Span]:
    for pattern in (_RU_PHONE, _INTERNATIONAL_PHONE, _LOCAL_PHONE):
        for match in pattern.finditer(text):
            span = Span(match.start(), match.end(), "PHONE", "phone")
            if 7 <= _digits(span, text) <= 15:
                yield span


def links(text: str) -> Iterator[Span]:
    for pattern in (_URL, _SITE):
        for match in pattern.finditer(text):
            end = match.end()
            while end > match.start() and text[end - 1] in ".,;:!?)»":
                end -= 1
            yield Span(match.start(), end, "LINK", "link")


def plates(text: str) -> Iterator[Span]:
    for match in _PLATE.finditer(text):
        letters = [ch for ch in match.group() if ch.isalpha() and ch not in "RUSrus"]
        # A plate is written in capitals, or all in lowercase; "в123ор" inside a word is not one.
        if all(ch.isupper() for ch in letters) or all(ch.islower() for ch in letters):
            yield Span(match.start(), match.end(), "PLATE", "plate")
    yield from _group(_PLATE_CUE, "p", "PLATE", "plate")(text)
    yield from _whole(_FOREIGN_PLATE, "PLATE", "plate")(text)


def documents(text: str) -> Iterator[Span]:
    yield from _whole(_CARD, "DOCUMENT", "card")(text)
    yield from _whole(_PASSPORT, "DOCUMENT", "passport")(text)
    yield from _whole(_IBAN, "DOCUMENT", "account")(text)
    for match in _PASSPORT_PARTS.finditer(text):
        yield Span(match.start("s"), match.end("n"), "DOCUMENT", "account")
    yield from _whole(_LONG_NUMBER, "DOCUMENT", "number")(text)
    for match in _CODE.finditer(text):
        if not _YEAR_RANGE.fullmatch(match.group()) and re.search(r"[^\W\d_]", match.group()):
            yield Span(match.start(), match.end(), "DOCUMENT", "number")
    for match in _FILE_NUMBER.finditer(text):
        if not _YEAR_RANGE.fullmatch(match.group()):
            yield Span(match.start(), match.end(), "DOCUMENT", "number")
    for span in _group(_DOCUMENT_CUE, "d", "DOCUMENT", "document")(text):
        if _digits(span, text) >= 4:
            yield span


def app_handles(text: str) -> Iterator[Span]:
    """A username after the app's name: with a digit, "_", "." or "@", or after a colon."""
    for match in _APP_HANDLE.finditer(text):
        handle = match.group("h").rstrip(".")
        between = text[match.start() : match.start("h")]
        if re.search(r"[\d_.@]", handle) or ":" in between or "ником" in between:
            yield Span(match.start("h"), match.start("h") + len(handle), "HANDLE", "handle")


def births(text: str) -> Iterator[Span]:
    yield from _group(_DOB_CUE, "d", "DOB", "birth")(text)
    for match in _YEAR_OF_BIRTH.finditer(text):
        yield Span(match.start(), match.end(), "DOB", "birth")
    yield from _group(_AGE_BORN, "d", "DOB", "birth")(text)


RECOGNISERS: tuple[Callable[[str], Iterator[Span]], ...] = (
    phones,
    links,
    _whole(_EMAIL, "EMAIL", "email"),
    _whole(_AT_HANDLE, "HANDLE", "handle"),
    app_handles,
    plates,
    documents,
    births,
)


def shaped(text: str) -> list[Span]:
    return [span for recogniser in RECOGNISERS for span in recogniser(text)]


_FULL_DATE = re.compile(
    r"(?<![\d.])(?P<d>\d{1,2}[./]\d{1,2}[./](?:19[2-9]\d|20[01]\d)|(?:19[2-9]\d|20[01]\d)-\d{2}-\d{2})(?![\d.])"
)
BESIDE_A_NAME = 40


def dates_beside_names(text: str, persons: list[Span]) -> list[Span]:
    """A full date right after a person's name on the same line is their date of birth, as in
    lists and forms («ДУДАЕВ Ислам, 12.03.1994»); an event date rarely sits there."""
    found = []
    for match in _FULL_DATE.finditer(text):
        before = [p for p in persons if p.end <= match.start() and match.start() - p.end <= BESIDE_A_NAME]
        if before and "\n" not in text[before[-1].end : match.start()]:
            found.append(Span(match.start(), match.end(), "DOB", "birth"))
    return found

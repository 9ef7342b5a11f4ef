"""Texts the system itself writes into conversations, in the person's language.

The cover conversation shown after a danger-word login must look like an ordinary, harmless
exchange with an information desk, with the same shape as a real one: a first message, then
the same automatic acknowledgement every real conversation starts with.

Its first message is the person's own words when they wrote one at intake. Otherwise it is
put together here from natural parts (a greeting, a way of asking, an everyday question, a
closing), each drawn with ``secrets``: thousands of openings per language, so a captor who
knows this software cannot recognise one as the software's. None of the parts says anything
about the writer (no gendered Russian forms, no time of day, no place).
"""

from __future__ import annotations

import itertools
import secrets
from collections.abc import Iterator
from dataclasses import dataclass

ACKNOWLEDGEMENT = {
    "ru": "Мы получили ваше сообщение. Ответим здесь, как только сможем. Заходите проверить ответ.",
    "en": "We have received your message. We will answer here as soon as we can. Come back to check for a reply.",
}


@dataclass(frozen=True)
class _OpeningParts:
    greetings: tuple[str, ...]  # a sentence of its own, or "" for none
    asks: tuple[str, ...]  # starts the question; the topic follows after a space
    topics: tuple[str, ...]  # an indirect question, without its question mark
    closings: tuple[str, ...]  # a sentence of its own, or "" for none


_OPENINGS = {
    "ru": _OpeningParts(
        greetings=(
            "",
            "Здравствуйте.",
            "Здравствуйте!",
            "Добрый день.",
            "Добрый день!",
            "Приветствую.",
            "Здравствуйте, извините за беспокойство.",
            "Добрый день, у меня вопрос.",
            "Доброго дня!",
        ),
        asks=(
            "Подскажите, пожалуйста,",
            "Скажите, пожалуйста,",
            "Не подскажете,",
            "Можно узнать,",
            "Подскажите,",
            "Не могли бы вы подсказать,",
            "Хочу уточнить,",
        ),
        topics=(
            "как записаться на бесплатную консультацию юриста",
            "где можно получить справку о составе семьи",
            "какие документы нужны для оформления детского пособия",
            "как пересчитать пенсию, если в стаже был перерыв",
            "куда обращаться, если управляющая компания не делает ремонт в подъезде",
            "можно ли подать заявление на субсидию по оплате жилья через интернет",
            "как вернуть переплату за коммунальные услуги",
            "сколько времени занимает замена паспорта",
            "где узнать часы приёма врачей в районной поликлинике",
            "как оформить налоговый вычет за лечение",
            "нужно ли платить налог при продаже старой машины",
            "как написать жалобу на шум от соседей",
            "что делать, если работодатель задерживает зарплату",
            "как получить копию трудовой книжки",
            "куда жаловаться, если в квартире нет горячей воды",
            "как записать ребёнка в детский сад",
            "какие нужны документы, чтобы прописать родственника",
            "как восстановить утерянный полис ОМС",
            "можно ли у вас получить консультацию по вопросу наследства",
            "где бесплатно проконсультироваться по кредиту",
            "как оспорить штраф за парковку",
            "как узнать, положена ли мне льгота на проезд",
            "к кому обратиться по поводу перерасчёта за отопление",
            "как вернуть товар, если магазин отказывается его принимать",
            "как расторгнуть договор с интернет-провайдером",
            "как составить завещание и сколько это стоит",
            "как заменить водительские права",
            "куда обращаться по поводу перерасчёта пенсии",
            "как получить выписку из домовой книги",
            "принимаете ли вы без предварительной записи",
            "работаете ли вы по субботам",
            "как оформить пособие по безработице",
            "как встать на учёт в центре занятости",
            "что делать, если соседи сверху затопили квартиру",
            "как получить компенсацию за задержку рейса",
            "можно ли вернуть деньги за неиспользованную путёвку",
            "как подтвердить учётную запись на Госуслугах",
        ),
        closings=("", "Спасибо.", "Заранее спасибо.", "Спасибо заранее!", "Спасибо за ответ.", "Буду ждать ответа."),
    ),
    "en": _OpeningParts(
        greetings=(
            "",
            "Hello.",
            "Hello!",
            "Hi.",
            "Hi there.",
            "Hello, sorry to bother you.",
            "Hi, I have a quick question.",
            "Hello, I have a question.",
        ),
        asks=(
            "Could you tell me",
            "Can you tell me",
            "Could you please tell me",
            "Would you be able to tell me",
            "May I ask",
            "Can you let me know",
            "Could you let me know",
        ),
        topics=(
            "how I can book a free consultation with a lawyer",
            "where I can get proof of my address",
            "which documents I need to apply for child benefit",
            "how to get my pension recalculated after a break in work",
            "who to contact if the building management does not repair the stairwell",
            "whether I can apply for help with my rent online",
            "how to get back an overpayment on my utility bills",
            "how long it takes to replace a passport",
            "where to find the opening hours of the local clinic",
            "how to claim a tax refund for medical costs",
            "whether I have to pay tax when I sell an old car",
            "how to write a complaint about noisy neighbours",
            "what to do if my employer is late paying my wages",
            "how to get a copy of my employment record",
            "who to complain to if there is no hot water in my flat",
            "how to register a child for nursery",
            "which documents I need to register a relative at my address",
            "how to replace a lost health insurance card",
            "whether you can advise on an inheritance question",
            "where I can get free advice about a loan",
            "how to appeal a parking fine",
            "whether I am entitled to a travel discount",
            "who to ask about a heating bill that seems too high",
            "how to return something if the shop refuses to take it back",
            "how to cancel a contract with an internet provider",
            "how to make a will and how much it costs",
            "how to renew a driving licence",
            "where to ask about having my pension recalculated",
            "how to apply for unemployment benefit",
            "how to register at the job centre",
            "what to do if the neighbours upstairs have flooded my flat",
            "how to get compensation for a delayed flight",
            "whether I can get my money back for a holiday I did not take",
            "whether you see people without an appointment",
            "whether you are open on Saturdays",
            "how to verify my account on the government services website",
        ),
        closings=("", "Thank you.", "Thanks in advance.", "Many thanks.", "Thank you for your time.", "Kind regards."),
    ),
}


def acknowledgement(language: str) -> str:
    return ACKNOWLEDGEMENT.get(language, ACKNOWLEDGEMENT["ru"])


def _parts(language: str) -> _OpeningParts:
    return _OPENINGS.get(language, _OPENINGS["ru"])


def _assemble(greeting: str, ask: str, topic: str, closing: str) -> str:
    question = f"{ask} {topic}?"
    return " ".join(sentence for sentence in (greeting, question, closing) if sentence)


def decoy_opening(language: str) -> str:
    """A first message for the cover conversation, each part drawn with ``secrets``."""
    parts = _parts(language)
    return _assemble(
        secrets.choice(parts.greetings),
        secrets.choice(parts.asks),
        secrets.choice(parts.topics),
        secrets.choice(parts.closings),
    )


def decoy_openings(language: str) -> Iterator[str]:
    """Every opening decoy_opening can write in ``language`` (for tests and benchmarks)."""
    parts = _parts(language)
    for greeting, ask, topic, closing in itertools.product(parts.greetings, parts.asks, parts.topics, parts.closings):
        yield _assemble(greeting, ask, topic, closing)


def decoy_opening_count(language: str) -> int:
    parts = _parts(language)
    return len(parts.greetings) * len(parts.asks) * len(parts.topics) * len(parts.closings)

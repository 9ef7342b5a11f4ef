"""Texts the system itself writes into conversations, in the person's language.

The decoy conversation shown after a duress login must look like an ordinary, harmless
exchange with a help desk, with the same shape as a real one: a question, then the same
automatic acknowledgement every real conversation starts with.
"""

from __future__ import annotations

import secrets

ACKNOWLEDGEMENT = {
    "ru": "Мы получили ваше сообщение. Ответим здесь, как только сможем. Заходите проверить ответ.",
    "en": "We have received your message. We will answer here as soon as we can. Come back to check for a reply.",
}

DECOY_QUESTIONS = {
    "ru": [
        "Здравствуйте. Подскажите, пожалуйста, как получить бесплатную консультацию юриста по жилищному вопросу?",
        "Добрый день. Где можно узнать, какие документы нужны для оформления пособия?",
        "Здравствуйте. Помогаете ли вы с составлением жалобы на управляющую компанию?",
    ],
    "en": [
        "Hello. Could you tell me how to get a free consultation with a lawyer about a housing question?",
        "Good afternoon. Where can I find out which documents I need to apply for a benefit?",
        "Hello. Do you help with writing a complaint to a building management company?",
    ],
}


def acknowledgement(language: str) -> str:
    return ACKNOWLEDGEMENT.get(language, ACKNOWLEDGEMENT["ru"])


def decoy_question(language: str) -> str:
    return secrets.choice(DECOY_QUESTIONS.get(language, DECOY_QUESTIONS["ru"]))

"""Citizen-facing texts that cannot live in domain.yml, in one place.

The assistant's answers are responses in domain.yml. These are the few
messages sent where no response can be uttered: by a channel before a
message reaches Rasa (a photo, an edited message), by the production guard
(size and rate limits), by the degradation hook when an action fails, by the
operator handoff while the bot is paused, and by the phone dialogue itself.
Telegram, VK, the guards, the handoff and the phone all import them from
here, so a citizen reads the same words in every channel, and the
allow-list test (tests/test_answers_allowlist.py) checks them with the
responses: no hours, durations, numbers or addresses that neither the
article nor a deployment setting gives.

The assistant speaks of itself without gendered past forms («не удалось
понять», not «я не понял»): the phone voice may be male or female.
"""
from __future__ import annotations

from typing import Iterable, List

# --- text channels (Telegram, VK): what the channel answers by itself -----------

NOT_TEXT = ("Я понимаю только текстовые сообщения. Напишите, пожалуйста, вопрос словами — "
            "например: «Как узнать статус заявления?»")
VOICE_MESSAGE = ("Голосовые сообщения и видео я не распознаю. Напишите, пожалуйста, вопрос текстом — "
                 "например: «Как узнать статус заявления?»")
LOCATION = ("Геопозицию я не обрабатываю. Напишите, пожалуйста, вопрос текстом; если нужен адрес "
            "или город, укажите его словами.")
CONTACT = "Контакты присылать не нужно: я их не сохраняю. Напишите, пожалуйста, вопрос текстом."
CAPTION = "Вложения я не просматриваю, но отвечу на подпись к ним."
EDITED = "Исправленные сообщения до меня не доходят. Отправьте, пожалуйста, исправленный вопрос новым сообщением."
STALE_BUTTON = "Эта кнопка устарела. Выберите тему заново или напишите вопрос текстом."
FAILURE = "Извините, сейчас ответить не получается. Повторите, пожалуйста, вопрос чуть позже."
CHOOSE = "Выберите вариант:"
MORE_CHOICES = "Ещё варианты:"

# --- production guard and degradation hook (hotline/prod_channels.py, rasa_hooks.py) ---

RATE_LIMITED = "Вы отправляете сообщения слишком часто. Подождите немного и напишите снова."
# {limit}: the deployment's HOTLINE_MAX_CHARS.
TOO_LONG = ("Сообщение слишком длинное: я читаю не больше {limit} символов. "
            "Опишите вопрос короче или разделите его на несколько сообщений.")
ERROR = "Извините, из‑за технического сбоя сообщение не обработано. Повторите его, пожалуйста, чуть позже."
DEGRADED = ("Извините, эта функция сейчас недоступна из‑за технического сбоя. Попробуйте, пожалуйста, "
            "позже. На общие вопросы об услугах, регистрации и работе портала я могу ответить и сейчас.")
# {phone}: the deployment's HOTLINE_PHONE. Never added on the phone channel:
# the caller is already on the line.
DEGRADED_PHONE = " Если вопрос срочный, обратитесь по телефону горячей линии {phone}."

# --- operator handoff while the bot is paused (handoff/texts.py) -------------------

RETURN_HINT = "Чтобы вернуться к боту, напишите «вернуться к боту»."


def operator_joined(name: str) -> str:
    return f"К разговору подключился оператор {name}. Оператору видна ваша переписка с ботом. {RETURN_HINT}"


def waiting_ack(position: int, wait: str) -> str:
    """`wait` in the genitive after «около»: «5 минут» (handoff.wait.wait_words)."""
    return (f"Ваше сообщение получено, оператор его увидит. Вы {position}‑й в очереди, "
            f"ожидание — около {wait}. {RETURN_HINT}")


def wait_grew(position: int, wait: str) -> str:
    """`wait` in the accusative after «через»: «25 минут»."""
    return (f"Извините, ожидание увеличилось: вы {position}‑й в очереди, оператор ответит примерно через "
            f"{wait}. {RETURN_HINT}")


# --- the phone dialogue (voice/prompts.py) ---------------------------------------
# Keys that exist on the phone (voice/dtmf.py): 1–5 the menu, 9 repeat, 0 operator,
# # ends a number, * clears it.

# Said whatever is asked: while a number is typed «9» would be a digit, «0» alone still means the operator.
PHONE_REPROMPT = "Вас не слышно. Скажите, чем помочь, или нажмите ноль для связи с оператором."
PHONE_SILENCE_GOODBYE = "Вас по‑прежнему не слышно. Завершаю звонок. До свидания."
PHONE_REPEAT = "Извините, не удалось расслышать. Повторите, пожалуйста."
PHONE_OFFER_KEYPAD = ("Не получается разобрать. Номер заявления или дату рождения можно набрать на клавиатуре "
                      "и нажать решётку. Оператор — ноль.")
PHONE_TRANSFER = "Соединяю с оператором."
PHONE_UNAVAILABLE = "Извините, сервис временно недоступен."
PHONE_OPTIONS = "Можно выбрать: {options}."

# Every line of the assistant is taken (VOICE_MAX_CALLS): said, then the call ends.
# Over the call cap: the caller is on the line already, so no "call again";
# the article names the online chat as the round-the-clock alternative.
PHONE_BUSY = ("Здравствуйте! Сейчас все линии заняты, и принять звонок не получается. "
              "Задать вопрос можно в онлайн‑чате на портале Госуслуг: он работает круглосуточно. До свидания.")

PHONE_FIXED = [PHONE_REPROMPT, PHONE_SILENCE_GOODBYE, PHONE_REPEAT, PHONE_OFFER_KEYPAD, PHONE_TRANSFER,
               PHONE_UNAVAILABLE, PHONE_BUSY]


def spoken_options(titles: Iterable[str]) -> str:
    """Button titles read as a choice: «Можно выбрать: да или нет.»"""
    items: List[str] = [t.strip() for t in titles if t and t.strip()]
    if not items:
        return ""
    listed = ", ".join(items[:-1]) + (" или " if len(items) > 1 else "") + items[-1]
    return PHONE_OPTIONS.format(options=listed)


def all_texts() -> List[str]:
    """Every text above, values left as {placeholders}: what the answer tests read."""
    fixed = [value for name, value in globals().items()
             if name.isupper() and isinstance(value, str) and not name.startswith("_")]
    return fixed + [operator_joined("{name}"), waiting_ack("{position}", "{wait}"),  # type: ignore[arg-type]
                    wait_grew("{position}", "{wait}"), spoken_options(["{option}", "{option}"])]  # type: ignore[arg-type]

"""What the phone dialogue says by itself (not the assistant's answers).

Short, fixed sentences: the synthesiser warms them at start-up, so they
cost no synthesis time during a call.
"""
REPROMPT = "Вас не слышно. Скажите, чем помочь, или нажмите ноль для связи с оператором."
SILENCE_GOODBYE = "Вас по-прежнему не слышно. Перезвоните, пожалуйста. До свидания."
REPEAT = "Извините, я не расслышал. Повторите, пожалуйста."
OFFER_KEYPAD = ("Не получается разобрать. Номер заявления или дату рождения можно набрать на клавиатуре телефона "
                "и нажать решётку. Чтобы поговорить с оператором, нажмите ноль.")
TRANSFER = "Соединяю с оператором."
UNAVAILABLE = "Извините, сервис временно недоступен."
OPTIONS = "Можно выбрать: {options}."

ALL = [REPROMPT, SILENCE_GOODBYE, REPEAT, OFFER_KEYPAD, TRANSFER, UNAVAILABLE]


def spoken_options(titles):
    titles = [t.strip() for t in titles if t and t.strip()]
    if not titles:
        return ""
    listed = ", ".join(titles[:-1]) + (" или " if len(titles) > 1 else "") + titles[-1]
    return OPTIONS.format(options=listed)


def reply_texts(reply):
    """What to say for an assistant's reply: its texts, then its buttons as spoken options."""
    texts = list(reply.texts)
    options = spoken_options([b.get("title", "") for b in reply.buttons])
    return texts + [options] if options else texts

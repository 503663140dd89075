"""The scripted conversation every messenger channel must answer as REST does:
a greeting, an FAQ, a button press, a service question. Each step is
("text", what the citizen writes) or ("button", the payload of a button)."""

SAME_ANSWERS_SCRIPT = [
    ("text", "здравствуйте"),
    ("text", "по какому номеру звонить на горячую линию"),
    ("button", "/ask_service_info"),
    ("text", "какие документы нужны для загранпаспорта"),
]

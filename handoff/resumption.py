"""When the bot takes a conversation back from the operators, and what it
says then: one set of rules for both ways back — the console's worker after
an operator closed the ticket (handoff.service triggers return_to_bot) and
the citizen asking to return (actions.handoff, action_handoff_resume)."""
from __future__ import annotations

import datetime as dt
from handoff.repository.values import TicketView

# A closed ticket still gets its «the operator has finished» answer (and the
# rating question) this long after closing; later the bot just says it is back.
RESUME_WINDOW = dt.timedelta(hours=1)


def operator_talked(ticket: TicketView) -> bool:
    """Whether an operator had the conversation: only then is a rating asked for."""
    return ticket.assigned_at is not None


def still_to_resume(ticket: TicketView, now: dt.datetime) -> bool:
    """A closed ticket the bot has not yet resumed after, closed within the window."""
    return (ticket.resumed_at is None and ticket.closed_at is not None
            and now - ticket.closed_at <= RESUME_WINDOW)


def resume_response(ticket: TicketView) -> str:
    """The bot's first words after the ticket: thanks and a rating question when
    an operator talked, else that the citizen left the queue."""
    if not operator_talked(ticket):
        return "utter_handoff_returned"
    if ticket.closed_by == "operator":
        return "utter_handoff_closed_rate"
    return "utter_handoff_left_rate"


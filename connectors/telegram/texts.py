"""Which of the shared channel texts (hotline/texts.py) answers which
Telegram message. Everything else comes from the domain's responses, so the
assistant answers the same in every channel."""

from hotline.texts import (  # noqa: F401 - the channel's names for the shared texts
    CAPTION,
    CHOOSE as EMPTY_WITH_BUTTONS,
    CONTACT,
    EDITED,
    FAILURE,
    LOCATION,
    NOT_TEXT,
    STALE_BUTTON,
    VOICE_MESSAGE as VOICE,
)

# Message fields of user content the assistant cannot read yet.
_BY_KIND = {
    "voice": VOICE, "video_note": VOICE, "audio": VOICE, "video": VOICE,
    "location": LOCATION, "venue": LOCATION,
    "contact": CONTACT,
}

# Service messages (members joined, title changed, …): no answer at all.
SERVICE_FIELDS = frozenset({
    "new_chat_members", "left_chat_member", "new_chat_title", "new_chat_photo", "delete_chat_photo",
    "group_chat_created", "supergroup_chat_created", "channel_chat_created", "migrate_to_chat_id",
    "migrate_from_chat_id", "pinned_message", "message_auto_delete_timer_changed",
    "proximity_alert_triggered", "video_chat_scheduled", "video_chat_started", "video_chat_ended",
    "video_chat_participants_invited", "voice_chat_scheduled", "voice_chat_started",
    "voice_chat_ended", "voice_chat_participants_invited", "forum_topic_created",
    "forum_topic_closed", "forum_topic_reopened", "forum_topic_edited", "write_access_allowed",
    "successful_payment", "connected_website", "chat_shared", "user_shared", "users_shared",
})


def not_text_reply(message: dict) -> str:
    for kind, text in _BY_KIND.items():
        if kind in message:
            return text
    return NOT_TEXT

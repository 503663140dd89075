"""MAX messenger channel of the hotline assistant (see docs/channels/max.md).

channel.MaxInput is registered in credentials.yml; polling runs long polling
for hosts without a public HTTPS address; channel.send_text_to sends a
message from outside a request (operator handoff).
"""

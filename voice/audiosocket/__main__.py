"""``python -m voice.audiosocket``: the phone process (voice/audiosocket/service.py)."""
from voice.audiosocket.service import main

main()

"""`python -m actions.store ...`; the code lives in cli.py because the action
server imports every module of the actions package."""
import sys

from actions.store.cli import main

if __name__ == "__main__":
    sys.exit(main())

"""`python -m hotline.status ...` (init, import, load-demo); see cli.py."""
import sys

from hotline.status.cli import main

if __name__ == "__main__":
    sys.exit(main())

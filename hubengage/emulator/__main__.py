"""``python -m hubengage.emulator``."""

import sys

from ._cli import main

sys.exit(main())

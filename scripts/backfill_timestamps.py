"""The timestamp backfill, as `convostore migrate backfill-timestamps` (README, "Migrations").

    python scripts/backfill_timestamps.py [--dry-run]
"""

import sys

from convostore.cli import app

if __name__ == "__main__":
    app(["migrate", "backfill-timestamps", *sys.argv[1:]], prog_name="backfill_timestamps.py")

"""Index migrations, as `convostore indexes plan|apply` (see README, "Migrations").

    python scripts/migrate_indexes.py plan [--json]
    python scripts/migrate_indexes.py apply [--drop-extra]
"""

import sys

from convostore.cli import app

if __name__ == "__main__":
    app(["indexes", *sys.argv[1:]], prog_name="migrate_indexes.py")

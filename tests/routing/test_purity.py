"""The planners and the renderer stay pure: no database, no Flask, no gevent (DESIGN boundary 1)."""

from __future__ import annotations

import subprocess
import sys

PURE = [
    "fsctl.numbering",
    "fsctl.routing.calls",
    "fsctl.routing.destinations",
    "fsctl.routing.schedules",
    "fsctl.routing.snapshot",
    "fsctl.routing.plan",
    "fsctl.routing.validate",
    "fsctl.xml.dialplan",
    "fsctl.routing.hold",
    "fsctl.routing.transfer",
]


def test_pure_modules_import_no_database_flask_or_gevent():
    code = (
        "import sys\n"
        f"for name in {PURE!r}: __import__(name)\n"
        "from fsctl.numbering import default_plan; default_plan()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('sqlalchemy', 'flask', 'gevent', 'psycopg'))\n"
        "print(','.join(bad))\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == ""

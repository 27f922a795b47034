"""How a project's daemon process begins: ``python -c LAUNCH ROOT IDLE_SECONDS``, detached
(its own session, so a terminal's Ctrl-C is not its), its output appended to
``.apipack/daemon.log``. Used by ``apipack daemon start`` (``control``), which then waits for
it, and by a command that ran in its own process (``client.start_for_next``), which does not.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from ..base.lookup import STATE_DIR
from . import record

# the first entry of ``sys.path`` (the folder ``-c`` runs in) is dropped: a served command
# chdirs into the user's folders, whose files must not shadow modules
LAUNCH = (
    "import sys\n"
    "if not getattr(sys.flags, 'safe_path', False): del sys.path[0]\n"
    "from apipack_build._serve import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
LOG_LIMIT = 1 << 20  # bytes of ``daemon.log`` kept across daemons


def launch(root: Path, idle_minutes: float) -> subprocess.Popen[bytes]:
    """Start *root*'s daemon detached, without waiting for it; its output goes to the log in
    the state folder, which must exist. Of two launched at once, one serves and the other
    leaves at once (``_serve.main``)."""
    log_file = root / STATE_DIR / record.LOG_FILE
    try:  # each daemon appends (two may start at once); a long log starts afresh
        mode = "wb" if log_file.stat().st_size > LOG_LIMIT else "ab"
    except OSError:
        mode = "wb"
    with open(log_file, mode) as log:
        return subprocess.Popen(
            [sys.executable, "-c", LAUNCH, str(root), str(idle_minutes * 60)],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

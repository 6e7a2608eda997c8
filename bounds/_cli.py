"""What both command-line interfaces (``python -m bounds``, ``python -m certify``) share."""

from __future__ import annotations

import os
import sys


def run(main) -> None:
    """Exit with ``main()``'s status; a reader that closes the pipe early (``| head``) ends the
    program quietly with the shell's status for SIGPIPE, 141, instead of a traceback."""
    try:
        status = main()
        sys.stdout.flush()
    except BrokenPipeError:
        # Python would flush stdout again at exit and complain: point it at /dev/null first
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        status = 141
    sys.exit(status)

"""Browser processes the engines start: started with their output read, always stopped."""

from __future__ import annotations

import logging
import queue
import re
import subprocess
import threading

logger = logging.getLogger(__name__)
STOP_SECONDS = 10


class Started:
    """A program whose output (stdout and stderr together) is read as it comes, so that
    a start-up line can be waited for and the pipe never fills up."""

    def __init__(
        self, command: list[str], env: dict[str, str] | None = None, pass_fds: tuple = ()
    ) -> None:
        self.command = command
        self.process = subprocess.Popen(
            command,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            errors="replace",
            pass_fds=pass_fds,
            start_new_session=True,  # its children are stopped with it
        )
        self.lines: queue.Queue[str | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            logger.debug("%s: %s", self.command[0], line.rstrip())
            self.lines.put(line)
        self.lines.put(None)

    def wait_for_line(self, pattern: str, seconds: float = 30) -> re.Match:
        """The first line of output that matches; an error if it exits or is silent first."""
        said = []
        while True:
            try:
                line = self.lines.get(timeout=seconds)
            except queue.Empty:
                line = None
            if line is None:
                self.stop()
                raise RuntimeError(
                    f"{self.command[0]} did not start: {''.join(said[-5:]).strip() or 'no output'}"
                )
            said.append(line)
            if found := re.search(pattern, line):
                return found

    def stop(self) -> None:
        """End the program and every process it started, gently first."""
        if self.process.poll() is None:
            import os
            import signal

            try:
                os.killpg(self.process.pid, signal.SIGTERM)
                self.process.wait(STOP_SECONDS)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(STOP_SECONDS)
            except ProcessLookupError:
                pass

"""A progress line for terminals: tqdm when installed, a plain one-line counter otherwise, and
nothing at all when stderr is not a terminal (so piped output stays clean)."""
from __future__ import annotations

import sys


class Progress:
    def __init__(self, stream=None, enabled: bool | None = None):
        self.stream = stream or sys.stderr
        self.enabled = self.stream.isatty() if enabled is None else enabled
        self._bar = None
        self._total = 0
        self._done = 0

    def start(self, total: int) -> None:
        self._total, self._done = total, 0
        if not self.enabled:
            return
        try:
            from tqdm import tqdm

            self._bar = tqdm(total=total, file=self.stream, leave=False, unit="row")
        except ImportError:
            self._bar = None

    def update(self, label: str) -> None:
        """Called as each row starts."""
        if not self.enabled:
            return
        if self._bar is not None:
            if self._done:
                self._bar.update(1)
            self._bar.set_description_str(label[:40])
        else:
            self.stream.write(f"\r[{self._done + 1}/{self._total}] {label[:60]:<60}")
            self.stream.flush()
        self._done += 1

    def close(self) -> None:
        if not self.enabled:
            return
        if self._bar is not None:
            self._bar.close()
        else:
            self.stream.write("\r" + " " * 80 + "\r")
            self.stream.flush()

"""Rows parked on disk between the two passes of an import (check everything, then write).

The first pass parses and checks every row; the second writes them in batches. Keeping the parsed
rows in memory would grow with the file, parsing the file twice would cost twice, so the rows go
to a temporary file in batches of plain tuples (``marshal``: fast, and the file never leaves the
process). Values must be what ``marshal`` can write (no ``Decimal`` or dates: the caller encodes).
"""

from __future__ import annotations

import marshal
import tempfile
from collections.abc import Iterator


class RowSpool:
    def __init__(self, batch_size: int) -> None:
        self.batch_size = batch_size
        self.file = tempfile.TemporaryFile()  # noqa: SIM115 - closed by close()
        self.pending: list[tuple] = []
        self.count = 0

    def add(self, row: tuple) -> None:
        self.pending.append(row)
        self.count += 1
        if len(self.pending) >= self.batch_size:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            marshal.dump(self.pending, self.file)
            self.pending = []

    def batches(self) -> Iterator[list[tuple]]:
        """Every row added, in order, in batches of at most ``batch_size``."""
        self._flush()
        self.file.seek(0)
        while True:
            try:
                yield marshal.load(self.file)
            except EOFError:
                return

    def close(self) -> None:
        self.file.close()

"""The row spool of the imports: every row back, in order, in batches of the chosen size."""

import pytest

from sim.core.spool import RowSpool


@pytest.mark.parametrize("rows", [0, 1, 3, 4, 10])
def test_rows_come_back_in_order_in_batches(rows):
    spool = RowSpool(batch_size=3)
    for n in range(rows):
        spool.add((n, f"rad {n}", {"x": str(n)}))
    batches = list(spool.batches())
    assert spool.count == rows
    assert [len(b) for b in batches] == [3] * (rows // 3) + ([rows % 3] if rows % 3 else [])
    assert [row for batch in batches for row in batch] == [(n, f"rad {n}", {"x": str(n)}) for n in range(rows)]
    assert list(spool.batches()) == batches  # read again from the start
    spool.close()
    assert spool.file.closed

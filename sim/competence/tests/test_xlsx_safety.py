"""The demand workbook writes concept labels (which come from imported taxonomy files) as text."""

import datetime as dt
import io
import types

from openpyxl import load_workbook

from sim.competence import rules
from sim.competence.xlsx import report_workbook


def test_a_label_starting_like_a_formula_is_text_not_a_formula():
    label = '=HYPERLINK("http://example.invalid","x")'
    figure = rules.Figure(people=8, needs=4, companies=4, points=16)
    row = types.SimpleNamespace(label=label, uri="https://sim-platform.eu/taxonomy/occupation/x", total=figure,
                                covered=rules.Figure(), gap=figure, offerings=0, seats=0, quarters=[figure])
    report = types.SimpleNamespace(generated_on=dt.date(2026, 11, 26), quarters=["2026Q4"],
                                   rows=[row], gaps=[row])
    workbook = load_workbook(io.BytesIO(report_workbook(report)))
    for sheet in workbook.worksheets:
        texts = [cell.value for line in sheet.iter_rows() for cell in line if isinstance(cell.value, str)]
        assert "'" + label in texts, sheet.title
        assert label not in texts and not any(cell.data_type == "f" for line in sheet.iter_rows() for cell in line)

"""Server-rendered charts: accessible, well-formed SVG and a matching reportlab drawing."""

import math
import xml.etree.ElementTree as ET

import pytest
from django.utils import translation
from reportlab.graphics import renderPDF
from reportlab.graphics.shapes import Drawing, Polygon, String

from sim.core import charts
from sim.core.charts import Series, bar_chart, radar_chart, wrap_label

SVG = "{http://www.w3.org/2000/svg}"
AXES = ["Financing", "Production efficiency", "Service addition", "Internationalisation", "Growth and competence"]


@pytest.fixture(autouse=True)
def english():
    with translation.override("en"):
        yield


def parse(chart: charts.Chart) -> ET.Element:
    return ET.fromstring(chart.to_svg())


def series_polygons(root: ET.Element) -> list[ET.Element]:
    return [p for p in root.iter(f"{SVG}polygon") if "chart-series" in (p.get("class") or "").split()]


def points(polygon: ET.Element) -> list[tuple[float, float]]:
    return [tuple(map(float, pair.split(","))) for pair in polygon.get("points").split()]


def texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{SVG}text")]


def test_radar_svg_is_well_formed_and_accessible():
    chart = radar_chart(AXES, [Series("T0", [40, 60, 20, 80, 100])], title="Profile", description="Scores.")
    root = parse(chart)
    assert root.tag == f"{SVG}svg"
    assert root.get("role") == "img"
    title, desc = root.find(f"{SVG}title"), root.find(f"{SVG}desc")
    assert title.text == "Profile"
    assert desc.text.startswith("Scores.")
    assert "Financing 40.0" in desc.text  # the data summary
    assert root.get("aria-labelledby") == f"{title.get('id')} {desc.get('id')}"
    assert len(series_polygons(root)) == 1
    # Readable fonts: nothing smaller than 10 px.
    assert min(float(t.get("font-size")) for t in root.iter(f"{SVG}text")) >= 10
    assert "style=" not in chart.to_svg()  # CSP: presentation attributes only


@pytest.mark.parametrize("count", [1, 2, 3])
def test_one_polygon_per_series_and_series_differ_without_colour(count):
    series = [Series(f"S{i}", [50] * 5) for i in range(count)]
    root = parse(radar_chart(AXES, series))
    polygons = series_polygons(root)
    assert len(polygons) == count
    dashes = {p.get("stroke-dasharray") for p in polygons}
    assert len(dashes) == count  # solid, dashed, dotted
    marker_shapes = set()
    for index in range(count):
        shapes = {el.tag for el in root.iter() if f"chart-marker-{index}" in (el.get("class") or "").split()}
        assert len(shapes) == 1
        marker_shapes |= shapes
    assert len(marker_shapes) == count  # circle, rect, polygon


def test_values_map_to_the_right_radius():
    values = [0, 25, 50, 75, 100]
    root = parse(radar_chart(AXES, [Series("T0", values)], max_value=100))
    grid = [p for p in root.iter(f"{SVG}polygon") if p.get("class") == "chart-grid"]
    outer = points(grid[-1])  # the 100 ring
    centre_x = sum(x for x, _ in outer) / len(outer)
    top_x, top_y = outer[0]
    assert top_x == pytest.approx(centre_x, abs=0.01)
    # The centre lies one radius below the top vertex of the outer ring.
    radius = math.dist(outer[0], outer[1]) / (2 * math.sin(math.pi / len(AXES)))
    centre = (centre_x, top_y + radius)
    for (x, y), value, index in zip(points(series_polygons(root)[0]), values, range(5), strict=True):
        assert math.dist((x, y), centre) == pytest.approx(radius * value / 100, abs=0.02)
        if value:
            angle = -math.pi / 2 + 2 * math.pi * index / len(AXES)
            measured = math.atan2(y - centre[1], x - centre[0])
            assert math.cos(measured) == pytest.approx(math.cos(angle), abs=1e-3)
            assert math.sin(measured) == pytest.approx(math.sin(angle), abs=1e-3)


def test_max_value_scales_and_values_are_clamped():
    root = parse(radar_chart(AXES[:3], [Series("T0", [5, 10, 20])], max_value=10))
    ring = points([p for p in root.iter(f"{SVG}polygon") if p.get("class") == "chart-grid"][-1])
    series = points(series_polygons(root)[0])
    assert series[1] == pytest.approx(ring[1], abs=0.01)  # 10 of 10: on the outer ring
    assert series[2] == pytest.approx(ring[2], abs=0.01)  # 20 clamped to 10


def test_text_is_escaped():
    label = 'R&D <new> "tools"'
    chart = radar_chart([label, "B", "C"], [Series("A & <B>", [1, 2, 3])], title="<script>", description="x & y")
    svg = chart.to_svg()
    assert "<script>" not in svg and "<new>" not in svg
    assert "&lt;script&gt;" in svg and "R&amp;D" in svg
    root = ET.fromstring(svg)
    assert root.find(f"{SVG}title").text == "<script>"
    assert any("R&D" in text for text in texts(root))
    assert "A & <B>" in texts(root)


def test_none_values_are_drawn_at_zero_with_a_note():
    chart = radar_chart(AXES, [Series("T0", [40, None, 20, 80, 100]), Series("T1", [50, 60, 30, None, 90])])
    root = parse(chart)
    polygons = series_polygons(root)
    assert len(points(polygons[0])) == 5
    markers = [el for el in root.iter() if "chart-marker-0" in (el.get("class") or "").split()]
    assert len(markers) == 4  # no marker for the missing value
    notes = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-note"]
    joined = " ".join(notes)
    assert "Production efficiency (T0)" in joined and "Internationalisation (T1)" in joined
    assert "no score" in root.find(f"{SVG}desc").text


def test_all_none_series_still_renders():
    root = parse(radar_chart(AXES, [Series("T0", [None] * 5)]))
    assert len(series_polygons(root)) == 1


@pytest.mark.parametrize("count", [3, 4, 5, 6, 7, 8])
def test_three_to_eight_axes(count):
    axes = [f"Dimension number {i}" for i in range(count)]
    chart = radar_chart(axes, [Series("T0", [10 * i for i in range(count)])])
    root = parse(chart)
    assert len(points(series_polygons(root)[0])) == count
    axis_lines = [line for line in root.iter(f"{SVG}line") if line.get("class") == "chart-axis"]
    assert len(axis_lines) == count
    # Every label stays inside the canvas (approximate text width).
    for text in root.iter(f"{SVG}text"):
        x, size = float(text.get("x")), float(text.get("font-size"))
        width = len(text.text or "") * size * charts.CHAR_WIDTH
        left = {"start": x, "middle": x - width / 2, "end": x - width}[text.get("text-anchor")]
        assert left >= 0 and left + width <= chart.width + 1
        assert 0 < float(text.get("y")) <= chart.height


def test_too_few_or_mismatched_inputs_are_refused():
    with pytest.raises(ValueError):
        radar_chart(["A", "B"], [Series("T0", [1, 2])])
    with pytest.raises(ValueError):
        radar_chart(AXES, [Series("T0", [1, 2])])
    with pytest.raises(ValueError):
        radar_chart(AXES, [Series(str(i), [1] * 5) for i in range(4)])
    with pytest.raises(ValueError):
        radar_chart(AXES, [Series("T0", [1] * 5, style="neon")])
    with pytest.raises(ValueError):
        bar_chart([], [Series("T0", [])])


def test_long_labels_are_wrapped_and_shortened():
    assert wrap_label("Growth mapping and competence inventory", 20) == ["Growth mapping and", "competence inventory"]
    lines = wrap_label("A very long label that goes on and on and on for ever", 12, max_lines=2)
    assert len(lines) == 2 and lines[-1].endswith("…") and all(len(line) <= 12 for line in lines)
    broken = wrap_label("Tillväxtkartläggningskompetensinventering", 16, max_lines=3)
    assert broken[0].endswith("-") and all(len(line) <= 16 for line in broken)
    root = parse(radar_chart(["Tillväxtkartläggning och kompetensinventering i företaget", "B", "C"],
                             [Series("T0", [1, 2, 3])]))
    labels = [t.text for t in root.iter(f"{SVG}text") if t.get("class") == "chart-label"]
    assert len(labels) > 3  # the long label takes more than one line


def test_output_is_deterministic():
    def build():
        return radar_chart(AXES, [Series("T0", [40.04, 60, None, 20.5, 80]), Series("T1", [1, 2, 3, 4, 5])],
                           title="t").to_svg()

    assert build() == build()


def test_bar_chart_svg():
    chart = bar_chart(AXES, [Series("T0", [40, 60, None, 20, 80]), Series("Peers", [50, 50, 50, 50, 50])],
                      title="Bars", value_format=lambda v: f"{v:.1f}".replace(".", ","))
    root = parse(chart)
    assert root.get("role") == "img" and root.find(f"{SVG}title").text == "Bars"
    bars0 = [r for r in root.iter(f"{SVG}rect") if (r.get("class") or "") == "chart-bar chart-series-0"]
    assert len(bars0) == 4  # one missing value draws no bar
    widths = [float(r.get("width")) for r in bars0]
    assert widths[1] / widths[0] == pytest.approx(60 / 40, rel=1e-3)
    assert "60,0" in texts(root)
    # The second series is hatched, so it differs from the first without colour.
    assert any("chart-series-1-pattern" in (p.get("class") or "") for p in root.iter(f"{SVG}path"))
    assert not any("chart-series-0-pattern" in (p.get("class") or "") for p in root.iter(f"{SVG}path"))


def test_reportlab_drawing_has_the_same_geometry_and_renders_to_pdf():
    chart = radar_chart(AXES, [Series("T0 <&>", [40, 60, 20, 80, 100]), Series("T1", [50, 50, 50, 50, 50])],
                        title="Profile")
    drawing = chart.to_reportlab()
    assert isinstance(drawing, Drawing)
    assert (drawing.width, drawing.height) == (chart.width, chart.height)
    shapes = list(drawing.contents[0].contents)
    polygons = [s for s in shapes if isinstance(s, Polygon)]
    svg_polygons = list(parse(chart).iter(f"{SVG}polygon"))
    assert len(polygons) == len(svg_polygons)
    # The first series polygon: same points, with y flipped.
    series_svg = points(series_polygons(parse(chart))[0])
    index = [i for i, p in enumerate(svg_polygons) if "chart-series-0" in (p.get("class") or "")][0]
    flat = polygons[index].points
    rl_points = list(zip(flat[0::2], flat[1::2], strict=True))
    for (x, y), (rx, ry) in zip(series_svg, rl_points, strict=True):
        assert rx == pytest.approx(x, abs=0.01)
        assert ry == pytest.approx(chart.height - y, abs=0.01)
    strings = [s.text for s in shapes if isinstance(s, String)]
    assert "T0 <&>" in strings
    pdf = renderPDF.drawToString(drawing)
    assert pdf.startswith(b"%PDF")
    scaled = chart.to_reportlab(width=300)
    assert scaled.width == pytest.approx(300)
    assert renderPDF.drawToString(bar_chart(AXES, [Series("T0", [1, 2, 3, None, 5])]).to_reportlab()).startswith(
        b"%PDF")

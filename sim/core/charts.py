"""Server-rendered charts: radar, bar and line charts from plain data.

A chart is built once as a list of drawing *primitives* (lines, polygons, rectangles, circles, text)
in a top-left coordinate system, and rendered from that list either as a standalone, accessible SVG
string (:meth:`Chart.to_svg`, for web pages and ``image/svg+xml`` responses) or as a reportlab
``Drawing`` (:meth:`Chart.to_reportlab`, for PDFs).  Both renderings therefore have the same
geometry.

Accessibility: the SVG has ``role="img"``, a ``<title>`` and a ``<desc>`` (a summary of the data
unless a description is given); series differ by line dash, marker shape and fill pattern as well
as by colour, so they can be told apart without colour (WCAG 1.4.1).  Text is escaped; output is
deterministic (same data, same bytes).  No inline ``style`` attributes are used (CSP-safe):
presentation attributes only.

Nothing here touches the database; translatable default texts go through ``gettext`` at call time.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils.translation import gettext as _

__all__ = [
    "RADAR_AXES",
    "STYLES",
    "Chart",
    "Series",
    "SeriesStyle",
    "bar_chart",
    "line_chart",
    "nice_ceiling",
    "radar_chart",
    "wrap_label",
]

FONT_FAMILY = "system-ui, -apple-system, 'Segoe UI', Roboto, Helvetica, Arial, sans-serif"
INK = "#1b1f24"
MUTED = "#4f5863"
GRID = "#c9d1d9"
AXIS = "#8a949e"
WHITE = "#ffffff"
# Average glyph width relative to the font size (Helvetica-like fonts), used to wrap labels.
CHAR_WIDTH = 0.56

Number = float | int | Decimal


@dataclass(frozen=True)
class SeriesStyle:
    """How a series is drawn.  Colour, dash, marker and hatch each tell the series apart."""

    key: str
    colour: str  # lines, markers and hatching; at least 4.5:1 against white
    light: str  # background of hatched bars and swatches
    dash: tuple[float, ...]  # () is a solid line
    marker: str  # circle | square | triangle | diamond
    hatch: str  # "" (solid fill) | diagonal | horizontal | cross
    radar_fill: str | None  # area fill under the radar polygon (only the first such series is filled)


STYLES: dict[str, SeriesStyle] = {
    "primary": SeriesStyle("primary", "#0b4f6c", "#d5e6ee", (), "circle", "", "#dbe9ef"),
    "secondary": SeriesStyle("secondary", "#a34700", "#fbe7d6", (7.0, 4.0), "square", "diagonal", None),
    "tertiary": SeriesStyle("tertiary", "#5a3d8a", "#ebe4f5", (2.0, 3.0), "triangle", "cross", None),
}
_STYLE_ORDER = ("primary", "secondary", "tertiary")
#: The fewest and most axes a radar chart accepts.
RADAR_AXES = (3, 12)
MAX_SERIES = len(_STYLE_ORDER)


@dataclass(frozen=True)
class Series:
    """One data series: ``values`` line up with the axes (categories); ``None`` means no value.

    ``style`` names one of :data:`STYLES`; ``None`` picks the style by the series' position.
    """

    label: str
    values: Sequence[Number | None]
    style: str | None = None


# --- Primitives ----------------------------------------------------------------------------------
# Coordinates are in pixels (SVG) or points (PDF), origin top left, y growing downwards.


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float = 1.0
    dash: tuple[float, ...] = ()
    cls: str = ""


@dataclass(frozen=True)
class Polygon:
    points: tuple[tuple[float, float], ...]
    stroke: str | None
    fill: str | None = None
    width: float = 1.0
    dash: tuple[float, ...] = ()
    cls: str = ""


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    w: float
    h: float
    stroke: str | None
    fill: str | None
    width: float = 1.0
    cls: str = ""


@dataclass(frozen=True)
class Circle:
    cx: float
    cy: float
    r: float
    stroke: str | None
    fill: str | None
    width: float = 1.0
    cls: str = ""


@dataclass(frozen=True)
class Text:
    x: float
    y: float  # baseline
    text: str
    size: float = 12.0
    anchor: str = "start"  # start | middle | end
    bold: bool = False
    fill: str = INK
    cls: str = ""


@dataclass(frozen=True)
class Hatch:
    """Pattern lines (a fill pattern drawn as plain segments, identical in SVG and PDF)."""

    segments: tuple[tuple[float, float, float, float], ...]
    stroke: str
    width: float = 1.0
    cls: str = ""


Primitive = Line | Polygon | Rect | Circle | Text | Hatch


# --- The chart -----------------------------------------------------------------------------------

_INVALID_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_ID = re.compile(r"[^A-Za-z0-9_-]")


def _clean(text: str) -> str:
    return _INVALID_XML.sub("", str(text))


def _esc(text: str) -> str:
    return (
        _clean(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace('"', "&quot;")
    )


def _num(value: float) -> str:
    """A coordinate with at most two decimals and no trailing zeros (deterministic)."""
    text = f"{value:.2f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _dash_attr(dash: tuple[float, ...]) -> str:
    return f' stroke-dasharray="{" ".join(_num(d) for d in dash)}"' if dash else ""


def _cls_attr(cls: str) -> str:
    return f' class="{_esc(cls)}"' if cls else ""


@dataclass(frozen=True)
class Chart:
    width: float
    height: float
    title: str
    description: str
    primitives: tuple[Primitive, ...] = field(repr=False)
    id_prefix: str = "chart"
    kind: str = "chart"

    # --- SVG ---------------------------------------------------------------------------------

    def to_svg(self) -> str:
        """A standalone SVG document (also fit to be placed inline in an HTML page)."""
        prefix = _ID.sub("-", self.id_prefix) or "chart"
        out = [
            f'<svg xmlns="http://www.w3.org/2000/svg" class="chart-svg chart-{_esc(self.kind)}" '
            f'viewBox="0 0 {_num(self.width)} {_num(self.height)}" width="{_num(self.width)}" '
            f'height="{_num(self.height)}" role="img" aria-labelledby="{prefix}-title {prefix}-desc" '
            f'font-family="{_esc(FONT_FAMILY)}">',
            f'<title id="{prefix}-title">{_esc(self.title)}</title>',
            f'<desc id="{prefix}-desc">{_esc(self.description)}</desc>',
            f'<rect x="0" y="0" width="{_num(self.width)}" height="{_num(self.height)}" fill="{WHITE}"/>',
        ]
        out.extend(_svg(primitive) for primitive in self.primitives)
        out.append("</svg>")
        return "\n".join(out) + "\n"

    # --- reportlab ---------------------------------------------------------------------------

    def to_reportlab(self, width: float | None = None):
        """A ``reportlab.graphics.shapes.Drawing`` of the chart, scaled to ``width`` points if given."""
        from reportlab.graphics.shapes import Drawing, Group

        scale = (width / self.width) if width else 1.0
        drawing = Drawing(self.width * scale, self.height * scale)
        group = Group(transform=(scale, 0, 0, scale, 0, 0))
        for primitive in self.primitives:
            for shape in _reportlab(primitive, self.height):
                group.add(shape)
        drawing.add(group)
        return drawing


def _svg(p: Primitive) -> str:
    if isinstance(p, Line):
        return (
            f'<line x1="{_num(p.x1)}" y1="{_num(p.y1)}" x2="{_num(p.x2)}" y2="{_num(p.y2)}" '
            f'stroke="{p.stroke}" stroke-width="{_num(p.width)}"{_dash_attr(p.dash)}{_cls_attr(p.cls)}/>'
        )
    if isinstance(p, Polygon):
        points = " ".join(f"{_num(x)},{_num(y)}" for x, y in p.points)
        fill = p.fill or "none"
        stroke = f' stroke="{p.stroke}" stroke-width="{_num(p.width)}" stroke-linejoin="round"' if p.stroke else ""
        return f'<polygon points="{points}" fill="{fill}"{stroke}{_dash_attr(p.dash)}{_cls_attr(p.cls)}/>'
    if isinstance(p, Rect):
        stroke = f' stroke="{p.stroke}" stroke-width="{_num(p.width)}"' if p.stroke else ""
        return (
            f'<rect x="{_num(p.x)}" y="{_num(p.y)}" width="{_num(p.w)}" height="{_num(p.h)}" '
            f'fill="{p.fill or "none"}"{stroke}{_cls_attr(p.cls)}/>'
        )
    if isinstance(p, Circle):
        stroke = f' stroke="{p.stroke}" stroke-width="{_num(p.width)}"' if p.stroke else ""
        return (
            f'<circle cx="{_num(p.cx)}" cy="{_num(p.cy)}" r="{_num(p.r)}" fill="{p.fill or "none"}"'
            f"{stroke}{_cls_attr(p.cls)}/>"
        )
    if isinstance(p, Text):
        weight = ' font-weight="bold"' if p.bold else ""
        return (
            f'<text x="{_num(p.x)}" y="{_num(p.y)}" font-size="{_num(p.size)}" text-anchor="{p.anchor}" '
            f'fill="{p.fill}"{weight}{_cls_attr(p.cls)}>{_esc(p.text)}</text>'
        )
    if isinstance(p, Hatch):
        d = " ".join(f"M{_num(a)} {_num(b)}L{_num(c)} {_num(e)}" for a, b, c, e in p.segments)
        return f'<path d="{d}" stroke="{p.stroke}" stroke-width="{_num(p.width)}" fill="none"{_cls_attr(p.cls)}/>'
    raise TypeError(p)


def _pdf_text(text: str) -> str:
    # The standard PDF fonts cover Windows-1252 (åäö, dashes, quotes); anything else becomes "?".
    return _clean(text).encode("cp1252", "replace").decode("cp1252")


def _reportlab(p: Primitive, height: float) -> list:
    from reportlab.graphics import shapes
    from reportlab.lib.colors import HexColor

    def colour(value: str | None):
        return HexColor(value) if value else None

    def flip(y: float) -> float:
        return height - y

    if isinstance(p, Line):
        return [shapes.Line(p.x1, flip(p.y1), p.x2, flip(p.y2), strokeColor=colour(p.stroke), strokeWidth=p.width,
                            strokeDashArray=list(p.dash) or None)]
    if isinstance(p, Polygon):
        points = [coordinate for x, y in p.points for coordinate in (x, flip(y))]
        return [shapes.Polygon(
            points, fillColor=colour(p.fill),
            strokeColor=colour(p.stroke), strokeWidth=p.width if p.stroke else 0,
            strokeDashArray=list(p.dash) or None, strokeLineJoin=1,
        )]
    if isinstance(p, Rect):
        return [shapes.Rect(p.x, flip(p.y + p.h), p.w, p.h, fillColor=colour(p.fill), strokeColor=colour(p.stroke),
                            strokeWidth=p.width if p.stroke else 0)]
    if isinstance(p, Circle):
        return [shapes.Circle(p.cx, flip(p.cy), p.r, fillColor=colour(p.fill), strokeColor=colour(p.stroke),
                              strokeWidth=p.width if p.stroke else 0)]
    if isinstance(p, Text):
        return [shapes.String(p.x, flip(p.y), _pdf_text(p.text), fontName="Helvetica-Bold" if p.bold else "Helvetica",
                              fontSize=p.size, fillColor=colour(p.fill), textAnchor=p.anchor)]
    if isinstance(p, Hatch):
        return [shapes.Line(a, flip(b), c, flip(e), strokeColor=colour(p.stroke), strokeWidth=p.width)
                for a, b, c, e in p.segments]
    raise TypeError(p)


# --- Helpers -------------------------------------------------------------------------------------


def wrap_label(text: str, max_chars: int, max_lines: int = 2) -> list[str]:
    """Wrap a label into at most ``max_lines`` lines of ``max_chars``; too long ends in "…".

    A single word longer than a line is broken with a hyphen.
    """
    max_chars = max(4, max_chars)
    words = " ".join(str(text).split()).split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        while len(word) > max_chars:
            room = max_chars - len(current) - (1 if current else 0)
            if room >= 4:
                head = word[: room - 1] + "-"
                lines.append(f"{current} {head}" if current else head)
                current = ""
                word = word[room - 1:]
            else:
                lines.append(current)
                current = ""
        candidate = f"{current} {word}" if current else word
        if len(candidate) <= max_chars:
            current = candidate
        else:
            lines.append(current)
            current = word
    if current or not lines:
        lines.append(current)
    if len(lines) > max_lines:
        last = lines[max_lines - 1]
        lines = lines[:max_lines]
        lines[-1] = (last[: max_chars - 1].rstrip() if len(last) >= max_chars else last) + "…"
    return lines


def _default_format(value: float) -> str:
    return f"{value:.1f}"


def _style_for(series: Series, index: int) -> SeriesStyle:
    if series.style is None:
        return STYLES[_STYLE_ORDER[index % MAX_SERIES]]
    try:
        return STYLES[series.style]
    except KeyError:
        raise ValueError(f"unknown series style {series.style!r}; use one of {', '.join(STYLES)}") from None


def _as_float(value: Number | None) -> float | None:
    if value is None:
        return None
    number = float(value)
    if math.isnan(number) or math.isinf(number):
        return None
    return number


def _check_series(series: Sequence[Series], length: int, what: str) -> None:
    if not 1 <= len(series) <= MAX_SERIES:
        raise ValueError(f"a chart shows 1 to {MAX_SERIES} series (got {len(series)})")
    for item in series:
        if len(item.values) != length:
            raise ValueError(f"series {item.label!r} has {len(item.values)} values for {length} {what}")


def _marker(kind: str, x: float, y: float, colour: str, size: float = 4.5, cls: str = "") -> Primitive:
    if kind == "square":
        return Rect(x - size * 0.85, y - size * 0.85, size * 1.7, size * 1.7, stroke=WHITE, fill=colour,
                    width=1.0, cls=cls)
    if kind == "triangle":
        s = size * 1.25
        return Polygon(((x, y - s), (x + s, y + s * 0.8), (x - s, y + s * 0.8)), stroke=WHITE, fill=colour,
                       width=1.0, cls=cls)
    if kind == "diamond":
        s = size * 1.3
        return Polygon(((x, y - s), (x + s, y), (x, y + s), (x - s, y)), stroke=WHITE, fill=colour, width=1.0,
                       cls=cls)
    return Circle(x, y, size, stroke=WHITE, fill=colour, width=1.0, cls=cls)


def _hatch_segments(x: float, y: float, w: float, h: float, kind: str, spacing: float = 5.0):
    """Pattern lines clipped to a rectangle: diagonal (/), horizontal, or cross (/ and \\)."""
    segments: list[tuple[float, float, float, float]] = []
    if w <= 0 or h <= 0 or not kind:
        return ()
    if kind == "horizontal":
        k = spacing / 2
        while k < h:
            segments.append((x, y + k, x + w, y + k))
            k += spacing
        return tuple(segments)
    families = ["up"] if kind == "diagonal" else ["up", "down"]
    for family in families:
        if family == "up":  # x + y = c
            c = x + y + spacing / 2
            end = x + w + y + h
            while c < end:
                xs, xe = max(x, c - (y + h)), min(x + w, c - y)
                if xe > xs:
                    segments.append((xs, c - xs, xe, c - xe))
                c += spacing
        else:  # x - y = c
            c = x - (y + h) + spacing / 2
            end = x + w - y
            while c < end:
                xs, xe = max(x, c + y), min(x + w, c + y + h)
                if xe > xs:
                    segments.append((xs, xs - c, xe, xe - c))
                c += spacing
    return tuple(segments)


def _swatch(style: SeriesStyle, x: float, y: float, w: float, h: float, cls: str) -> list[Primitive]:
    """A filled rectangle in the series' fill pattern."""
    if not style.hatch:
        return [Rect(x, y, w, h, stroke=style.colour, fill=style.colour, width=1.0, cls=cls)]
    return [
        Rect(x, y, w, h, stroke=None, fill=style.light, cls=cls),
        Hatch(_hatch_segments(x, y, w, h, style.hatch), stroke=style.colour, width=1.0, cls=cls + "-pattern"),
        Rect(x, y, w, h, stroke=style.colour, fill=None, width=1.25, cls=cls + "-outline"),
    ]


def _notes(lines: list[str], x: float, y: float, width: float, size: float = 11.0) -> tuple[list[Primitive], float]:
    primitives: list[Primitive] = []
    chars = int(width / (size * CHAR_WIDTH))
    for note in lines:
        for line in wrap_label(note, chars, max_lines=4):
            y += size + 4
            primitives.append(Text(x, y, line, size=size, fill=MUTED, cls="chart-note"))
    return primitives, y


def _missing_note(message: str, axes: Sequence[str], series: Sequence[Series]) -> list[str]:
    missing = []
    for item in series:
        for axis, value in zip(axes, item.values, strict=True):
            if _as_float(value) is None:
                missing.append(f"{axis} ({item.label})" if len(series) > 1 else axis)
    if not missing:
        return []
    return [message % {"items": "; ".join(missing)}]


def _summary(kind: str, axes: Sequence[str], series: Sequence[Series], max_value: float,
             fmt: Callable[[float], str]) -> str:
    parts = [kind % {"count": len(axes), "max": _tick(max_value, fmt)}]
    for item in series:
        values = []
        for axis, value in zip(axes, item.values, strict=True):
            number = _as_float(value)
            shown = fmt(number) if number is not None else _("no score")
            values.append(f"{axis} {shown}")
        parts.append(f"{item.label}: " + ", ".join(values) + ".")
    return " ".join(parts)


def _legend(series: Sequence[Series], styles: Sequence[SeriesStyle], x: float, y: float, *, bars: bool
            ) -> tuple[list[Primitive], float]:
    primitives: list[Primitive] = []
    for index, (item, style) in enumerate(zip(series, styles, strict=True)):
        cls = f"chart-legend chart-legend-{index}"
        row = y + 6
        if bars:
            primitives.extend(_swatch(style, x, row, 26, 14, cls=cls))
        else:
            primitives.append(Line(x, row + 7, x + 30, row + 7, stroke=style.colour, width=2.5, dash=style.dash,
                                   cls=cls))
            primitives.append(_marker(style.marker, x + 15, row + 7, style.colour, cls=cls + "-marker"))
        primitives.append(Text(x + 40, row + 12, item.label, size=12, cls="chart-legend-label"))
        y += 22
    return primitives, y


# --- Radar chart ---------------------------------------------------------------------------------


def radar_chart(
    axes: Sequence[str],
    series: Sequence[Series],
    *,
    max_value: Number = 100,
    title: str = "",
    description: str = "",
    value_format: Callable[[float], str] | None = None,
    id_prefix: str = "radar",
    steps: int = 5,
) -> Chart:
    """A radar (spider) chart: one axis per dimension, from the centre (0) to ``max_value``.

    Made for 3 to 8 axes (up to 12 work) and 1 to 3 series (e.g. T0, T1 and peers).  A ``None``
    value is drawn at 0 without a marker and listed in a note under the chart.
    """
    axes = [str(a) for a in axes]
    if not RADAR_AXES[0] <= len(axes) <= RADAR_AXES[1]:
        raise ValueError(f"a radar chart needs {RADAR_AXES[0]} to {RADAR_AXES[1]} axes (got {len(axes)})")
    _check_series(series, len(axes), "axes")
    top = float(max_value)
    if top <= 0:
        raise ValueError("max_value must be positive")
    fmt = value_format or _default_format
    styles = [_style_for(item, i) for i, item in enumerate(series)]

    width = 640.0
    radius = 150.0
    label_size = 12.0
    cx = width / 2
    cy = 24 + 3 * (label_size + 3) + radius  # room for up to three lines of the top label
    side_chars = int((cx - radius - 20 - 8) / (label_size * CHAR_WIDTH))
    primitives: list[Primitive] = []

    def angle(i: int) -> float:
        return -math.pi / 2 + 2 * math.pi * i / len(axes)

    def point(i: int, value: float) -> tuple[float, float]:
        r = radius * min(max(value, 0.0), top) / top
        return (cx + r * math.cos(angle(i)), cy + r * math.sin(angle(i)))

    # The first filled series' area goes under the grid, so the grid stays visible through it.
    for item, style in zip(series, styles, strict=True):
        if style.radar_fill:
            values = [_as_float(v) for v in item.values]
            area = tuple(point(i, v if v is not None else 0.0) for i, v in enumerate(values))
            primitives.append(Polygon(area, stroke=None, fill=style.radar_fill, cls="chart-area"))
            break

    # Grid rings, axes and scale.
    for step in range(1, steps + 1):
        ring = tuple(point(i, top * step / steps) for i in range(len(axes)))
        primitives.append(Polygon(ring, stroke=GRID, fill=None, width=1.0, cls="chart-grid"))
    for i in range(len(axes)):
        x, y = point(i, top)
        primitives.append(Line(cx, cy, x, y, stroke=AXIS, width=1.0, cls="chart-axis"))
    for step in range(1, steps + 1):
        value = top * step / steps
        primitives.append(Text(cx + 4, cy - radius * step / steps - 3, _tick(value, fmt), size=10.5, fill=MUTED,
                               cls="chart-tick"))

    # Axis labels, wrapped and placed outside the outer ring.
    label_bottom = cy + radius
    for i, label in enumerate(axes):
        theta = angle(i)
        cos, sin = math.cos(theta), math.sin(theta)
        lx, ly = cx + (radius + 14) * cos, cy + (radius + 14) * sin
        if cos > 0.25:
            anchor, chars = "start", side_chars
        elif cos < -0.25:
            anchor, chars = "end", side_chars
        else:
            anchor, chars = "middle", int(2 * (radius + 20) / (label_size * CHAR_WIDTH))
        lines = wrap_label(label, chars, max_lines=3)
        line_height = label_size + 3
        if sin < -0.5:
            first = ly - (len(lines) - 1) * line_height - 3
        elif sin > 0.5:
            first = ly + label_size
        else:
            first = ly + label_size / 2 - (len(lines) - 1) * line_height / 2 - 1
        for n, line in enumerate(lines):
            primitives.append(Text(lx, first + n * line_height, line, size=label_size, anchor=anchor,
                                   cls="chart-label"))
        label_bottom = max(label_bottom, first + (len(lines) - 1) * line_height + 4)

    # Series: a polygon each, then the markers on top.
    for index, (item, style) in enumerate(zip(series, styles, strict=True)):
        values = [_as_float(v) for v in item.values]
        points = tuple(point(i, v if v is not None else 0.0) for i, v in enumerate(values))
        primitives.append(Polygon(points, stroke=style.colour, fill=None, width=2.5, dash=style.dash,
                                  cls=f"chart-series chart-series-{index}"))
    for index, (item, style) in enumerate(zip(series, styles, strict=True)):
        for i, value in enumerate(item.values):
            number = _as_float(value)
            if number is not None:
                x, y = point(i, number)
                primitives.append(_marker(style.marker, x, y, style.colour, cls=f"chart-marker chart-marker-{index}"))

    legend, y = _legend(series, styles, 24, label_bottom + 6, bars=False)
    primitives.extend(legend)
    notes, y = _notes(_missing_note(_("No score, drawn at 0: %(items)s"), axes, series), 24, y, width - 48)
    primitives.extend(notes)

    summary = _summary(_("Radar chart with %(count)s axes, scale 0 to %(max)s."), axes, series, top, fmt)
    return Chart(
        width=width, height=round(y + 16), title=title or _("Radar chart"),
        description=f"{description} {summary}".strip() if description else summary,
        primitives=tuple(primitives), id_prefix=id_prefix, kind="radar",
    )


def _tick(value: float, fmt: Callable[[float], str]) -> str:
    if float(value).is_integer():
        return str(int(value))
    return fmt(value)


# --- Bar chart -----------------------------------------------------------------------------------


def bar_chart(
    categories: Sequence[str],
    series: Sequence[Series],
    *,
    max_value: Number = 100,
    title: str = "",
    description: str = "",
    value_format: Callable[[float], str] | None = None,
    id_prefix: str = "bars",
    steps: int = 5,
) -> Chart:
    """Horizontal grouped bars: one group per category, one bar per series, 0 to ``max_value``.

    A ``None`` value draws no bar; "–" stands in its place and a note lists it under the chart.
    """
    categories = [str(c) for c in categories]
    if not categories:
        raise ValueError("a bar chart needs at least one category")
    _check_series(series, len(categories), "categories")
    top = float(max_value)
    if top <= 0:
        raise ValueError("max_value must be positive")
    fmt = value_format or _default_format
    styles = [_style_for(item, i) for i, item in enumerate(series)]

    width = 640.0
    label_width = 210.0
    label_size = 12.0
    x0 = label_width + 14
    x1 = width - 60
    bar_height = 16.0
    primitives: list[Primitive] = []

    # Layout of the groups first (their heights depend on the wrapped labels).
    label_chars = int((label_width - 8) / (label_size * CHAR_WIDTH))
    top_y = 30.0
    groups = []
    y = top_y + 6
    for category in categories:
        lines = wrap_label(category, label_chars, max_lines=3)
        height = max(len(series) * bar_height, len(lines) * (label_size + 3))
        groups.append((y, height, lines))
        y += height + 14
    bottom = y - 8

    # Scale: vertical grid lines with values on top.
    for step in range(steps + 1):
        value = top * step / steps
        x = x0 + (x1 - x0) * step / steps
        primitives.append(Line(x, top_y, x, bottom, stroke=GRID if step else AXIS, width=1.0,
                               cls="chart-grid" if step else "chart-axis"))
        primitives.append(Text(x, top_y - 8, _tick(value, fmt), size=10.5, anchor="middle", fill=MUTED,
                               cls="chart-tick"))

    for (gy, height, lines), category_index in zip(groups, range(len(categories)), strict=True):
        text_top = gy + height / 2 - len(lines) * (label_size + 3) / 2 + label_size
        for n, line in enumerate(lines):
            primitives.append(Text(label_width, text_top + n * (label_size + 3), line, size=label_size, anchor="end",
                                   cls="chart-label"))
        bars_top = gy + (height - len(series) * bar_height) / 2
        for index, (item, style) in enumerate(zip(series, styles, strict=True)):
            by = bars_top + index * bar_height + 1
            number = _as_float(item.values[category_index])
            if number is None:
                primitives.append(Text(x0 + 4, by + bar_height - 5, "–", size=11, fill=MUTED, cls="chart-value"))
                continue
            length = (x1 - x0) * min(max(number, 0.0), top) / top
            cls = f"chart-bar chart-series-{index}"
            if length > 0:
                primitives.extend(_swatch(style, x0, by, length, bar_height - 2, cls=cls))
            primitives.append(Text(x0 + length + 4, by + bar_height - 5, fmt(number), size=11, cls="chart-value"))

    legend, y = _legend(series, styles, 24, bottom + 8, bars=True)
    primitives.extend(legend)
    notes, y = _notes(_missing_note(_("No score, no bar: %(items)s"), categories, series), 24, y, width - 48)
    primitives.extend(notes)

    summary = _summary(_("Bar chart of %(count)s categories, scale 0 to %(max)s."), categories, series, top, fmt)
    return Chart(
        width=width, height=round(y + 16), title=title or _("Bar chart"),
        description=f"{description} {summary}".strip() if description else summary,
        primitives=tuple(primitives), id_prefix=id_prefix, kind="bars",
    )


# --- Line chart ----------------------------------------------------------------------------------


def nice_ceiling(value: Number) -> float:
    """The smallest "round" number (1, 2, 2.5 or 5 times a power of ten) at or above ``value`` (1 for ≤ 0)."""
    number = float(value)
    if not math.isfinite(number) or number <= 0:
        return 1.0
    power = 10.0 ** math.floor(math.log10(number))
    for factor in (1.0, 2.0, 2.5, 5.0, 10.0):
        candidate = factor * power
        if candidate >= number * (1 - 1e-12):
            return candidate
    return 10.0 * power  # pragma: no cover - the loop always returns


def line_chart(
    x_labels: Sequence[str],
    series: Sequence[Series],
    *,
    max_value: Number | None = None,
    title: str = "",
    description: str = "",
    value_format: Callable[[float], str] | None = None,
    id_prefix: str = "lines",
    steps: int = 5,
    label_every: int | None = None,
) -> Chart:
    """Lines over an ordered x axis (e.g. months), 0 to ``max_value`` (a round number above the data if
    not given), 1 to 3 series.

    A ``None`` value leaves a gap: a series may start late or stop early (actual costs up to today,
    a forecast from today on). Markers are drawn at every point when there are at most 24 points,
    otherwise at each end of every stretch of values. ``label_every`` thins the x labels (by default
    to at most 12).
    """
    labels = [str(x) for x in x_labels]
    if not labels:
        raise ValueError("a line chart needs at least one point")
    _check_series(series, len(labels), "points")
    values = [[_as_float(v) for v in item.values] for item in series]
    data_max = max((v for row in values for v in row if v is not None), default=0.0)
    top = float(max_value) if max_value is not None else nice_ceiling(data_max)
    if top <= 0:
        raise ValueError("max_value must be positive")
    fmt = value_format or _default_format
    styles = [_style_for(item, i) for i, item in enumerate(series)]
    every = label_every or max(1, math.ceil(len(labels) / 12))

    width = 640.0
    x0, x1 = 86.0, width - 24
    top_y, bottom = 24.0, 264.0
    primitives: list[Primitive] = []

    def x_of(i: int) -> float:
        if len(labels) == 1:
            return (x0 + x1) / 2
        return x0 + (x1 - x0) * i / (len(labels) - 1)

    def y_of(value: float) -> float:
        return bottom - (bottom - top_y) * min(max(value, 0.0), top) / top

    for step in range(steps + 1):
        value = top * step / steps
        y = y_of(value)
        primitives.append(Line(x0, y, x1, y, stroke=GRID if step else AXIS, width=1.0,
                               cls="chart-grid" if step else "chart-axis"))
        primitives.append(Text(x0 - 6, y + 4, fmt(value), size=10.5, anchor="end", fill=MUTED, cls="chart-tick"))
    for i, label in enumerate(labels):
        if i % every and i != len(labels) - 1:
            continue
        x = x_of(i)
        primitives.append(Line(x, bottom, x, bottom + 4, stroke=AXIS, width=1.0, cls="chart-axis"))
        primitives.append(Text(x, bottom + 17, label, size=10.5, anchor="middle", fill=MUTED, cls="chart-label"))

    markers_everywhere = len(labels) <= 24
    for index, (row, style) in enumerate(zip(values, styles, strict=True)):
        cls = f"chart-series chart-series-{index}"
        for i in range(len(row) - 1):
            if row[i] is not None and row[i + 1] is not None:
                primitives.append(Line(x_of(i), y_of(row[i]), x_of(i + 1), y_of(row[i + 1]), stroke=style.colour,
                                       width=2.5, dash=style.dash, cls=cls))
        for i, value in enumerate(row):
            if value is None:
                continue
            end_of_stretch = (i == 0 or row[i - 1] is None) or (i == len(row) - 1 or row[i + 1] is None)
            if markers_everywhere or end_of_stretch:
                primitives.append(_marker(style.marker, x_of(i), y_of(value), style.colour,
                                          cls=f"chart-marker chart-marker-{index}"))

    legend, y = _legend(series, styles, 24, bottom + 28, bars=False)
    primitives.extend(legend)

    parts = [_("Line chart of %(count)s points from %(first)s to %(last)s, scale 0 to %(max)s.") % {
        "count": len(labels), "first": labels[0], "last": labels[-1], "max": fmt(top)}]
    for item, row in zip(series, values, strict=True):
        shown = [(labels[i], v) for i, v in enumerate(row) if v is not None]
        if not shown:
            parts.append(_("%(label)s: no values.") % {"label": item.label})
        else:
            parts.append(_("%(label)s: %(start)s at %(first)s, %(end)s at %(last)s.") % {
                "label": item.label, "start": fmt(shown[0][1]), "first": shown[0][0], "end": fmt(shown[-1][1]),
                "last": shown[-1][0]})
    summary = " ".join(parts)
    return Chart(
        width=width, height=round(y + 16), title=title or _("Line chart"),
        description=f"{description} {summary}".strip() if description else summary,
        primitives=tuple(primitives), id_prefix=id_prefix, kind="lines",
    )

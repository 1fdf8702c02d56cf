"""The dashboard's improvement charts drawn once per process (docs/architecture.md#improvement-charts). Each of the
eight charts' tables (24 rows, every cell escaped and formatted by the `xmr_chart` macro) cost as much to draw as
its arithmetic, on every view, whatever period the dashboard shows. The macro's own output is remembered, under
everything the series was worked out from (`Series.inputs`, services/reports/remembered.py) and the macro itself,
so a drawing is found again only for the very same figures, and is byte for byte what the template drew."""

from __future__ import annotations

from flask import current_app
from markupsafe import Markup

from tracker.services.reports import improvement as charts
from tracker.services.reports.remembered import Remembered

MACROS = "reports/_macros.html"
MEMO_DRAWN = 256  # as improvement.MEMO_SERIES: one drawing a remembered series

_DRAWN: Remembered[Markup] = Remembered(MEMO_DRAWN)


def on_dashboard(series: charts.Series) -> Markup:
    """`xmr_chart(series, flag_words, level=3, prefix="improvement-", folded=True)`, as the dashboard draws it."""
    # The template itself is in the key: one reloaded after an edit (TEMPLATES_AUTO_RELOAD) is another object.
    template = current_app.jinja_env.get_template(MACROS)
    if not series.inputs:  # not worked out by improvement._series: nothing says what it was made from
        return _draw(template, series)
    return _DRAWN.get((template, series.inputs), lambda: _draw(template, series))


def _draw(template, series: charts.Series) -> Markup:
    drawn: Markup = template.module.xmr_chart(series, charts.flag_words, level=3, prefix="improvement-", folded=True)
    return drawn

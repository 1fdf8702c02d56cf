"""Measuring what a finger has to hit, in the browser (docs/architecture.md#testing): every visible control's box
from getBoundingClientRect, judged by the family pages' rules.

- a text box, select or text area (a "field"): at least 44 px tall;
- a radio or checkbox (a "choice"), counted with its label (the union of the input's and its labels' boxes): at
  least 44×44;
- a link inside running text (an inline `a` in a `p` or `li` of the page's body, not a header, footer or nav, and
  not the emergency phone link): WCAG 2.5.8's spacing, if smaller than 24×24: a 24 px circle centred on its box
  meets no other control's box and no other small control's circle;
- anything else (buttons, `[role=button]`, `summary`, the phone link, footer, header, back and picker links, block
  links): at least 44×44;
- and no control's box overlaps another's (a tap area grown over a neighbour's would take its taps).

The skip link is left out until it has focus (it is off screen until then), and so is anything inside
`aria-hidden="true"` (the honeypot, which no person can reach)."""

from __future__ import annotations

import math
from dataclasses import dataclass

from playwright.sync_api import Page

TARGET = 44  # px: WCAG 2.5.5 (AAA) and the NHS's own minimum, asked for on the family pages
SPACING = 24  # px: WCAG 2.5.8 (AA)
OVERLAP = 0.5  # px: boxes that share less than this (sub-pixel layout) do not overlap

CONTROLS = "a[href], button, input, select, textarea, summary, [role=button]"

MEASURE = """([selector, scope]) => {
  const NOT_FIELDS = new Set(['radio', 'checkbox', 'button', 'submit', 'reset', 'image', 'hidden']);
  const box = (el) => { const r = el.getBoundingClientRect();
    return {x: r.left + scrollX, y: r.top + scrollY, w: r.width, h: r.height}; };
  const union = (a, b) => { const x = Math.min(a.x, b.x), y = Math.min(a.y, b.y);
    return {x, y, w: Math.max(a.x + a.w, b.x + b.w) - x, h: Math.max(a.y + a.h, b.y + b.h) - y}; };
  const inRunningText = (el) => el.tagName === 'A' && !el.matches('.tracker-phone, [role=button]')
    && getComputedStyle(el).display === 'inline' && el.parentElement.closest('p, li') !== null
    && el.closest('header, footer, nav') === null;
  const rows = [];
  for (const el of (document.querySelector(scope) || document).querySelectorAll(selector)) {
    const tag = el.tagName.toLowerCase();
    if (el.type === 'hidden' || el.closest('[aria-hidden="true"]')) continue;
    if (el.matches('.nhsuk-skip-link') && document.activeElement !== el) continue;
    if (!el.checkVisibility({visibilityProperty: true})) continue;
    let rect = box(el), kind = 'target';
    if (tag === 'input' && (el.type === 'radio' || el.type === 'checkbox')) {
      kind = 'choice';
      for (const label of el.labels) rect = union(rect, box(label));
    } else if (tag === 'select' || tag === 'textarea' || (tag === 'input' && !NOT_FIELDS.has(el.type))) {
      kind = 'field';
    } else if (inRunningText(el)) {
      kind = 'inline';
    }
    const cls = typeof el.className === 'string' ? el.className.trim().split(/\\s+/)[0] : '';
    const text = (el.labels && el.labels[0] ? el.labels[0].innerText : el.innerText || el.value || '')
      .replace(/\\s+/g, ' ').trim().slice(0, 40);
    rows.push({tag, id: el.id, cls, text, kind, ...rect});
  }
  return rows;
}"""


@dataclass(frozen=True)
class Control:
    page: str
    tag: str
    id: str
    cls: str
    text: str
    kind: str
    x: float
    y: float
    w: float
    h: float

    @property
    def name(self) -> str:
        where = f"#{self.id}" if self.id else (f".{self.cls}" if self.cls else "")
        return f"{self.tag}{where} {self.text!r}"

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2, self.y + self.h / 2

    @property
    def small(self) -> bool:
        return self.w < SPACING or self.h < SPACING

    def overlaps(self, other: Control) -> bool:
        """The boxes share more than a rounding error of area."""
        across = min(self.x + self.w, other.x + other.w) - max(self.x, other.x)
        down = min(self.y + self.h, other.y + other.h) - max(self.y, other.y)
        return across > OVERLAP and down > OVERLAP

    def distance_to(self, point: tuple[float, float]) -> float:
        """From a point to the nearest point of this control's box (0 inside it)."""
        px, py = point
        dx = max(self.x - px, 0.0, px - (self.x + self.w))
        dy = max(self.y - py, 0.0, py - (self.y + self.h))
        return math.hypot(dx, dy)


def measure(page: Page, name: str, scope: str = "body") -> list[Control]:
    """Every visible control on the page (or inside `scope`, such as a modal dialog), as laid out now."""
    return [Control(page=name, **row) for row in page.evaluate(MEASURE, [CONTROLS, scope])]


def problem(control: Control, others: list[Control]) -> str | None:
    """What is wrong with this control's hit area, or None."""
    if control.kind == "field" and control.h < TARGET:
        return f"shorter than {TARGET} px"
    if control.kind in ("target", "choice") and (control.w < TARGET or control.h < TARGET):
        return f"smaller than {TARGET}×{TARGET} px"
    if control.kind == "inline" and (spacing := _spacing_problem(control, others)):
        return spacing
    overlapping = next((other for other in others if other is not control and control.overlaps(other)), None)
    return f"its box overlaps {overlapping.name}" if overlapping else None


def _spacing_problem(control: Control, others: list[Control]) -> str | None:
    if not control.small:
        return None
    radius = SPACING / 2
    centre = control.centre
    for other in others:
        if other is control:
            continue
        if other.distance_to(centre) < radius:
            return f"its 24 px circle meets {other.name}"
        if other.small and math.dist(centre, other.centre) < SPACING:
            return f"its 24 px circle meets the circle of {other.name}"
    return None


def failures(controls: list[Control]) -> list[tuple[Control, str]]:
    """Each control that fails its rule, with why, judged against the controls of its own page."""
    found = []
    for control in controls:
        same_page = [other for other in controls if other.page == control.page]
        why = problem(control, same_page)
        if why:
            found.append((control, why))
    return found


def table(rows: list[tuple[Control, str]]) -> str:
    """A plain-text table, one control a line: page, kind, element, position, size, and the verdict."""
    lines = [f"{'page':<28} {'kind':<7} {'size':>13} {'at':>11}  element: verdict"]
    for control, verdict in rows:
        size = f"{control.w:.1f}×{control.h:.1f}"
        at = f"{control.x:.0f},{control.y:.0f}"
        lines.append(f"{control.page:<28} {control.kind:<7} {size:>13} {at:>11}  {control.name}: {verdict}")
    return "\n".join(lines)


def smallest(controls: list[Control]) -> dict[str, Control]:
    """The shortest control of each kind, for the record."""
    found: dict[str, Control] = {}
    for control in controls:
        if control.kind not in found or control.h < found[control.kind].h:
            found[control.kind] = control
    return found

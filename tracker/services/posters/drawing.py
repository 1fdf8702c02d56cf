"""A ward's poster drawn as one A4 page of a PDF (docs/architecture.md#posters): fpdf2, with every line shaped by
HarfBuzz (uharfbuzz), so Arabic and Urdu letters join and run right to left and Bengali, Gujarati and Gurmukhi
clusters form; the QR code drawn as vector squares, so it prints sharp at any size.

Every region of the page is fixed and its words shrink until they fit it, so a longer translation, a long ward name
or a trust's long emergency instruction never pushes the poster onto a second page. A right-to-left poster is the
mirror image of a left-to-right one: its text is right-aligned and its QR code on the left."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import segno
from fpdf import FPDF
from fpdf.enums import Align, MethodReturnValue, WrapMode

from tracker.services.posters import fonts as font_files
from tracker.services.posters.content import PosterContent

PAGE_WIDTH, PAGE_HEIGHT = 210.0, 297.0  # A4, in millimetres
MARGIN = 14.0
WIDTH = PAGE_WIDTH - 2 * MARGIN
POINT = 25.4 / 72  # millimetres in a typographic point
QR_SIZE = 68.0  # the code with its quiet zone: about 1.7 mm a module, read from across a bay
SMALLEST = 0.4  # the least a region's words are scaled to fit it

Colour = tuple[int, int, int]
# The NHS identity's colours.
BLUE: Colour = (0, 94, 184)
DARK_BLUE: Colour = (0, 48, 135)
RED: Colour = (213, 40, 27)
TEXT: Colour = (33, 43, 50)
GREY: Colour = (66, 84, 98)
WHITE: Colour = (255, 255, 255)
# Scripts whose marks reach far above and below the line need taller lines.
TALL_SCRIPTS = frozenset({"Arabic", "Bengali", "Gujarati", "Gurmukhi"})


class FontsMissing(Exception):
    """The fonts for a language's script are not installed: these Debian packages are needed."""

    def __init__(self, packages: list[str]):
        super().__init__(f"install {' and '.join(packages)}")
        self.packages = packages


@dataclass(frozen=True)
class Block:
    """A paragraph in a region: its largest size in points, and the space after it in millimetres."""

    text: str
    size: float
    bold: bool = False
    colour: Colour = TEXT
    gap: float = 0.0
    latin: bool = False  # always in Noto Sans (the link)


@dataclass(frozen=True)
class Drawn:
    """Where a region's blocks started and ended, and the scale they were drawn at."""

    starts: list[float]
    end: float
    scale: float


class _PDF(FPDF):
    """fpdf2 (2.8.9) with every line of text setting its own font. fpdf2 remembers that the page's font is set once a
    line has set it; but a line that begins in the fallback font sets it inside a saved graphics state, which ends
    with the line, so the next line went out with no font of its own: drawn in the viewer's last font and size, the
    wrong letters or the wrong size (tests/services/test_posters.py measures both)."""

    def _render_styled_text_line(self, *args: Any, **kwargs: Any) -> Any:
        self.current_font_is_set_on_page = False
        try:
            return super()._render_styled_text_line(*args, **kwargs)
        finally:
            self.current_font_is_set_on_page = False


def draw(contents: Sequence[PosterContent], *, title: str) -> bytes:
    """One A4 page per poster, in one PDF. Raises FontsMissing before drawing anything if a language's fonts are
    not installed."""
    for content in contents:
        missing = font_files.missing_packages(content.script)
        if missing:
            raise FontsMissing(missing)
    pdf = _PDF(orientation="P", unit="mm", format="A4")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.c_margin = 0
    pdf.set_title(title)
    pdf.set_creator("Martha's Rule Tracker")
    if contents:
        pdf.set_lang(contents[0].tag)
    loaded: set[str] = set()
    for content in contents:
        fonts = font_files.fonts_for(content.script)
        for family in (fonts.latin, fonts.script):
            if family.name not in loaded:
                pdf.add_font(family.name, "", family.regular.path, collection_font_number=family.regular.index)
                pdf.add_font(family.name, "B", family.bold.path, collection_font_number=family.bold.index)
                loaded.add(family.name)
        pdf.add_page()
        _Poster(pdf, content, fonts).draw()
    return bytes(pdf.output())


class _Poster:
    def __init__(self, pdf: FPDF, content: PosterContent, fonts: font_files.PosterFonts):
        self.pdf = pdf
        self.content = content
        self.fonts = fonts
        self.rtl = content.rtl
        self.align = Align.R if content.rtl else Align.L
        self.wrap = WrapMode.CHAR if content.script == "Han" else WrapMode.WORD
        self.leading = 1.5 if content.script in TALL_SCRIPTS else 1.3
        # The letters the script's own font lacks (a ward's name, the link, the number) come from Noto Sans.
        same = fonts.script.name == fonts.latin.name
        pdf.set_fallback_fonts([] if same else [fonts.latin.name], exact_match=True)
        pdf.set_text_shaping(True, language=content.tag.split("-")[0])

    def draw(self) -> None:
        self.header(top=0, height=62)
        self.region([Block(self.content.ward, 26, bold=True, colour=DARK_BLUE)], top=68, height=18)
        self.steps(top=90, height=78)
        self.contact(top=172, height=QR_SIZE + 6)
        self.emergency(top=250, height=33)
        self.footer(top=287)

    # --- the regions, top to bottom --------------------------------------------------------------------------

    def header(self, top: float, height: float) -> None:
        self.pdf.set_fill_color(*BLUE)
        self.pdf.rect(0, top, PAGE_WIDTH, height, style="F")
        blocks = [
            Block(self.content.title, 30, bold=True, colour=WHITE, gap=3),
            Block(self.content.subtitle, 16, colour=WHITE),
        ]
        self.region(blocks, top=top + 9, height=height - 18, centred=True)

    def steps(self, top: float, height: float) -> None:
        """ "What to do", then the three steps, each beside its number in a circle."""
        heading = self.region([Block(self.content.steps_heading, 19, bold=True)], top=top, height=11).end
        circle = 11.0
        blocks = [Block(step, 20, gap=5) for step in self.content.steps]
        drawn = self.region(blocks, top=heading + 3, height=top + height - heading - 3, left=circle + 5)
        middles = [y + self.line_height(block, drawn.scale) / 2 for y, block in zip(drawn.starts, blocks, strict=True)]
        # One line through the circles: one step leads to the next.
        self.pdf.set_draw_color(*BLUE)
        self.pdf.set_line_width(1.2)
        centre = self.x(MARGIN, circle) + circle / 2
        self.pdf.line(centre, middles[0], centre, middles[-1])
        for number, middle in enumerate(middles, start=1):
            self.numbered_circle(number, self.x(MARGIN, circle), middle - circle / 2, circle)

    def contact(self, top: float, height: float) -> None:
        """The code and the link beside it; the team's number and how to reach it through Relay UK."""
        self.qr(self.content.link, self.x(PAGE_WIDTH - MARGIN - QR_SIZE, QR_SIZE), top, QR_SIZE)
        width = WIDTH - QR_SIZE - 6
        blocks = [
            Block(self.content.scan, 13, gap=1.5),
            Block(self.content.link, self.fitted_size(self.content.link, 13, width), bold=True, latin=True, gap=6),
            Block(self.content.phone_heading, 13, gap=1),
            Block(self.content.phone, 30, bold=True, colour=BLUE, latin=True, gap=2.5),
            Block(self.content.relay, 11.5, colour=GREY),
        ]
        self.region(blocks, top=top + 1, height=height - 2, width=width, centred=True)

    def emergency(self, top: float, height: float) -> None:
        self.pdf.set_fill_color(*RED)
        self.pdf.rect(MARGIN, top, WIDTH, height, style="F", round_corners=True, corner_radius=3)
        blocks = [
            Block(self.content.emergency_heading, 16, bold=True, colour=WHITE, gap=1.5),
            Block(self.content.emergency, 13, colour=WHITE),
        ]
        self.region(blocks, top=top + 4, height=height - 8, left=6, width=WIDTH - 12, centred=True)

    def footer(self, top: float) -> None:
        """Who the poster is from, and (for whoever puts the posters up) its language, in the far corners."""
        self.region([Block(self.content.trust_name, 9, colour=GREY)], top=top, height=6, width=WIDTH * 0.7)
        name = Block(self.content.language_name, 9, colour=GREY)
        self.region([name], top=top, height=6, left=WIDTH * 0.7, width=WIDTH * 0.3, align=self.far)

    # --- drawing ---------------------------------------------------------------------------------------------

    @property
    def far(self) -> Align:
        return Align.L if self.rtl else Align.R

    def x(self, left: float, width: float) -> float:
        """Where something `left` millimetres from the page's left edge goes: mirrored on a right-to-left poster."""
        return PAGE_WIDTH - left - width if self.rtl else left

    def region(
        self,
        blocks: list[Block],
        *,
        top: float,
        height: float,
        left: float = 0.0,
        width: float | None = None,
        centred: bool = False,
        align: Align | None = None,
    ) -> Drawn:
        """Draw the blocks in a box `left` millimetres in from the margin on the reading side, scaled down together
        until they fit."""
        width = WIDTH - left if width is None else width
        scale = self.scale_of(blocks, width, height)
        used = self.height_of(blocks, width, scale)
        y = top + (height - used) / 2 if centred else top
        starts = []
        for block in blocks:
            starts.append(y)
            self.font(block, scale)
            self.colour(block.colour)
            self.pdf.set_xy(self.x(MARGIN + left, width), y)
            line = self.line_height(block, scale)
            self.pdf.multi_cell(width, line, block.text, align=align or self.align, wrapmode=self.wrap)
            y = self.pdf.get_y() + block.gap
        return Drawn(starts, y, scale)

    def scale_of(self, blocks: list[Block], width: float, height: float) -> float:
        scale = 1.0
        while scale > SMALLEST and self.height_of(blocks, width, scale) > height:
            scale = round(scale - 0.05, 2)
        return scale

    def height_of(self, blocks: list[Block], width: float, scale: float) -> float:
        total = 0.0
        for block in blocks:
            self.font(block, scale)
            # Asked for the lines only, fpdf2 returns them alone.
            lines = cast(
                list[str],
                self.pdf.multi_cell(
                    width,
                    self.line_height(block, scale),
                    block.text,
                    wrapmode=self.wrap,
                    dry_run=True,
                    output=MethodReturnValue.LINES,
                ),
            )
            total += len(lines) * self.line_height(block, scale) + block.gap
        return total

    def colour(self, colour: Colour) -> None:
        self.pdf.set_text_color(*colour)

    def line_height(self, block: Block, scale: float) -> float:
        return block.size * scale * POINT * (1.3 if block.latin else self.leading)

    def font(self, block: Block, scale: float) -> None:
        family = self.fonts.latin if block.latin else self.fonts.script
        self.pdf.set_font(family.name, "B" if block.bold else "", block.size * scale)

    def fitted_size(self, text: str, size: float, width: float) -> float:
        """The largest size up to `size` at which the text fits on one line (the link: broken, it is harder to type)."""
        self.pdf.set_font(self.fonts.latin.name, "B", size)
        wide = self.pdf.get_string_width(text)
        return size if wide <= width else max(size * width / wide * 0.98, size * SMALLEST)

    def numbered_circle(self, number: int, x: float, y: float, size: float) -> None:
        self.pdf.set_fill_color(*BLUE)
        self.pdf.ellipse(x, y, size, size, style="F")
        self.pdf.set_font(self.fonts.latin.name, "B", 17)
        self.colour(WHITE)
        self.pdf.set_xy(x, y)
        self.pdf.cell(size, size, str(number), align=Align.C)

    def qr(self, link: str, x: float, y: float, size: float) -> None:
        """The link as a QR code with its quiet zone (four modules of white), each row's dark runs one rectangle;
        rows overlap a hair so no renderer leaves a pale seam between them."""
        code = segno.make(link, error="q", micro=False)
        rows = [list(row) for row in code.matrix_iter(border=4)]
        module = size / len(rows)
        self.pdf.set_fill_color(255, 255, 255)
        self.pdf.rect(x, y, size, size, style="F")
        self.pdf.set_fill_color(0, 0, 0)
        for r, row in enumerate(rows):
            c = 0
            while c < len(row):
                if not row[c]:
                    c += 1
                    continue
                start = c
                while c < len(row) and row[c]:
                    c += 1
                self.pdf.rect(x + start * module, y + r * module, (c - start) * module, module * 1.02, style="F")

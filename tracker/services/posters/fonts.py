"""Which font files draw a poster in each language (docs/architecture.md#posters), from Debian's Noto packages, and
which package to install when one is missing, so a poster is never printed in empty boxes.

Every poster needs Noto Sans (Latin letters: the link, the phone number, a ward's name) from fonts-noto-core; a
language in another script needs its own Noto face as well: Arabic (Arabic and Urdu), Bengali, Gujarati and Gurmukhi
from fonts-noto-core, Simplified Chinese from the Noto Sans CJK collection in fonts-noto-cjk, whose SC face is found
by its name inside the collection."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

from fontTools.ttLib import TTCollection

# Where Debian puts them. Module values, so a test can point them at an empty folder.
TRUETYPE = Path("/usr/share/fonts/truetype/noto")
OPENTYPE = Path("/usr/share/fonts/opentype/noto")
CORE = "fonts-noto-core"
CJK = "fonts-noto-cjk"
CJK_FACE = "Noto Sans CJK SC"  # the Simplified Chinese face of the collection


@dataclass(frozen=True)
class Face:
    """One font file (and, in a collection, which font in it)."""

    path: Path
    index: int = 0


@dataclass(frozen=True)
class Family:
    """A regular and a bold face, and the Debian package they come from."""

    name: str  # the family's name inside the PDF
    regular: Face
    bold: Face
    package: str


@dataclass(frozen=True)
class PosterFonts:
    """The fonts one language's poster is drawn with: its script's family, then Noto Sans for the Latin letters its
    own font lacks (the same family for a poster in Latin letters)."""

    script: Family
    latin: Family


def _noto(name: str) -> Family:
    return Family(
        name.lower(),
        Face(TRUETYPE / f"{name}-Regular.ttf"),
        Face(TRUETYPE / f"{name}-Bold.ttf"),
        CORE,
    )


def _cjk() -> Family:
    regular, bold = OPENTYPE / "NotoSansCJK-Regular.ttc", OPENTYPE / "NotoSansCJK-Bold.ttc"
    return Family("notosanscjksc", Face(regular, _face_index(regular)), Face(bold, _face_index(bold)), CJK)


# A language's script (`Language.script`) to its Noto family's file name.
SCRIPT_FAMILIES = {
    "Latin": "NotoSans",
    "Arabic": "NotoSansArabic",
    "Bengali": "NotoSansBengali",
    "Gujarati": "NotoSansGujarati",
    "Gurmukhi": "NotoSansGurmukhi",
    "Han": "NotoSansCJK",
}


def family_for(script: str) -> Family:
    """The family for a script (a KeyError for one the registry does not use)."""
    name = SCRIPT_FAMILIES[script]
    return _cjk() if name == "NotoSansCJK" else _noto(name)


def fonts_for(script: str) -> PosterFonts:
    return PosterFonts(script=family_for(script), latin=_noto("NotoSans"))


def missing_packages(script: str) -> list[str]:
    """The Debian packages to install before a poster in this script can be drawn: none when every file is there
    (a collection without its Simplified Chinese face counts as missing)."""
    fonts = fonts_for(script)
    missing = []
    for family in (fonts.latin, fonts.script):
        if not _usable(family) and family.package not in missing:
            missing.append(family.package)
    return missing


def _usable(family: Family) -> bool:
    return all(face.path.is_file() and face.index >= 0 for face in (family.regular, family.bold))


def _face_index(path: Path) -> int:
    """Which font of a collection is the Simplified Chinese face; -1 when the file or the face is not there."""
    try:
        stat = path.stat()
    except OSError:
        return -1
    return _face_index_of(str(path), stat.st_mtime_ns, stat.st_size)


@cache
def _face_index_of(path: str, _mtime: int, _size: int) -> int:
    """Read once per file version: the collection's name tables only."""
    try:
        with open(path, "rb") as file:
            names = [font["name"].getDebugName(1) for font in TTCollection(file, lazy=True).fonts]
    except Exception:  # an unreadable, damaged or foreign file is as good as none
        return -1
    return names.index(CJK_FACE) if CJK_FACE in names else -1

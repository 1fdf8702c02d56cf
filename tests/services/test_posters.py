"""Ward posters (docs/architecture.md#posters): one A4 page, its QR code read back by a real decoder from the page as
printed (rasterised with pypdfium2, decoded with zxing-cpp), every script drawn with its own Noto font and no empty
boxes, right-to-left posters mirrored, and a missing font named by its Debian package. The drawing tests skip, with
the package to install, where the Noto fonts are not on this machine (CI installs them)."""

from __future__ import annotations

import logging

import pypdfium2
import pytest
import zxingcpp

from tracker.db import write_intent
from tracker.extensions import db
from tracker.models import Population, Site, Team, Ward
from tracker.services import languages
from tracker.services.posters import content, drawing, fonts, words
from tracker.services.records import audit
from tracker.services.setup import hospital
from tracker.services.setup.demo import DEMO_SETTINGS, DEMO_WARDS
from tracker.services.setup.settings import current_settings

A4 = (595.28, 841.89)  # points
DEMO_CODE, DEMO_NAME = DEMO_WARDS[0][0], DEMO_WARDS[0][1]  # Ward 7B (Respiratory)


def needs_fonts(*scripts: str) -> None:
    missing = sorted({package for script in scripts for package in fonts.missing_packages(script)})
    if missing:
        pytest.skip(f"the Noto fonts are not installed: apt-get install {' '.join(missing)}")


@pytest.fixture
def demo_ward(app, trust) -> int:
    """The demo trust's first ward (its code, name and emergency instruction) in the test trust's site and team."""
    with app.app_context(), write_intent():
        actor = audit.Actor.cli()
        hospital.save_settings(
            actor,
            trust_name=DEMO_SETTINGS["trust_name"],
            emergency_instruction=DEMO_SETTINGS["emergency_instruction"],
            outreach_phone=DEMO_SETTINGS["outreach_phone"],
        )
        site, team = db.session.get(Site, trust["site"]), db.session.get(Team, trust["team"])
        ward = hospital.add_ward(
            actor, code=DEMO_CODE, name=DEMO_NAME, site=site, team=team, population=Population.ADULT
        )
        db.session.commit()
        return ward.id


def draw_poster(app, ward_id: int, code: str) -> tuple[bytes, content.PosterContent]:
    with app.app_context():
        ward = db.session.get(Ward, ward_id)
        poster = content.poster_content(ward, current_settings(), languages.language_of(code))
        return drawing.draw([poster], title="test"), poster


def read_back(pdf: bytes) -> tuple[list[tuple[float, float]], list, str, int]:
    """Page sizes, the QR codes zxing-cpp finds on the first page rendered at 150 dpi, its text, and its width."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        sizes = [document[index].get_size() for index in range(len(document))]
        page = document[0]
        image = page.render(scale=150 / 72).to_pil()
        text = page.get_textpage().get_text_range()
        return sizes, zxingcpp.read_barcodes(image), text, image.width
    finally:
        document.close()


@pytest.mark.parametrize("code", ["en", "pl", "ar", "zh_Hans"])
def test_a_demo_wards_poster_is_one_a4_page_whose_qr_code_reads_back_the_wards_link(app, demo_ward, code, caplog):
    needs_fonts(languages.language_of(code).script)
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        pdf, poster = draw_poster(app, demo_ward, code)
    sizes, codes, text, _width = read_back(pdf)
    assert len(sizes) == 1
    assert sizes[0] == pytest.approx(A4, abs=1)
    link = f"{app.config['PUBLIC_BASE_URL'].rstrip('/')}/w/{DEMO_CODE}"
    assert [found.text for found in codes if found.format == zxingcpp.BarcodeFormat.QRCode] == [link]
    assert poster.link == link
    # Written out too, with the team's number, and nothing drawn as an empty box.
    flat = " ".join(text.split())
    assert link in flat and "020 7946 0101" in flat.replace("\u00a0", " ")
    assert DEMO_NAME in flat
    assert "missing the following glyphs" not in caplog.text


def test_the_poster_carries_the_three_steps_relay_uk_and_the_emergency_instruction(app, demo_ward):
    needs_fonts("Latin")
    pdf, poster = draw_poster(app, demo_ward, "en")
    flat = " ".join(read_back(pdf)[2].replace("\u00a0", " ").split())
    for step in words.STEPS:
        assert " ".join(step.split()) in flat
    assert "dial 18001 then 020 7946 0101" in flat
    assert " ".join(DEMO_SETTINGS["emergency_instruction"].split()) in flat
    assert poster.phone == "020\u00a07946\u00a00101"  # the groups held together, in any direction of writing


def text_edges(pdf: bytes) -> tuple[float, float]:
    """The leftmost and rightmost edges of any letter on the first page, in points."""
    document = pypdfium2.PdfDocument(pdf)
    try:
        text = document[0].get_textpage()
        boxes = [text.get_charbox(index) for index in range(text.count_chars())]
        drawn = [box for box in boxes if box[2] > box[0]]
        return min(box[0] for box in drawn), max(box[2] for box in drawn)
    finally:
        document.close()


@pytest.mark.parametrize("language", languages.LANGUAGES, ids=lambda language: language.code)
def test_every_language_is_drawn_in_its_own_script_with_no_empty_boxes(app, demo_ward, language, caplog):
    """Each poster names its language in its own script (the corner), so every script's font is exercised: in
    the right letters, at the right size (a letter outside the margins was drawn larger than it was measured)."""
    needs_fonts(language.script)
    with caplog.at_level(logging.WARNING, logger="fpdf"):
        pdf, _poster = draw_poster(app, demo_ward, language.code)
    assert "missing the following glyphs" not in caplog.text
    assert language.native in read_back(pdf)[2]
    margin = drawing.MARGIN * 72 / 25.4
    left, right = text_edges(pdf)
    assert left >= margin - 1 and right <= A4[0] - margin + 1, (left, right)


def arabic(poster: content.PosterContent) -> content.PosterContent:
    """A poster in Arabic words, whatever the catalogue holds today."""
    return content.PosterContent(
        **{
            **poster.__dict__,
            "language": "ar",
            "tag": "ar",
            "script": "Arabic",
            "rtl": True,
            "title": "هل أنت قلق من أن حالة المريض تزداد سوءًا؟",
            "steps": ("أخبر الممرضة التي تعتني بالمريض.", "اطلب الممرضة المسؤولة.", "اتصل بنا أو استخدم هذه الصفحة."),
            "relay": f"استخدم Relay UK: اطلب 18001 ثم {poster.phone}",
        }
    )


def test_a_right_to_left_poster_is_the_mirror_image_and_keeps_the_number_in_order(app, demo_ward):
    needs_fonts("Latin", "Arabic")
    english_pdf, english = draw_poster(app, demo_ward, "en")
    arabic_pdf = drawing.draw([arabic(english)], title="test")
    _sizes, english_codes, _text, width = read_back(english_pdf)
    _sizes, arabic_codes, arabic_text, _width = read_back(arabic_pdf)
    assert english_codes[0].position.top_left.x > width / 2  # the code on the right, read after the words
    assert arabic_codes[0].position.top_left.x < width / 2  # and on the left when reading from the right
    assert arabic_codes[0].text == english.link
    # The Arabic joins (its letters are the shaped forms), and the number's groups stay in their order.
    assert "020 7946 0101" in arabic_text.replace("\u00a0", " ")


def test_print_all_is_one_page_per_ward(app, trust, demo_ward):
    needs_fonts("Latin")
    with app.app_context():
        wards = db.session.scalars(db.select(Ward).where(Ward.retired_at.is_(None)).order_by(Ward.name)).all()
        posters = [content.poster_content(ward, current_settings(), languages.language_of("en")) for ward in wards]
        pdf = drawing.draw(posters, title="test")
    sizes = read_back(pdf)[0]
    assert len(sizes) == len(wards) == 3
    assert all(size == pytest.approx(A4, abs=1) for size in sizes)


def test_a_long_ward_name_and_instruction_shrink_to_stay_on_one_page(app, demo_ward):
    needs_fonts("Latin")
    with app.app_context():
        ward = db.session.get(Ward, demo_ward)
        poster = content.poster_content(ward, current_settings(), languages.language_of("en"))
    long = content.PosterContent(
        **{**poster.__dict__, "ward": "Ward: " + "Very Long Ward Name " * 8, "emergency": "Press the buzzer. " * 30}
    )
    sizes, codes, _text, _width = read_back(drawing.draw([long], title="test"))
    assert len(sizes) == 1
    assert [found.text for found in codes] == [poster.link]


def test_every_script_in_the_registry_has_its_font_and_package():
    for language in languages.LANGUAGES:
        family = fonts.family_for(language.script)
        assert family.package in (fonts.CORE, fonts.CJK)


def test_a_missing_font_names_the_debian_package_and_nothing_is_drawn(app, demo_ward, monkeypatch, tmp_path):
    monkeypatch.setattr(fonts, "TRUETYPE", tmp_path)
    monkeypatch.setattr(fonts, "OPENTYPE", tmp_path)
    assert fonts.missing_packages("Latin") == ["fonts-noto-core"]
    assert fonts.missing_packages("Han") == ["fonts-noto-core", "fonts-noto-cjk"]
    with pytest.raises(drawing.FontsMissing) as refused:
        draw_poster(app, demo_ward, "zh_Hans")
    assert refused.value.packages == ["fonts-noto-core", "fonts-noto-cjk"]


def test_a_collection_without_the_simplified_chinese_face_counts_as_missing(monkeypatch, tmp_path):
    needs_fonts("Latin")
    monkeypatch.setattr(fonts, "OPENTYPE", tmp_path)
    for name in ("NotoSansCJK-Regular.ttc", "NotoSansCJK-Bold.ttc"):
        (tmp_path / name).write_bytes(b"not a font collection")
    assert fonts.missing_packages("Han") == ["fonts-noto-cjk"]


def test_the_ward_link_is_the_public_address_of_the_family_form(app):
    with app.test_request_context():
        from flask import url_for

        assert content.ward_link("https://mr.example.nhs.uk/", "ngh-7b") == "https://mr.example.nhs.uk" + url_for(
            "public.concern_form", code="ngh-7b"
        )


def test_the_poster_prints_the_trusts_own_instruction_in_the_language_where_its_translators_wrote_one(app, demo_ward):
    from tracker.services.setup.demo_words import INSTRUCTION
    from tracker.services.setup.trust_words import EMERGENCY_INSTRUCTION, save_words

    with app.app_context(), write_intent():
        save_words(audit.Actor.cli(), "pl", EMERGENCY_INSTRUCTION, INSTRUCTION["pl"])
        db.session.commit()
    polish, bengali = draw_poster(app, demo_ward, "pl")[1], draw_poster(app, demo_ward, "bn")[1]
    assert polish.emergency == INSTRUCTION["pl"]
    assert bengali.emergency == DEMO_SETTINGS["emergency_instruction"]  # none written: the English

"""The demo trust's own words in some of the families' languages (docs/architecture.md#languages). The
demo enables every language but leaves Bengali, Gujarati and Punjabi without its words, so that the
English shown beside a missing translation can be seen too. A real trust's translators write these."""

from __future__ import annotations

from tracker.models import Team
from tracker.services.languages import LANGUAGES
from tracker.services.records import audit
from tracker.services.setup.trust_words import EMERGENCY_INSTRUCTION, save_languages, save_words, team_key

INSTRUCTION = {
    "pl": "Jeśli pacjent nagle poczuje się bardzo źle, naciśnij przycisk alarmowy przy łóżku lub od razu poproś "
    "pielęgniarkę. Z telefonu szpitalnego zadzwoń pod 2222.",
    "ro": "Dacă pacientul se simte brusc foarte rău, apăsați butonul de urgență de lângă pat sau chemați imediat "
    "o asistentă. De pe un telefon al spitalului, sunați la 2222.",
    "pt": "Se o doente piorar de repente, carregue no botão de emergência junto à cama ou chame já um enfermeiro. "
    "De um telefone do hospital, ligue 2222.",
    "es": "Si el paciente se pone muy mal de repente, pulse el timbre de emergencia junto a la cama o avise ya a "
    "una enfermera. Desde un teléfono del hospital, llame al 2222.",
    "ar": "إذا ساءت حالة المريض فجأة، اضغط زر الطوارئ بجانب السرير أو اطلب من أي ممرضة الآن. من هاتف المستشفى، "
    "اتصل بالرقم 2222.",
    "ur": "اگر مریض کی حالت اچانک بہت خراب ہو جائے تو بستر کے پاس ایمرجنسی بٹن دبائیں یا ابھی کسی نرس کو بتائیں۔ "
    "ہسپتال کے فون سے 2222 پر کال کریں۔",
    "zh_Hans": "如果病人突然病情很重，请按床边的紧急呼叫按钮，或马上告诉任何一位护士。用医院电话拨打 2222。",
}
TEAM_NAMES = {
    "Critical Care Outreach Team": {
        "pl": "Zespół Wyjazdowy Intensywnej Terapii",
        "ar": "فريق التوعية للرعاية الحرجة",
        "es": "Equipo de Apoyo de Cuidados Críticos",
    },
}


def seed_demo_words(actor: audit.Actor, teams: list[Team]) -> None:
    save_languages(actor, ",".join(language.code for language in LANGUAGES))
    for locale, text in INSTRUCTION.items():
        save_words(actor, locale, EMERGENCY_INSTRUCTION, text)
    for team in teams:
        for locale, name in TEAM_NAMES.get(team.name, {}).items():
            save_words(actor, locale, team_key(team.id), name)

"""Authorisation matrix rows for the Trust settings pages (see tests/authz/__init__.py), as issue 15's roles table
says: an administrator edits the trust's settings, a manager reads them (and the settings history) and cannot post
a change. The settings are the whole trust's, so there is no other site to be refused."""

S = "signin"
NOT_SETUP = {"anonymous": S, "ward_staff": 403, "outreach": 403, "display": S, "tablet": S}
READ = {**NOT_SETUP, "manager": 200, "admin": 200}

ROWS: dict = {
    "admin.settings_page": ("GET", "/admin/settings", READ),
    # Posted empty: the trust's name, instruction and number are asked for.
    "admin.save_settings": ("POST", "/admin/settings/contact", {**NOT_SETUP, "manager": 403, "admin": 400}),
    # Nothing waits to be checked: back to the settings.
    "admin.check_page": ("GET", "/admin/settings/check/contact", {**NOT_SETUP, "manager": 403, "admin": 302}),
    "admin.confirm_change": ("POST", "/admin/settings/check/contact", {**NOT_SETUP, "manager": 403, "admin": 302}),
    "admin.languages_page": ("GET", "/admin/settings/languages", READ),
    # Posted empty: English only, saved.
    "admin.save_languages": ("POST", "/admin/settings/languages", {**NOT_SETUP, "manager": 403, "admin": 302}),
    "admin.language_page": ("GET", "/admin/settings/languages/pl", READ),
    # Posted empty: no words in Polish (there were none), saved.
    "admin.save_language_words": (
        "POST",
        "/admin/settings/languages/pl",
        {**NOT_SETUP, "manager": 403, "admin": 302},
    ),
    "admin.settings_history_page": ("GET", "/admin/settings/history", READ),
}

"""What a part of an address may be, for every route (registered by `create_app` before the blueprints add
their rules; docs/architecture.md#one-web-idiom). Werkzeug's own converters take any run of digits and any
character but "/", and the database then refuses what they let through with a server error: an id past
its `integer`, or a NUL (PostgreSQL stores no NUL in text). Here both simply match no route: a 404, as for
any other address that names nothing."""

from __future__ import annotations

from werkzeug.routing import IntegerConverter, UnicodeConverter

from tracker.numbers import MAX_ID


class IdConverter(IntegerConverter):
    """`<int:…>`: an id the database could hold."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (Werkzeug's name)
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


class TextConverter(UnicodeConverter):
    """`<…>` and `<string:…>`: a code, a reference, a language, without control characters."""

    def __init__(self, map, *args, **kwargs):  # noqa: A002 (Werkzeug's name)
        super().__init__(map, *args, **kwargs)
        # UnicodeConverter sets its own regex from its length arguments: keep the control characters out.
        self.regex = self.regex.replace("[^/]", "[^/\x00-\x1f\x7f]")


class WardCodeConverter(UnicodeConverter):
    """`<ward_code:…>` on the family's pages: any code as typed, since those pages answer a code that names
    no ward (a NUL included, which they never look up) with their own kind page and the team's number."""


def register(app) -> None:
    app.url_map.converters.update(
        int=IdConverter, default=TextConverter, string=TextConverter, ward_code=WardCodeConverter
    )

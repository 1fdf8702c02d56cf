"""The hostile inputs (docs/architecture.md#testing). A category of VALUES puts one of its strings in one field
(a posted form field, a query parameter or a path parameter); a category of SHAPES changes the request itself
(its body, its method, its encoding). Markers are what must never come back raw: a reflected script, an
evaluated template."""

from __future__ import annotations

NINES = "9" * 5000
BIG = [str(2**31), str(2**31 + 1), str(2**63), str(2**63 + 1), str(2**64), str(-(2**63) - 1), str(10**30)]
FIELD_VALUES: dict[str, list[str]] = {
    "xss": [
        "<script>alert('bx')</script>",
        '"><script>alert(1)</script>',
        "'><img src=x onerror=alert(1)>",
        "<svg onload=alert(1)>",
        "javascript:alert(1)",
        "<iframe src=javascript:alert(1)>",
        "</textarea><script>alert(1)</script>",
        "</title><script>alert(1)</script>",
        "<a href='javascript:alert(1)'>x</a>",
        "&lt;script&gt;alert(1)&lt;/script&gt;",
        "<scr<script>ipt>alert(1)</script>",
        '"onmouseover="alert(1)',
    ],
    "template": [
        "x{{7*7}}x",
        "x{{ 7*7 }}x",
        "{% print 'zz' ~ 'yy' %}",
        "{{ config }}",
        "{{ self.__init__.__globals__ }}",
        "{{''.__class__.__mro__}}",
        "${7*7}",
        "#{7*7}",
        "<%= 7*7 %>",
        "{{request.application}}",
        "{%raw%}{{x}}{%endraw%}",
        "%(name)s %s {0}",
    ],
    "sql": [
        "' OR '1'='1",
        "1; DROP TABLE concern; --",
        '\' UNION SELECT password_hash FROM "user" --',
        "1' AND SLEEP(5) --",
        "'; SELECT pg_sleep(5); --",
        "\\'; --",
        "1 OR 1=1",
        "admin'--",
        "%' AND '%'='",
        '" OR ""="',
        "1)) OR ((1=1",
        "'||(SELECT sqlite_version())||'",
    ],
    "nul": [
        "\x00",
        "a\x00b",
        "\x00" * 50,
        "07400\x00123456",
        "MR-\x00",
        "1\x00",
        "\x00<script>",
        "x\x00\x00\x00y",
        "\x01\x02\x03\x1b[31m",
        "\x7f\x08",
    ],
    "bidi_zero_width": [
        "\u202etxt.exe",
        "a\u200bb",
        "\u200d\u200c\u200b",
        "\ufeff",
        "\u2066isolate\u2069",
        "\u202a\u202b\u202c\u202d",
        "1\u200b2",
        "Pat\u00adJones",
        "\u061c\u200e\u200f",
        "\u2028\u2029",
        "\ufff9\ufffa\ufffb",
        "\U000e0041\U000e007f",
    ],
    "emoji": [
        "😀",
        "👩‍👩‍👧‍👦",
        "🏳️‍🌈",
        "😀" * 2000,
        "1️⃣2️⃣",
        "🇬🇧",
        "\ufffd\ufffe",  # (a lone surrogate cannot be sent as UTF-8: invalid_utf8 sends its bytes instead)
        "👍🏽",
        "🧑🏿‍⚕️",
        "𝕏𝕐ℤ",
        "Z̸̢̛̖a̸l̴g̷o̶",
        "\U0010ffff",
    ],
    "non_ascii_digits": ["²", "１２３", "١٢٣", "۱۲۳", "१२३", "٣", "½", "Ⅻ", "⑤", "𝟙𝟚", "²:²", "١٢:٣٠"],
    "huge_number": [
        NINES,
        "-" + NINES,
        "0" * 5000 + "1",
        NINES + ".5",
        "1" + "0" * 4999,
        NINES + ":00",
        "99999999999999999999:00",
        "1" * 400,
        "2026-" + NINES,
        NINES[:20] + "-01-01",
    ],
    "float_overflow": [
        "1e999",
        "-1e999",
        "inf",
        "-inf",
        "nan",
        "NaN",
        "1e-999",
        "0x10",
        "1_000",
        "+1",
        " 1 ",
        "-0",
        "Infinity",
        "1.7976931348623157e309",
    ],
    "big_id": BIG + ["-1", "0", "00000000000000000001", "0x7fffffff", "1.0", "1e3"],
    "overlong": ["a" * 4001, "a" * 10_001, "é" * 70_000, "x " * 50_000, "a\n" * 30_000, "<" * 20_000],
    "path_traversal": [
        "../../../../etc/passwd",
        "..%2f..%2f..%2fetc%2fpasswd",
        "....//....//etc/passwd",
        "/etc/passwd",
        "..\\..\\windows\\win.ini",
        "%2e%2e%2f%2e%2e%2f",
        "file:///etc/passwd",
        "//evil.example/",
        "https://evil.example/",
        "/\\evil.example",
        "%00../",
        "~/.ssh/id_rsa",
        "..;/..;/",
        "%252e%252e%252f",
        "..%c0%af..%c0%af",
        ".%2e/.%2e/",
        "/%2e%2e/%2e%2e/",
    ],
}
# Each markup and query string again behind a quote that closes an attribute or a string, as a real probe would.
for _name in ("xss", "template", "sql"):
    FIELD_VALUES[_name] += [f"\"'>{value}" for value in FIELD_VALUES[_name]]
FIELD_VALUES["path_traversal"] += [value + "%00.css" for value in FIELD_VALUES["path_traversal"]]
# And the odd characters inside ordinary text, where a check on the first or last character would miss them.
for _name in ("nul", "bidi_zero_width", "emoji", "non_ascii_digits"):
    FIELD_VALUES[_name] += [f"1{value}1" for value in FIELD_VALUES[_name]]
FIELD_VALUES["overlong"] += ["a" * 255, "a" * 256, "a" * 1001, "a" * 65_537, "1" * 100_000, "é" * 4001]
FIELD_VALUES["float_overflow"] += ["1e308", "-1e308", "1e-400", "0.1e1000", "9" * 400 + ".0", "1,5"]
FIELD_VALUES["huge_number"] += ["-" + "0" * 5000, NINES + "e9", "١" * 5000, "２" * 5000]

# Submission ids (the one-time id of a form that raises a call): empty, garbage, reused (the runner takes the
# id from a first submission and sends it again).
SUBMISSION_IDS = ["", " ", "REUSED", "x" * 500, "../", "\x00", "０" * 24, "a" * 24]
# Percent-encoded invalid UTF-8 (in a query string or a urlencoded body) and raw bytes (a body as it is).
BAD_UTF8_ENCODED = ["%ed%a0%bd", "%ff", "%c3%28", "%ed%a0%80", "%f8%88%80%80%80", "%c0%af", "%e2%82", "%fe%fe%ff%ff"]
BAD_UTF8_RAW = [b"\xff", b"\xc3\x28", b"\xed\xa0\x80", b"\xc0\xaf", b"\x80\x81\x82", b"\xf4\x90\x80\x80"]

# Request shapes, each applied once per route and role (the runner builds them).
SHAPES: dict[str, list[str]] = {
    "invalid_utf8": [f"encoded:{value}" for value in BAD_UTF8_ENCODED] + [f"raw:{i}" for i in range(len(BAD_UTF8_RAW))],
    "one_mb_body": ["form", "raw", "multipart", "json"],
    "wrong_method": ["PUT", "DELETE", "PATCH", "GET-on-POST", "POST-on-GET", "TRACE", "PROPFIND", "LINK"],
    "head_with_body": ["form", "json", "raw"],
    "duplicated_fields": ["twice", "ten-times", "empty-then-hostile", "hundred"],
    "json_body": ["object", "array", "string", "broken", "nested", "number", "null", "huge"],
    "submission_id": SUBMISSION_IDS,
}

# What must never appear raw in an HTML page (escaped, they are harmless).
MARKERS = [
    "<script>alert(",
    "<img src=x onerror",
    "<svg onload",
    "<iframe src=javascript",
    "x49x",  # x{{7*7}}x evaluated
    "zzyy",  # the {% print %} evaluated
    "Traceback (most recent call last)",
    "sqlite3.OperationalError",
    "psycopg.errors",
]

CATEGORIES = [*FIELD_VALUES, *SHAPES]


def case_count() -> int:
    return sum(len(v) for v in FIELD_VALUES.values()) + sum(len(v) for v in SHAPES.values())

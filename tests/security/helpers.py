"""Small helpers for the security tests: sign in through the real forms, as a browser would."""

from __future__ import annotations

import re

import pyotp

PASSWORD = "correct horse battery staple"
TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def csrf(client, path="/auth/sign-in") -> str:
    page = client.get(path).get_data(as_text=True)
    return re.search(r'(?:name="csrf_token" value|data-csrf-token)="([^"]+)"', page).group(1)


def sign_in(client, email, password=PASSWORD, *, address="127.0.0.1", next_url=None):
    path = "/auth/sign-in" + (f"?next={next_url}" if next_url else "")
    token = csrf(client)
    return client.post(
        path, data={"csrf_token": token, "email": email, "password": password}, environ_base={"REMOTE_ADDR": address}
    )


def enter_code(client, secret=TOTP_SECRET, code=None, *, address="127.0.0.1"):
    token = csrf(client, "/auth/sign-in/code")
    return client.post(
        "/auth/sign-in/code",
        data={"csrf_token": token, "code": code or pyotp.TOTP(secret).now()},
        environ_base={"REMOTE_ADDR": address},
    )


def referer(path: str) -> dict:
    return {"Referer": f"http://localhost{path}"}

"""The nginx site for the tracker (deploy/nginx/tracker.conf) with the trust's values filled in.

    python3 deploy/nginx_site.py --server-name tracker.example-trust.nhs.uk \\
        --certificate /etc/ssl/certs/tracker.pem --certificate-key /etc/ssl/private/tracker.key \\
        > /etc/nginx/sites-available/tracker

`standalone()` wraps a rendered site in a whole nginx.conf that runs without root (its pid, logs and
temporary files in one folder): CI's `nginx -t` (deploy/check-nginx-site) and the test that serves the
app through nginx (tests/deploy/test_nginx.py) both use it. Standard library only: it runs with the
system's python3 on a server without the app's virtual environment."""

from __future__ import annotations

import argparse
import os
import re
import sys
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent / "nginx" / "tracker.conf"
PLACEHOLDER = re.compile(r"@([A-Z_]+)@")
# Characters that would end or change an nginx directive if they were in a value.
UNSAFE = re.compile(r"[\s;{}'\"#$\\]")


def render(
    *,
    server_name: str,
    certificate: str,
    certificate_key: str,
    upstream: str = "127.0.0.1:8000",
    static_root: str = "/srv/tracker/app/tracker/static",
    https_listen: str = "443",
    http_listen: str = "80",
    public_base_url: str | None = None,
) -> str:
    """The site file. `public_base_url` (where plain HTTP redirects to) must be the app's PUBLIC_BASE_URL;
    by default https:// and the server name, with the port when it is not 443."""
    port = https_listen.rsplit(":", 1)[-1]
    values = {
        "SERVER_NAME": server_name,
        "CERTIFICATE": certificate,
        "CERTIFICATE_KEY": certificate_key,
        "UPSTREAM": upstream,
        "STATIC_ROOT": static_root.rstrip("/"),
        "HTTPS_LISTEN": https_listen,
        "HTTP_LISTEN": http_listen,
        "PUBLIC_BASE_URL": (public_base_url or f"https://{server_name}{'' if port == '443' else ':' + port}").rstrip(
            "/"
        ),
    }
    for name, value in values.items():
        if not value or UNSAFE.search(value):
            raise ValueError(f"{name.lower()} must be one word with no spaces, quotes, ; {{ }} # $ or \\: {value!r}")
    text = TEMPLATE.read_text()
    unknown = set(PLACEHOLDER.findall(text)) - set(values)
    if unknown:
        raise ValueError(f"the template has placeholders nothing fills in: {sorted(unknown)}")
    return PLACEHOLDER.sub(lambda match: values[match.group(1)], text)


def standalone(site: Path, workdir: Path) -> str:
    """A whole nginx.conf around the site file at `site`, for `nginx -p WORKDIR -e WORKDIR/error.log -c …`:
    every file nginx writes is under `workdir`, so no root is needed (nor /var/log/nginx or /run)."""
    # As root (CI), nginx would run its workers as "nobody", who cannot enter a private temporary folder.
    user = "user root;\n" if hasattr(os, "geteuid") and os.geteuid() == 0 else ""
    return f"""{user}worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log;
events {{
    worker_connections 64;
}}
http {{
    access_log {workdir}/access.log;
    client_body_temp_path {workdir}/client_body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    include {site};
}}
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server-name", required=True, help="the host name in PUBLIC_BASE_URL")
    parser.add_argument("--certificate", required=True, help="the certificate file, full chain (PEM)")
    parser.add_argument("--certificate-key", required=True, help="its private key (PEM)")
    parser.add_argument("--upstream", default="127.0.0.1:8000", help="where gunicorn listens")
    parser.add_argument("--static-root", default="/srv/tracker/app/tracker/static", help="the app's tracker/static")
    parser.add_argument("--https-listen", default="443")
    parser.add_argument("--http-listen", default="80")
    parser.add_argument("--public-base-url", help="PUBLIC_BASE_URL, when it is not https://SERVER_NAME")
    arguments = parser.parse_args(argv)
    try:
        sys.stdout.write(render(**{k: v for k, v in vars(arguments).items()}))
    except ValueError as problem:
        parser.error(str(problem))
    return 0


if __name__ == "__main__":
    sys.exit(main())

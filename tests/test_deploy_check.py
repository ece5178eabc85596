"""`manage.py check --deploy` passes with the production settings docs/security.md documents."""

import os
import secrets
import subprocess
import sys

from tests.conftest import ROOT

PRODUCTION = {
    "BEHIND_TLS_PROXY": "1",
    "DEBUG": "0",
    "ALLOWED_HOSTS": "chat.example.com",
    "CSRF_TRUSTED_ORIGINS": "https://chat.example.com",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS": "1",
    "SECURE_HSTS_PRELOAD": "1",
}


def check_deploy(tmp_path, **env) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("SECURE_", "BEHIND_"))}
    environ.update(SECRET_KEY=secrets.token_urlsafe(50), CHAT_VAR_DIR=str(tmp_path), **env)
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=environ,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_documented_production_settings_pass_the_deployment_checklist(tmp_path):
    checked = check_deploy(tmp_path, **PRODUCTION)
    assert checked.returncode == 0, checked.stdout + checked.stderr
    assert "no issues" in checked.stdout


def test_without_tls_the_checklist_fails(tmp_path):
    checked = check_deploy(tmp_path, **{k: v for k, v in PRODUCTION.items() if k != "BEHIND_TLS_PROXY"})
    assert checked.returncode != 0
    assert "SESSION_COOKIE_SECURE" in checked.stdout + checked.stderr

"""The production shape: settings from the environment, `check --deploy`, docker-compose."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from portal.env import VARIABLES, production_variables

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION = {
    "DEBUG": "0",
    "SECRET_KEY": "a-production-key-of-enough-length-and-variety-0123456789-xyzXYZ-!@#",
    "ALLOWED_HOSTS": "eportal.example.gov.tw",
    "DATABASE_URL": "sqlite:////tmp/eportal-deploy-check.sqlite3",
    "EMAIL_URL": "smtp+tls://mailer:secret@mail.example.gov.tw:587",
}


def manage(*args, **env):
    clean = {k: v for k, v in os.environ.items()
             if k not in VARIABLES and k != "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean["DJANGO_SETTINGS_MODULE"] = "portal.settings"
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env},
                          capture_output=True, text=True, timeout=120)


def setting(name, **env):
    result = manage("shell", "-v", "0", "-c",
                    f"from django.conf import settings; print(settings.{name})",
                    **env)
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_it_passes_the_deployment_checks_in_production():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_it_refuses_to_start_without_a_secret_key_in_production():
    env = {k: v for k, v in PRODUCTION.items() if k != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_it_generates_one_development_key_and_keeps_it():
    first = setting("SECRET_KEY", DEBUG="1")
    assert len(first) >= 50 and first == setting("SECRET_KEY", DEBUG="1")
    assert (ROOT / "var" / "secret_key").stat().st_mode & 0o077 == 0


def test_it_runs_tasks_in_process_without_redis():
    assert setting("CELERY_TASK_ALWAYS_EAGER", DEBUG="1") == "True"
    assert setting("EMAIL_BACKEND", DEBUG="1").endswith("filebased.EmailBackend")
    assert setting("DATABASES['default']['ENGINE']", DEBUG="1").endswith("sqlite3")


def test_it_uses_redis_and_postgres_when_told():
    env = {"DEBUG": "1", "REDIS_URL": "redis://127.0.0.1:6379/3",
           "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/x"}
    assert setting("CELERY_TASK_ALWAYS_EAGER", **env) == "False"
    assert setting("CELERY_BROKER_URL", **env) == "redis://127.0.0.1:6379/3"
    assert setting("DATABASES['default']['ENGINE']", **env).endswith("postgresql")


def test_it_keeps_the_look_ups_plans_on_postgres_unless_told_not_to():
    """PostgreSQL's prepared statements (permits.prepared's keep_plan look-ups) are on by
    default; DB_PREPARED_STATEMENTS=0 turns them off for a pooler that cannot hold them."""
    env = {"DEBUG": "1", "DATABASE_URL": "postgres://u:p@127.0.0.1:5432/x"}
    options = "DATABASES['default'].get('OPTIONS', {}).get('prepare_threshold')"
    assert setting(options, **env) == "0"
    assert setting(options, DB_PREPARED_STATEMENTS="0", **env) == "None"
    assert setting(options, DEBUG="1") == "None"  # SQLite has none


def test_it_documents_every_variable_the_settings_read():
    source = (ROOT / "portal" / "settings.py").read_text()
    read = set(re.findall(r"env(?:\.\w+)?\(\s*\"([A-Z_]+)\"", source))
    assert read and read <= set(VARIABLES), read - set(VARIABLES)


def test_it_gives_every_portal_container_the_variables_production_needs():
    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = compose["services"]
    assert {"web", "worker", "beat", "postgres", "redis"} <= set(services)
    for name in ("web", "worker", "beat"):
        environment = services[name]["environment"]
        missing = set(production_variables()) - set(environment)
        assert not missing, f"{name} lacks {missing}"
        assert environment["DEBUG"] == "0"
    assert "gunicorn" in services["web"]["command"]
    assert "worker" in services["worker"]["command"]
    assert "beat" in services["beat"]["command"]


@pytest.mark.django_db
def test_it_seeds_the_demo_accounts_the_readme_lists_twice_over(settings):
    from django.core.management import call_command

    from portal.accounts.models import User

    readme = (ROOT / "README.md").read_text()
    table = readme[readme.index("| role | account | password |"):].splitlines()
    rows = []
    for line in table[2:]:
        if not line.startswith("|"):
            break
        rows.append([cell.strip().strip("`") for cell in line.strip("|").split("|")])
    assert sorted(r[0] for r in rows) == ["agent", "applicant", "applicant2", "reviewer",
                                          "senior_reviewer"]

    settings.DEBUG = True
    for _ in range(2):  # idempotent
        call_command("seed_demo", stdout=open(os.devnull, "w"))  # noqa: SIM115
    assert User.objects.count() == 5
    for role, account, password in rows:
        user = User.objects.get(identifier=account)
        assert user.check_password(password), role
        assert user.is_agent == (role == "agent")
        assert user.is_reviewer == role.endswith("reviewer")
    # Four eyes (issue 14): the second reviewer approves; the first also hands out cases.
    assert User.objects.get(identifier="B223456782").has_perm("permits.approve_application")
    first = User.objects.get(identifier="A123456789")
    assert first.has_perm("permits.assign_application")
    assert not first.has_perm("permits.approve_application")


@pytest.mark.django_db
def test_it_refuses_to_seed_demo_passwords_in_production(settings):
    from django.core.management import CommandError, call_command

    settings.DEBUG = False
    with pytest.raises(CommandError):
        call_command("seed_demo")

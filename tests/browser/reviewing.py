"""What the browser tests of the reviewers' work share (issue 14): a reviewer's password, the
review targets the working-day clock counts against, and logging a user in to the admin in
English (the admin's words in the tests are its msgids)."""

import importlib

from django.apps import apps

from tests.services import log_in, orm

PASSWORD = "reviewer-password-1"


def with_password(user):
    """`user` with the password PASSWORD (a reviewer of the fixtures has none a test knows)."""
    user.set_password(PASSWORD)
    user.save()
    return user


def seed_review_targets():
    """The working-day targets of each procedure's stages as migration 0010 seeds them (a
    transactional test after one that emptied the table)."""
    migration = importlib.import_module("permits.migrations.0010_workday_calendar")
    migration.seed_targets(apps, None)


def in_english(page, live_server):
    """The pages of `live_server` in English from now on (the language cookie)."""
    page.context.add_cookies([{"name": "django_language", "value": "en",
                               "url": live_server.url}])


def admin_log_in(page, live_server, user, next_path="/admin/"):
    """`user` (given the password PASSWORD here) logged in to the admin in English, alone in
    the browser (whoever was logged in is logged out), on the page `next_path`."""
    orm(with_password, user)
    page.context.clear_cookies()
    in_english(page, live_server)
    log_in(page, f"{live_server.url}/admin/login/?next={next_path}", user.identifier, PASSWORD)

"""Page timings and query counts of the portal shell as the number of accounts grows.

    DATABASE_URL=postgres://... .venv/bin/python bench/pages.py [--accounts 20000]

Generates accounts (in a throwaway database: the test database machinery creates and drops
it), then times the login page, the menu and the profile page for one logged-in user and
prints each as a ratio to /healthz (one trivial query) measured in the same run, plus the
queries each page costs at a small and at the full number of accounts: those must not grow.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "tests.settings")

import django  # noqa: E402

django.setup()

from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import (  # noqa: E402
    CaptureQueriesContext,
    setup_test_environment,
)

from portal.accounts.models import IdentifierType, User  # noqa: E402

# (path, as a logged-in user?)
PAGES = [("/healthz", False), ("/accounts/login/", False), ("/", True),
         ("/accounts/profile/", True)]


def make_accounts(count, start):
    unusable = make_password(None)
    users = [User(identifier=f"P{start + n:08d}", identifier_type=IdentifierType.PASSPORT,
                  name=f"Company {start + n}", address="Taipei", contact_person="Wang",
                  phone="02-0000-0000", email=f"c{start + n}@example.com", password=unusable)
             for n in range(count)]
    User.objects.bulk_create(users, batch_size=2000)


def measure(client, path, rounds):
    for _ in range(5):  # warm up caches (templates, catalogue, connection)
        client.get(path)
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        response = client.get(path)
        times.append(time.perf_counter() - started)
        assert response.status_code == 200, (path, response.status_code)
    return statistics.median(times)


def queries(client, path):
    with CaptureQueriesContext(connection) as captured:
        client.get(path)
    return len(captured)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--accounts", type=int, default=20000)
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()

    setup_test_environment()
    # A database of the benchmark's own, so that a test run at the same time is not touched.
    connection.settings_dict.setdefault("TEST", {})["NAME"] = "bench_eportal"
    old_name = connection.creation.create_test_db(verbosity=0, autoclobber=True)
    try:
        user = User.objects.create_user("22099131", "bench-password-1", name="Bench",
                                        address="Taipei", contact_person="Wang",
                                        phone="02", email="bench@example.com")
        clients = {False: Client(), True: Client()}
        clients[True].force_login(user)
        make_accounts(100, 0)
        small = {path: queries(clients[auth], path) for path, auth in PAGES}
        make_accounts(args.accounts - 100, 100)
        large = {path: queries(clients[auth], path) for path, auth in PAGES}
        print(f"{connection.vendor}, {User.objects.count()} accounts, "
              f"median of {args.rounds} requests each")
        baseline = measure(clients[False], PAGES[0][0], args.rounds)
        print(f"{'page':22} {'ms':>7} {'ratio':>7} {'queries@100':>12} {'queries@all':>12}")
        for path, auth in PAGES:
            median = measure(clients[auth], path, args.rounds)
            print(f"{path:22} {median * 1000:7.2f} {median / baseline:7.2f} "
                  f"{small[path]:12d} {large[path]:12d}")
        grew = [path for path, _auth in PAGES if large[path] != small[path]]
        if grew:
            sys.exit(f"query count grew with the data on: {grew}")
    finally:
        connection.creation.destroy_test_db(old_name, verbosity=0)


if __name__ == "__main__":
    main()

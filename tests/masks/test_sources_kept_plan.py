"""口罩流向登錄作業's statement keeps one plan for every user (masks.services._newest_sources,
issue 10, bench/README.md "Stop 26 (flow start and port look-up)"): the rows it gives, under
the plan made for the user's values and under the plan PostgreSQL keeps for any user, are
the rows of the one rule (_sources() over visible_permits()) in the list's order, for holders
of every size and mix generated at random, two agents filing for several of them, and a user
with nothing; and PostgreSQL does keep that plan."""

import functools
import itertools
import random
from decimal import Decimal

import pytest
from django.db import connection

from masks import services
from tests.masks.test_flows import cleared_declaration, written_off_permit
from tests.masks.test_manual_points import own_use
from tests.masks.test_newest_sources import by_the_rule
from tests.masks.test_prepared_pages import server_prepared  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]  # the statement is PostgreSQL's

D = Decimal
SHAPES = ("stock", "partly", "declared", "not released", "written off", "written, opened")


@pytest.fixture
def holders(make_mask_permit, make_correction, make_user, applicant, agent):
    """Holders of 0 to 9 mask permits of random states (seeded), some filed by one of two
    agents, one permit corrected by its agent."""
    from portal.accounts.models import Role

    rng = random.Random(26)
    other_agent = make_user("83099999", role=Role.AGENT, name="第二報關行")
    users = [applicant, *(make_user(f"8309{n:04d}", name=f"持有人{n}") for n in range(5))]
    for holder, count in zip(users, (9, 6, 3, 1, 0, 2), strict=True):
        for _n in range(count):
            made = functools.partial(make_mask_permit,
                                     actor=rng.choice((holder, holder, agent, other_agent)))
            shape = rng.choice(SHAPES)
            quantity = str(rng.randint(1, 40))
            if shape.startswith("written"):
                permit = written_off_permit(made, holder, medical=quantity)
                if shape == "written, opened":
                    services.stock_report_load(permit=permit)
                continue
            declaration = cleared_declaration(
                made, holder, quantity=quantity,
                released="0" if shape == "not released" else None)
            if shape in ("partly", "declared"):
                report = services.stock_report_load(declaration=declaration)
                own_use(holder, report, quantity if shape == "declared" else "1")
                if shape == "declared":
                    services.flows_declare(actor=holder, report=report)
    corrected = make_mask_permit(users[1], actor=other_agent, route="postal")
    make_correction(other_agent, corrected)
    services.write_off_record(actor=other_agent, permit=corrected, route="postal",
                              medical_quantity=D(5), non_medical_quantity=D(0))
    return [*users, agent, other_agent]


def rows_each_way(user, wanted, mode):
    """_newest_sources' rows with PostgreSQL's plan_cache_mode `mode` for this statement's
    run (reset after: the test's transaction is rolled back)."""
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL plan_cache_mode = {mode}")
    try:
        return services._newest_sources(user, wanted)
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL plan_cache_mode = auto")


@pytest.mark.parametrize("dense", [0, 4, 10_000])  # whole index, the bigger holders, none
def test_every_plan_gives_the_rules_rows(holders, monkeypatch, server_prepared,  # noqa: F811
                                         dense):
    monkeypatch.setattr(services, "DENSE_PERMITS", dense)
    assert sum(len(by_the_rule(user, 100)) for user in holders) >= 15
    for user, wanted in itertools.product(holders, [1, 2, 5, 51]):
        expected = by_the_rule(user, wanted)
        for mode in ("force_custom_plan", "force_generic_plan", "auto"):
            assert rows_each_way(user, wanted, mode) == expected, (user, wanted, mode)


def test_postgresql_keeps_its_plan(holders, server_prepared):  # noqa: F811
    """After five runs (any users) the plan is the kept one, and stays right."""
    runs = [*holders, *holders]
    for user in runs:
        assert services._newest_sources(user, 51, dates=False) == [
            (*row[:-1], None) for row in by_the_rule(user, 51)], user
    with connection.cursor() as cursor:
        cursor.execute("SELECT generic_plans, custom_plans FROM pg_prepared_statements "
                       "WHERE statement LIKE 'WITH filed AS MATERIALIZED%%'")
        (generic, custom), = cursor.fetchall()
    # Prepared at its first run (permits.prepared.plan_keeping_cursor); PostgreSQL plans
    # five runs for their values, then keeps the plan for any user.
    assert (custom, generic) == (5, len(runs) - 5)


def test_its_text_names_only_the_users_id():
    sql = services._newest_sources_sql(False, 51, 256)
    assert sql.count("%s") == 4
    assert sql.count("(SELECT %s::bigint)") == 4
    assert "LIMIT 51" in sql and "> 256" in sql and "= 'import'" in sql
    with pytest.raises(ValueError):
        services._literal("x' OR '1")

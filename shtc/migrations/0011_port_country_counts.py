"""The number of location codes of each country, kept by PostgreSQL beside the port table
for the 轉口港代碼 look-up's "page n of N" (shtc/port_views.py), on PostgreSQL only (like
0007; on SQLite the look-up counts the country's codes as before).

Counting the United States' 18,264 codes on every request took 1.5-2.4 ms of the page
(issue 10, stop 25). The codes change only through the UN/LOCODE load (shtc/locode.py: COPY
and INSERT ... ON CONFLICT), the admin (add, change, delete, bulk delete) and migrations:
statement triggers on the table itself keep `shtc_port_country_count` in the same
transaction as every such write, whichever way it is written (raw SQL included), so a
request sees the count of the codes it lists (one snapshot). Concurrent writers of one
country queue on its row (n = n + change). TRUNCATE empties the counts.
"""

from django.db import migrations

CREATE = """
LOCK TABLE shtc_port IN SHARE ROW EXCLUSIVE MODE;

CREATE TABLE shtc_port_country_count (
    country varchar(2) PRIMARY KEY,
    n bigint NOT NULL
);

CREATE FUNCTION shtc_port_country_count_change() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'TRUNCATE' THEN
        DELETE FROM shtc_port_country_count;
    ELSIF TG_OP = 'INSERT' THEN
        INSERT INTO shtc_port_country_count AS kept (country, n)
        SELECT country, count(*) FROM added GROUP BY country ORDER BY country
        ON CONFLICT (country) DO UPDATE SET n = kept.n + EXCLUDED.n;
    ELSIF TG_OP = 'DELETE' THEN
        INSERT INTO shtc_port_country_count AS kept (country, n)
        SELECT country, -count(*) FROM removed GROUP BY country ORDER BY country
        ON CONFLICT (country) DO UPDATE SET n = kept.n + EXCLUDED.n;
    ELSE
        -- An update changes a count only when it moves a code to another country.
        INSERT INTO shtc_port_country_count AS kept (country, n)
        SELECT country, sum(change) FROM (
            SELECT country, 1 AS change FROM added
            UNION ALL SELECT country, -1 FROM removed) AS changes
        GROUP BY country HAVING sum(change) <> 0 ORDER BY country
        ON CONFLICT (country) DO UPDATE SET n = kept.n + EXCLUDED.n;
    END IF;
    RETURN NULL;
END
$$;

CREATE TRIGGER shtc_port_count_insert AFTER INSERT ON shtc_port
    REFERENCING NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION shtc_port_country_count_change();
CREATE TRIGGER shtc_port_count_delete AFTER DELETE ON shtc_port
    REFERENCING OLD TABLE AS removed
    FOR EACH STATEMENT EXECUTE FUNCTION shtc_port_country_count_change();
CREATE TRIGGER shtc_port_count_update AFTER UPDATE ON shtc_port
    REFERENCING OLD TABLE AS removed NEW TABLE AS added
    FOR EACH STATEMENT EXECUTE FUNCTION shtc_port_country_count_change();
CREATE TRIGGER shtc_port_count_truncate AFTER TRUNCATE ON shtc_port
    FOR EACH STATEMENT EXECUTE FUNCTION shtc_port_country_count_change();

INSERT INTO shtc_port_country_count (country, n)
SELECT country, count(*) FROM shtc_port GROUP BY country;
"""

DROP = """
DROP TRIGGER shtc_port_count_insert ON shtc_port;
DROP TRIGGER shtc_port_count_delete ON shtc_port;
DROP TRIGGER shtc_port_count_update ON shtc_port;
DROP TRIGGER shtc_port_count_truncate ON shtc_port;
DROP FUNCTION shtc_port_country_count_change();
DROP TABLE shtc_port_country_count;
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):

    dependencies = [
        ("shtc", "0010_risk_flags"),
    ]

    operations = [
        migrations.RunPython(create, drop),
    ]

"""The 轉口港代碼 look-up's page of codes read by its own SQL on PostgreSQL
(shtc.port_views.KEPT_COUNT_PAGE, issue 10, bench/README.md "Stop 26 (flow start and port
look-up)") gives the ORM's rows in the ORM's order and the country's kept count, from any
offset; and the table's names escaped in one call are each escaped as alone."""

import pytest
from django.db import connection

from portal.escaping import escaped, escaped_all
from shtc import port_views
from shtc.models import Port
from tests.shtc.test_port_counts import codes


@pytest.mark.django_db
@pytest.mark.skipif(connection.vendor != "postgresql", reason="the kept counts are PostgreSQL's")
@pytest.mark.parametrize("country", ["US", "TW", "QQ", "ZZ"])
def test_the_page_read_is_the_orms(country):
    codes("QQ", 450)  # three pages, the last of 50
    Port.objects.create(code="QQA&B", country="QQ", name='Fish & "Chips" <Bay>',
                        subdivision="X'", edition="test")
    ports = Port.objects.filter(country=country).order_by("code").values_list(
        "code", "name", "subdivision")
    count = ports.count()
    read = port_views._kept_count(country)
    for bottom in {0, 200, 400, max(count - 1, 0), count, 18_400}:
        expected = [(*row, count) for row in ports[bottom:bottom + port_views.PER_PAGE]]
        assert read(bottom) == expected, (country, bottom)


@pytest.mark.parametrize("texts", [
    [], ["Los Angeles", "CA"], ["", ""], ['A & B <"Co.">', "it's"],
    ["a\x00b", "&"], ["x", None], ["Zürich", "ZH", "高雄", "KHH"]])
def test_the_names_escaped_at_once_are_each_escaped(texts):
    assert escaped_all(texts) == [escaped(text) for text in texts]

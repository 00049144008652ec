"""The 轉口港代碼 look-up (SHTC-15; manual §2.2 item 4): letters A-Z → the country codes
starting with the letter → the country's five-character location codes; picking one goes
back to the page that opened the look-up with ?transit_port=CODE (static/shtc/
port_lookup.js fills the opener's field instead when it can)."""

from urllib.parse import parse_qs, urlsplit

import pytest
from django.urls import reverse

LOOKUP = reverse("shtc:port_lookup")


@pytest.fixture
def user_client(client, applicant):
    client.force_login(applicant)
    return client


def pick_links(response):
    return {port.code: port.pick_url for port in response.context["page"].object_list}


@pytest.mark.django_db
def test_it_asks_for_a_login(client):
    response = client.get(LOOKUP)
    assert response.status_code == 302
    assert urlsplit(response["Location"]).path == reverse("accounts:login")


@pytest.mark.django_db
def test_it_lists_the_26_letters(user_client):
    response = user_client.get(LOOKUP)
    assert [each["letter"] for each in response.context["letters"]] == \
        list("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    assert response.context["countries"] == [] and response.context["page"] is None


@pytest.mark.django_db
def test_it_lists_the_country_codes_of_a_letter(user_client):
    response = user_client.get(LOOKUP, {"letter": "A"})
    codes = [each["code"] for each in response.context["countries"]]
    assert codes[:2] == ["AE", "AF"]
    assert all(code.startswith("A") for code in codes) and codes == sorted(codes)
    assert "AD" not in codes  # no Andorran location in the seed
    names = {each["code"]: each["name"] for each in response.context["countries"]}
    assert names["AE"] == "阿拉伯聯合大公國"


@pytest.mark.django_db
def test_it_lists_us_under_u_and_its_codes_with_uslax(user_client):
    response = user_client.get(LOOKUP, {"letter": "U"})
    assert "US" in [each["code"] for each in response.context["countries"]]

    response = user_client.get(LOOKUP, {"country": "US"})
    assert response.context["letter"] == "U"
    assert response.context["page"].paginator.count > 18000
    first = [port.code for port in response.context["page"].object_list]
    assert len(first) == 200 and first == sorted(first)
    assert all(code.startswith("US") for code in first)

    response = user_client.get(LOOKUP, {"country": "US", "q": "LAX"})
    assert "USLAX" in pick_links(response)
    assert b"USLAX" in response.content


@pytest.mark.django_db
@pytest.mark.parametrize("code", ["SGSIN", "HKHKG", "TWKEL", "TWKHH", "TWTXG"])
def test_it_lists_the_locations_the_2015_snapshot_lacks(user_client, code):
    response = user_client.get(LOOKUP, {"letter": code[0]})
    assert code[:2] in [each["code"] for each in response.context["countries"]]
    response = user_client.get(LOOKUP, {"country": code[:2], "q": code})
    assert code in pick_links(response)


@pytest.mark.django_db
def test_it_finds_a_location_by_name(user_client):
    response = user_client.get(LOOKUP, {"country": "TW", "q": "kaohsiung"})
    assert list(pick_links(response)) == ["TWKHH"]


@pytest.mark.django_db
def test_it_links_a_code_back_to_the_page_that_opened_it(user_client):
    response = user_client.get(LOOKUP, {"country": "US", "q": "USLAX", "field": "id_transit_port",
                                        "next": "/shtc/applications/new/?step=basic"})
    url = pick_links(response)["USLAX"]
    parts = urlsplit(url)
    assert parts.path == "/shtc/applications/new/"
    assert parse_qs(parts.query) == {"step": ["basic"], "transit_port": ["USLAX"]}
    # The script finds the field to fill on the table.
    assert b'data-port-field="id_transit_port"' in response.content
    assert b'data-port-code="USLAX"' in response.content


@pytest.mark.django_db
def test_it_carries_the_field_and_the_page_through_every_step(user_client):
    response = user_client.get(LOOKUP, {"letter": "U", "field": "id_transit_port",
                                        "next": "/shtc/x/"})
    us = next(each for each in response.context["countries"] if each["code"] == "US")
    assert parse_qs(urlsplit(us["url"]).query) == {
        "field": ["id_transit_port"], "next": ["/shtc/x/"], "country": ["US"]}
    letter = response.context["letters"][0]
    assert parse_qs(urlsplit(letter["url"]).query)["next"] == ["/shtc/x/"]


@pytest.mark.django_db
@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x",
                                    "javascript:alert(1)", "shtc/x"])
def test_it_never_links_to_another_site(user_client, target):
    response = user_client.get(LOOKUP, {"country": "SG", "next": target})
    url = pick_links(response)["SGSIN"]
    assert url.startswith("?") and "evil" not in url and "javascript" not in url


@pytest.mark.django_db
def test_it_shows_the_code_picked_without_a_page_to_go_back_to(user_client):
    response = user_client.get(LOOKUP, {"country": "SG", "q": "SIN"})
    url = pick_links(response)["SGSIN"]
    response = user_client.get(LOOKUP + url)
    assert response.context["picked"].code == "SGSIN"
    assert b'data-testid="port-picked"' in response.content


@pytest.mark.django_db
def test_it_drops_a_field_id_that_is_not_one(user_client):
    response = user_client.get(LOOKUP, {"country": "SG", "field": '"><script>'})
    assert response.context["field"] == ""
    assert b"<script>" not in response.content.split(b"</main>")[0]


@pytest.mark.django_db
@pytest.mark.parametrize("params", [{"letter": "1"}, {"letter": "ü"}, {"country": "U"},
                                    {"country": "USA"}, {"country": "QQ"},
                                    {"country": "US", "page": "x"}, {"picked": "NOPE1"}])
def test_it_answers_odd_parameters_with_a_page(user_client, params):
    assert user_client.get(LOOKUP, params).status_code == 200


@pytest.mark.django_db
def test_it_pages_a_long_list(user_client):
    response = user_client.get(LOOKUP, {"country": "US", "page": "2"})
    assert response.context["page"].number == 2
    assert b"page=3" in response.content and b"country=US" in response.content


@pytest.mark.django_db
def test_it_loads_its_script_from_a_file(user_client):
    response = user_client.get(LOOKUP, {"country": "SG"})
    html = response.content.decode()
    assert '<script src="/static/shtc/port_lookup.js"></script>' in html
    assert "<script>" not in html and " style=" not in html

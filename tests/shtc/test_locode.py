"""Loading an official UN/LOCODE release (manage.py load_locode, shtc/locode.py): the
release's own CSV layout, idempotent, nothing of an unreadable file loaded."""

import pytest
from django.core.management import CommandError, call_command

from shtc.models import Port

# The release's layout: Ch, country, location, name, name without diacritics, subdivision,
# function, status, date, IATA, coordinates, remarks; no header; country headings and
# reference entries ("=") have no location code.
RELEASE = (
    ',"AD",,".ANDORRA",,,,,,,,\n'
    ',"AD","ALV","Andorra la Vella","Andorra la Vella","07","--34-6--","AI","0601",,'
    '"4230N 00131E",\n'
    '"=","AE","","Ruwais = Ar Ruways","Ruwais = Ar Ruways","",,"",,"","",""\n'
    ',"SE","GOT","Göteborg","Goteborg","O","1234----","AI","0001",,"5742N 01157E",\n'
    '"+","ZW","QA9","Quay, ""North"" Side","Quay, ""North"" Side",,"1-------","RL","2401",,,'
    '"a remark, quoted"\n'
    ',"ZW","Q10","No Subdivision Town","No Subdivision Town",,"--3-----","RQ","2401",,,\n'
)


def write(tmp_path, text, name="2024-2 UNLOCODE CodeListPart1.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def load(*paths, **options):
    call_command("load_locode", *[str(p) for p in paths], **options)


@pytest.mark.django_db
def test_it_loads_a_release_in_its_own_layout(tmp_path):
    before = Port.objects.count()
    load(write(tmp_path, RELEASE))

    andorra = Port.objects.get(code="ADALV")
    assert (andorra.country, andorra.name, andorra.subdivision, andorra.function,
            andorra.status, andorra.coordinates, andorra.edition) == (
        "AD", "Andorra la Vella", "07", "--34-6--", "AI", "4230N 00131E", "2024-2")
    assert Port.objects.get(code="ZWQA9").name == 'Quay, "North" Side'
    no_subdivision = Port.objects.get(code="ZWQ10")
    assert (no_subdivision.subdivision, no_subdivision.function) == ("", "--3-----")
    # A heading or a reference entry is not a location.
    assert not Port.objects.filter(name__in=[".ANDORRA", "Ruwais = Ar Ruways"]).exists()
    assert Port.objects.count() == before + 3  # SEGOT was in the seed


@pytest.mark.django_db
def test_it_keeps_the_diacritics_of_a_name(tmp_path):
    load(write(tmp_path, RELEASE))
    goteborg = Port.objects.get(code="SEGOT")
    assert (goteborg.name, goteborg.name_ascii, goteborg.function, goteborg.edition) == (
        "Göteborg", "Goteborg", "1234----", "2024-2")


@pytest.mark.django_db
def test_it_loads_a_release_twice_to_the_same_table(tmp_path, capsys):
    path = write(tmp_path, RELEASE)
    load(path)
    first = list(Port.objects.order_by("code").values())
    capsys.readouterr()

    load(path)

    assert list(Port.objects.order_by("code").values()) == first
    assert "0 added, 0 changed, 4 already on file" in capsys.readouterr().out


@pytest.mark.django_db
def test_it_updates_what_a_later_release_changed(tmp_path, capsys):
    load(write(tmp_path, RELEASE))
    later = RELEASE.replace("Andorra la Vella", "Andorra-la-Vella")
    capsys.readouterr()
    load(write(tmp_path, later, name="2025-1 UNLOCODE CodeListPart1.csv"))
    andorra = Port.objects.get(code="ADALV")
    assert (andorra.name, andorra.edition) == ("Andorra-la-Vella", "2025-1")
    assert Port.objects.get(code="SEGOT").edition == "2024-2"  # unchanged since
    assert "0 added, 1 changed, 3 already on file" in capsys.readouterr().out


@pytest.mark.django_db
def test_it_loads_several_parts_as_one_release(tmp_path):
    first, second = RELEASE.splitlines(keepends=True)[:2], RELEASE.splitlines(keepends=True)[2:]
    load(write(tmp_path, "".join(first), name="2024-2 UNLOCODE CodeListPart1.csv"),
         write(tmp_path, "".join(second), name="2024-2 UNLOCODE CodeListPart2.csv"))
    assert set(Port.objects.filter(edition="2024-2").values_list("code", flat=True)) == {
        "ADALV", "SEGOT", "ZWQA9", "ZWQ10"}


@pytest.mark.django_db
def test_it_reads_a_latin_1_file_when_told(tmp_path):
    path = write(tmp_path, RELEASE, encoding="iso-8859-1")
    with pytest.raises(CommandError, match="not UTF-8"):
        load(path)
    load(path, encoding="iso-8859-1")
    assert Port.objects.get(code="SEGOT").name == "Göteborg"


@pytest.mark.django_db
def test_it_loads_nothing_of_a_file_that_is_not_csv(tmp_path):
    broken = RELEASE + ',"ZW","QB2","Unterminated\n'
    before = Port.objects.count()
    with pytest.raises(CommandError, match="Line 7"):
        load(write(tmp_path, broken))
    assert Port.objects.count() == before
    assert not Port.objects.filter(code="ADALV").exists()


@pytest.mark.django_db
def test_it_skips_and_reports_rows_that_are_not_locations(tmp_path, capsys):
    text = RELEASE + ',"Z1","BAD","Bad country",,,,,,,,\n,"ZW","QB3",,,,,,,,,\n'
    load(write(tmp_path, text))
    out = capsys.readouterr().out
    assert "line 7: skipped" in out and "line 8: skipped" in out
    assert Port.objects.filter(code="ZWQA9").exists()
    assert not Port.objects.filter(code__in=["Z1BAD", "ZWQB3"]).exists()


@pytest.mark.django_db
def test_it_asks_for_the_edition_when_the_file_name_does_not_say_it(tmp_path):
    path = write(tmp_path, RELEASE, name="code-list.csv")
    with pytest.raises(CommandError, match="--edition"):
        load(path)
    load(path, edition="2024-2")
    assert Port.objects.get(code="ADALV").edition == "2024-2"

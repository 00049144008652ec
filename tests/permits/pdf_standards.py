"""Checks of a PDF against what PDF/UA-1 and PDF/A-3b ask that a program can check without
veraPDF (issue 15): poppler's pdfinfo and pdffonts, and the file's objects read back with
pikepdf. permits.pdf writes every document as both (permits.pdf.PDF_OPTIONS)."""

import re
import subprocess
from xml.etree import ElementTree

import pikepdf

from tests import services

XMP = {"pdfuaid": "http://www.aiim.org/pdfua/ns/id/",
       "pdfaid": "http://www.aiim.org/pdfa/ns/id/",
       "dc": "http://purl.org/dc/elements/1.1/",
       "pdf": "http://ns.adobe.com/pdf/1.3/",
       "rdf": "http://www.w3.org/1999/02/22-rdf-syntax-ns#",
       "pdfaSchema": "http://www.aiim.org/pdfa/ns/schema#"}


def pdfinfo(path):
    """pdfinfo's "Key: value" lines as a dict."""
    services.require_program("pdfinfo", "poppler-utils")
    output = subprocess.run(["pdfinfo", str(path)], check=True, capture_output=True,
                            text=True).stdout
    return dict(re.match(r"([^:]+):\s*(.*)", line).groups()
                for line in output.splitlines() if ":" in line)


def pdffonts_rows(path):
    """pdffonts' rows as (name, emb, sub, uni)."""
    services.require_program("pdffonts", "poppler-utils")
    output = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True,
                            text=True).stdout
    rows = [line.split() for line in output.splitlines()[2:] if line.strip()]
    return [(row[0], row[-5], row[-4], row[-3]) for row in rows]


def _xmp_values(root, name):
    """Every value of the property `prefix:name` in the packet: as an attribute of an
    rdf:Description (WeasyPrint's way) or as an element (ours, and dc:title's rdf:li)."""
    prefix, local = name.split(":")
    key = f"{{{XMP[prefix]}}}{local}"
    values = [element.attrib[key] for element in root.iter() if key in element.attrib]
    for element in root.iter(key):
        items = list(element.iter(f"{{{XMP['rdf']}}}li"))
        values += [item.text for item in items] if items else [element.text]
    return values


def structure(pdf):
    """The structure tree in reading order: (type, element) pairs, depth first."""
    def walk(element):
        kids = element.get("/K")
        if kids is None:
            return
        for kid in kids if isinstance(kids, pikepdf.Array) else [kids]:
            if isinstance(kid, pikepdf.Dictionary) and "/S" in kid:
                yield str(kid.S)[1:], kid
                yield from walk(kid)

    yield from walk(pdf.Root.StructTreeRoot)


def check_accessible_and_archival(path, *, title, lang):
    """Assert what PDF/UA-1 and PDF/A-3b need of `path` (a real file), with `title` its
    document title and `lang` the start of its /Lang; returns the structure types in
    reading order for the caller's own checks."""
    info = pdfinfo(path)
    # pdfinfo: what issue 15 names.
    assert info["Tagged"] == "yes", info
    assert info.get("Metadata Stream") == "yes", info
    assert info["Title"] == title, info
    assert info["PDF version"] == "1.7", info
    # Fonts: every one embedded (both standards), subset, with a ToUnicode map (UA: text
    # that can be read out).
    fonts = pdffonts_rows(path)
    assert fonts and all(row[1:] == ("yes", "yes", "yes") for row in fonts), fonts
    with pikepdf.open(path) as pdf:
        root = pdf.Root
        # PDF/UA-1 (ISO 14289-1, 7.1, 7.2, 7.18): tagged, marked, its language, its title
        # shown as the window's title.
        assert "/StructTreeRoot" in root and len(root.StructTreeRoot.K) > 0
        assert bool(root.MarkInfo.Marked) is True
        assert str(root.Lang).startswith(lang), str(root.Lang)
        assert bool(root.ViewerPreferences.DisplayDocTitle) is True
        assert str(pdf.docinfo["/Title"]) == title
        # Every page's annotations in structure order (Tabs /S).
        assert all(str(page.obj.get("/Tabs")) == "/S" for page in pdf.pages)
        types = list(structure(pdf))
        # Every figure has alternate text (7.3).
        figures = [element for kind, element in types if kind == "Figure"]
        assert all(str(figure.get("/Alt", "")).strip() for figure in figures), figures
        # PDF/A-3b (ISO 19005-3, 6.2.3, 6.1.3, 6.6): an sRGB output intent with its ICC
        # profile, a file identifier, and the XMP packet.
        intents = root.OutputIntents
        assert len(intents) == 1 and str(intents[0].S) == "/GTS_PDFA1"
        assert int(intents[0].DestOutputProfile.N) == 3
        assert len(pdf.trailer.ID) == 2
        assert "/Encrypt" not in pdf.trailer
        # No image asks to be interpolated (6.2.8), no JavaScript (6.6.1), no embedded file
        # without its relationship (6.8).
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Stream) and obj.get("/Subtype") == "/Image":
                assert not bool(obj.get("/Interpolate", False)), obj.objgen
        assert "/Names" not in root or "/JavaScript" not in root.Names
        assert "/AF" not in root or all("/AFRelationship" in spec for spec in root.AF)
        packet = root.Metadata.read_bytes()
        # The packet the test's own rendering wrote, not untrusted input.
        xmp = ElementTree.fromstring(packet[packet.index(b"<x:xmpmeta"):  # noqa: S314
                                            packet.rindex(b"</x:xmpmeta>") + 12])
        assert _xmp_values(xmp, "pdfuaid:part") == ["1"]
        assert _xmp_values(xmp, "pdfaid:part") == ["3"]
        assert _xmp_values(xmp, "pdfaid:conformance") == ["B"]
        # The XMP says what the document information says (PDF/A 6.6.3).
        assert _xmp_values(xmp, "dc:title") == [title]
        assert _xmp_values(xmp, "pdf:Producer") == [str(pdf.docinfo["/Producer"])]
        # pdfuaid is not one of PDF/A's own schemas: the packet declares it (6.6.2.3.2).
        assert _xmp_values(xmp, "pdfaSchema:namespaceURI") == [XMP["pdfuaid"]]
        # pikepdf's own reading of the packet agrees.
        meta = pdf.open_metadata()
        assert meta.pdfa_status == "3B"
        assert meta.get("pdfuaid:part") == "1"
    return [kind for kind, _element in types]

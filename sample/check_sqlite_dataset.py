#!/usr/bin/env python3
"""Checks that sample/dataset.sqlite.sql loads exactly the rows of sample/dataset.sql.

A developer tool, not part of the test suite. It

1. loads dataset.sqlite.sql into a temporary SQLite file with Python's sqlite3 module
   (executescript);
2. creates a scratch PostgreSQL database, loads dataset.sql into it with psql
   (``-v anchor_date=2026-05-31``), and drops it again at the end (unless ``--keep``);
3. compares the two: the columns, indexes and foreign keys of the five tables, then every
   row of every table by id -- integers and texts exactly, dates as 'YYYY-MM-DD',
   timestamps as 'YYYY-MM-DD HH:MM:SS' (PostgreSQL's rendered with to_char), numbers to
   1e-9 relative, events.properties as parsed JSON;
4. checks the known answers of the scripts' headers on SQLite.

Run from the repository root (needs python3, psql and createdb/dropdb on PATH, and a
PostgreSQL server that lets the user create databases):

    python3 sample/check_sqlite_dataset.py
    python3 sample/check_sqlite_dataset.py --host 127.0.0.1 --port 5432 --user postgres \
        --db prismiq_sample_check --keep

Exit status 0 when everything is identical, 1 otherwise.
"""

import argparse
import json
import math
import os
import pathlib
import re
import sqlite3
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
PG_SCRIPT = HERE / "dataset.sql"
SQLITE_SCRIPT = HERE / "dataset.sqlite.sql"
ANCHOR_DATE = "2026-05-31"

# Column kinds: "int", "text", "date", "timestamp", "num" (DECIMAL), "json".
TABLES = {
    "customers": [("id", "int"), ("name", "text"), ("email", "text"), ("region", "text"),
                  ("tier", "text"), ("created_at", "timestamp")],
    "products": [("id", "int"), ("name", "text"), ("category", "text"), ("price", "num"),
                 ("cost", "num"), ("stock_quantity", "int")],
    "orders": [("id", "int"), ("customer_id", "int"), ("order_date", "date"),
               ("status", "text"), ("total_amount", "num"), ("shipping_address", "text")],
    "order_items": [("id", "int"), ("order_id", "int"), ("product_id", "int"),
                    ("quantity", "int"), ("unit_price", "num")],
    "events": [("id", "int"), ("event_type", "text"), ("user_id", "int"),
               ("timestamp", "timestamp"), ("properties", "json")],
}

KNOWN_TOTAL = 3466086.72
KNOWN_REGIONS = {"East": 1092395.68, "North": 546612.82, "South": 825810.04,
                 "West": 248526.12, None: 54508.9}

REL_TOL = 1e-9


class Pg:
    """Runs SQL through psql (no Python driver needed)."""

    def __init__(self, args):
        self.base = ["-X", "-v", "ON_ERROR_STOP=1", "-h", args.host, "-p", str(args.port),
                     "-U", args.user]
        self.conn = ["-h", args.host, "-p", str(args.port), "-U", args.user]
        self.db = args.db

    def createdb(self):
        subprocess.run(["dropdb", "--if-exists", *self.conn, self.db], check=True)
        subprocess.run(["createdb", *self.conn, self.db], check=True)

    def dropdb(self):
        subprocess.run(["dropdb", "--if-exists", *self.conn, self.db], check=True)

    def load(self):
        subprocess.run(["psql", *self.base, "-q", "-d", self.db, "-v",
                        f"anchor_date={ANCHOR_DATE}", "-f", str(PG_SCRIPT)],
                       check=True, stdout=subprocess.DEVNULL)

    def json(self, sql):
        """The JSON value of a query returning one json column in one row."""
        out = subprocess.run(["psql", *self.base, "-d", self.db, "-A", "-t", "-c", sql],
                             check=True, capture_output=True, text=True).stdout
        return json.loads(out)


def pg_select(kind, col):
    quoted = f'"{col}"'
    if kind == "timestamp":
        return f"to_char({quoted}, 'YYYY-MM-DD HH24:MI:SS') AS {quoted}"
    if kind == "date":
        return f"to_char({quoted}, 'YYYY-MM-DD') AS {quoted}"
    return quoted


def pg_rows(pg, table, cols):
    select = ", ".join(pg_select(kind, col) for col, kind in cols)
    names = [col for col, _ in cols]
    array = ", ".join(f'"{n}"' for n in names)
    data = pg.json(f"SELECT coalesce(json_agg(json_build_array({array}) ORDER BY id), '[]') "
                   f"FROM (SELECT {select} FROM {table}) t")
    return [tuple(r) for r in data]


def sqlite_rows(db, table, cols):
    names = ", ".join(f'"{col}"' for col, _ in cols)
    return db.execute(f"SELECT {names} FROM {table} ORDER BY id").fetchall()


DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
TS_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$")


def same(kind, pg_value, sqlite_value):
    """Whether one PostgreSQL value and one SQLite value are the same datum."""
    if pg_value is None or sqlite_value is None:
        return pg_value is None and sqlite_value is None
    if kind == "int":
        return isinstance(sqlite_value, int) and sqlite_value == pg_value
    if kind == "text":
        return isinstance(sqlite_value, str) and sqlite_value == pg_value
    if kind == "date":
        return isinstance(sqlite_value, str) and DATE_RE.match(sqlite_value) is not None \
            and sqlite_value == pg_value
    if kind == "timestamp":
        return isinstance(sqlite_value, str) and TS_RE.match(sqlite_value) is not None \
            and sqlite_value == pg_value
    if kind == "num":
        if not isinstance(sqlite_value, (int, float)):
            return False
        return math.isclose(float(pg_value), float(sqlite_value), rel_tol=REL_TOL, abs_tol=0.0)
    if kind == "json":
        if not isinstance(sqlite_value, str):
            return False
        parsed = json.loads(sqlite_value)
        return isinstance(parsed, dict) and parsed == pg_value
    raise ValueError(kind)


def compare_schema(pg, db):
    problems = []
    for table, cols in TABLES.items():
        pg_cols = pg.json("SELECT json_agg(column_name::text ORDER BY ordinal_position) "
                          "FROM information_schema.columns "
                          f"WHERE table_schema = 'public' AND table_name = '{table}'")
        lite_cols = [r[1] for r in db.execute(f"PRAGMA table_info({table})")]
        expected = [c for c, _ in cols]
        if pg_cols != expected or lite_cols != expected:
            problems.append(f"{table}: columns pg={pg_cols} sqlite={lite_cols}")
    pg_idx = set(pg.json("SELECT json_agg(indexname::text) FROM pg_indexes "
                         "WHERE schemaname = 'public' AND indexname LIKE 'idx_%' AND tablename IN "
                         "('customers','products','orders','order_items','events')"))
    lite_idx = {r[0] for r in db.execute(
        "SELECT name FROM sqlite_master WHERE type = 'index' AND name LIKE 'idx_%'")}
    if pg_idx != lite_idx:
        problems.append(f"indexes pg={sorted(pg_idx)} sqlite={sorted(lite_idx)}")
    pg_fk = pg.json(
        "SELECT json_agg(json_build_array(tc.table_name, kcu.column_name, ccu.table_name, "
        "ccu.column_name, rc.delete_rule)) FROM information_schema.table_constraints tc "
        "JOIN information_schema.key_column_usage kcu ON kcu.constraint_name = tc.constraint_name "
        "JOIN information_schema.constraint_column_usage ccu "
        "ON ccu.constraint_name = tc.constraint_name "
        "JOIN information_schema.referential_constraints rc "
        "ON rc.constraint_name = tc.constraint_name "
        "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = 'public'")
    pg_fk = {tuple(r) for r in pg_fk if r[0] in TABLES}
    lite_fk = set()
    for table in TABLES:
        for r in db.execute(f"PRAGMA foreign_key_list({table})"):
            # (id, seq, table, from, to, on_update, on_delete, match)
            lite_fk.add((table, r[3], r[2], r[4], r[6]))
    if pg_fk != lite_fk:
        problems.append(f"foreign keys pg={sorted(pg_fk)} sqlite={sorted(lite_fk)}")
    return problems


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default=os.environ.get("PGHOST", "127.0.0.1"))
    parser.add_argument("--port", default=os.environ.get("PGPORT", "5432"))
    parser.add_argument("--user", default=os.environ.get("PGUSER", "postgres"))
    parser.add_argument("--db", default="prismiq_sample_check",
                        help="scratch database, dropped and recreated (default %(default)s)")
    parser.add_argument("--keep", action="store_true",
                        help="keep the scratch database and print the SQLite file's path")
    args = parser.parse_args()

    tmp = tempfile.NamedTemporaryFile(prefix="prismiq_sample_", suffix=".sqlite", delete=False)
    tmp.close()
    db = sqlite3.connect(tmp.name)
    db.execute("PRAGMA foreign_keys = ON")
    db.executescript(SQLITE_SCRIPT.read_text())
    # Loading twice must give the same result (the script is idempotent).
    db.executescript(SQLITE_SCRIPT.read_text())
    fk_violations = db.execute("PRAGMA foreign_key_check").fetchall()

    pg = Pg(args)
    pg.createdb()
    failures = 0
    try:
        pg.load()
        problems = compare_schema(pg, db)
        if fk_violations:
            problems.append(f"sqlite foreign_key_check: {fk_violations[:5]}")
        for p in problems:
            print("SCHEMA MISMATCH:", p)
        failures += len(problems)

        for table, cols in TABLES.items():
            a = pg_rows(pg, table, cols)
            b = sqlite_rows(db, table, cols)
            mismatches = 0
            if len(a) != len(b):
                print(f"{table}: row counts differ: pg={len(a)} sqlite={len(b)}")
                mismatches += 1
            for ra, rb in zip(a, b):
                for (col, kind), va, vb in zip(cols, ra, rb):
                    if not same(kind, va, vb):
                        mismatches += 1
                        if mismatches <= 10:
                            print(f"{table} id={ra[0]} {col}: pg={va!r} sqlite={vb!r}")
            print(f"{table:12} pg rows={len(a):5}  sqlite rows={len(b):5}  mismatches={mismatches}")
            failures += mismatches
    finally:
        if args.keep:
            print(f"kept PostgreSQL database {args.db} and SQLite file {tmp.name}")
        else:
            pg.dropdb()

    total = db.execute("SELECT sum(total_amount) FROM orders").fetchone()[0]
    print(f"SQLite SUM(orders.total_amount) = {total!r} (known {KNOWN_TOTAL})")
    if not math.isclose(total, KNOWN_TOTAL, rel_tol=REL_TOL):
        failures += 1
        print("KNOWN ANSWER MISMATCH: total")
    regions = dict(db.execute(
        "SELECT c.region, sum(o.total_amount) FROM orders o "
        "JOIN customers c ON c.id = o.customer_id "
        "WHERE o.status = 'completed' GROUP BY c.region").fetchall())
    for region, known in KNOWN_REGIONS.items():
        got = regions.get(region)
        ok = got is not None and math.isclose(got, known, rel_tol=REL_TOL)
        print(f"SQLite completed revenue {region!s:5} = {got!r} (known {known})"
              + ("" if ok else "  MISMATCH"))
        failures += 0 if ok else 1
    if set(regions) != set(KNOWN_REGIONS):
        failures += 1
        print(f"KNOWN ANSWER MISMATCH: regions {sorted(map(str, regions))}")

    db.close()
    if not args.keep:
        os.unlink(tmp.name)
    print("OK: identical" if failures == 0 else f"FAILED: {failures} mismatch(es)")
    return 0 if failures == 0 else 1


if __name__ == "__main__":
    sys.exit(main())

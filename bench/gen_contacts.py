"""Generate a large contacts CSV (12 columns, ~150 bytes a record) with 1% bad records, fast.

Writes into bench/data/ (git-ignored):
  contacts-N.csv          the dirty file: every kind of bad record, spread across the file
  contacts-N-clean.csv    the same without the bad records (what a correct import keeps)
  contacts-N.json         sidecar: count, record numbers and line numbers of each kind of bad record
  contacts-N-import.yaml  the import job (columns as in examples/contacts-import.yaml)

Run: python bench/gen_contacts.py [N] [--force]
Vectorised with NumPy and Polars: a chunk of records is built column by column, never row by row.
Deterministic: the same N gives the same files.
"""

from __future__ import annotations

import argparse
import json
import time
import unicodedata
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import yaml

HERE = Path(__file__).resolve().parent
DATA = HERE / "data"
EXAMPLE_JOB = HERE.parent / "examples" / "contacts-import.yaml"
GENERATOR_VERSION = 1  # bump when the output changes, so old files get regenerated
SEED = 20240517
CHUNK = 500_000
BAD_SHARE = 0.01
HEADER = "id,first_name,last_name,email,phone,city,country,birth_date,signup_ts,score,is_active,notes"

# kind -> the reject reason impex should give it
BAD_KINDS: dict[str, str] = {
    "non_integer_id": "type_error",
    "impossible_date": "type_error",
    "email_too_long": "too_long",
    "missing_last_name": "missing_required",
    "field_too_few": "wrong_field_count",
    "duplicate_id": "double",
}
KIND_NAMES = list(BAD_KINDS)

FIRST_NAMES = [
    "Emma",
    "Liam",
    "Olivia",
    "Noah",
    "Ava",
    "Lucas",
    "Mia",
    "Hugo",
    "Léa",
    "Chloé",
    "Jules",
    "Zoé",
    "Mateo",
    "Sofia",
    "Lukas",
    "Jana",
    "Finn",
    "Marta",
    "Pedro",
    "Inês",
    "Giulia",
    "Marco",
    "Anna",
    "Jonas",
    "Sara",
    "Omar",
    "Aisha",
    "Yuki",
    "Kenji",
    "Priya",
    "Arjun",
    "Nora",
    "Elias",
    "Maja",
    "Björn",
    "Ingrid",
    "Tomás",
    "Lucía",
    "Camille",
    "Théo",
    "Wei",
    "Mei",
    "David",
    "Rachel",
    "Ian",
    "Charlotte",
    "Alexander",
    "Isabella",
    "Sebastian",
    "Valentina",
    "Maximilian",
    "Francesca",
]
LAST_NAMES = [
    "Smith",
    "Johnson",
    "Martin",
    "Bernard",
    "Dubois",
    "Müller",
    "Schmidt",
    "Rossi",
    "Russo",
    "García",
    "Fernández",
    "Silva",
    "Santos",
    "Kowalski",
    "Nowak",
    "Jensen",
    "Nielsen",
    "Andersson",
    "Berg",
    "O'Brien",
    "Murphy",
    "Tanaka",
    "Sato",
    "Kim",
    "Lee",
    "Nguyen",
    "Patel",
    "Singh",
    "Cohen",
    "Levi",
    "van Dijk",
    "de Vries",
    "Janssens",
    "Peeters",
    "Novák",
    "Horvat",
    "Popescu",
    "Ionescu",
    "Brown",
    "Richardson",
    "Montgomery",
    "Wojciechowski",
    "Castellanos",
    "Lindqvist",
    "Papadopoulos",
]
CITIES = [  # (city, country, phone prefix)
    ("Paris", "FR", "+33"),
    ("Lyon", "FR", "+33"),
    ("Berlin", "DE", "+49"),
    ("München", "DE", "+49"),
    ("Madrid", "ES", "+34"),
    ("Sevilla", "ES", "+34"),
    ("Roma", "IT", "+39"),
    ("Milano", "IT", "+39"),
    ("Lisboa", "PT", "+351"),
    ("Amsterdam", "NL", "+31"),
    ("Brussels", "BE", "+32"),
    ("Warszawa", "PL", "+48"),
    ("København", "DK", "+45"),
    ("Stockholm", "SE", "+46"),
    ("Dublin", "IE", "+353"),
    ("London", "GB", "+44"),
    ("New York", "US", "+1"),
    ("Austin", "US", "+1"),
    ("Toronto", "CA", "+1"),
    ("Tokyo", "JP", "+81"),
    ("Seoul", "KR", "+82"),
    ("Mumbai", "IN", "+91"),
    ("Rio de Janeiro", "BR", "+55"),
    ("Ciudad de México", "MX", "+52"),
    ("Saint-Étienne", "FR", "+33"),
]
DOMAINS = ["example.com", "example.org", "mail.example.net", "post.example.eu", "customers.example.io"]
NOTES = [  # plain text; quoted for CSV below
    "",
    "",
    "",
    "VIP customer since the first campaign",
    "prefers email over phone calls",
    "met at the 2023 trade fair in the north hall",
    "call back after 6pm, not before",  # a comma: the field is quoted
    "moved last spring, new address pending",
    'said "maybe later" about the premium plan',  # quotes inside: doubled in the file
    "first contact by phone\nfollow-up letter sent",  # a quoted line break
    "newsletter: yes; invoices: paper",
    "asked for a discount on the yearly subscription",
]
IMPOSSIBLE_DATES = ["2023-02-30", "2022-04-31", "2021-02-29", "1999-13-01"]


@dataclass(frozen=True)
class Paths:
    dirty: Path
    clean: Path
    sidecar: Path
    job: Path


def paths_for(rows: int, folder: Path = DATA) -> Paths:
    stem = f"contacts-{rows}"
    return Paths(
        folder / f"{stem}.csv",
        folder / f"{stem}-clean.csv",
        folder / f"{stem}.json",
        folder / f"{stem}-import.yaml",
    )


def csv_field(text: str) -> str:
    if any(ch in text for ch in ',"\n\r'):
        return '"' + text.replace('"', '""') + '"'
    return text


def ascii_lower(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


@dataclass(frozen=True)
class Plan:
    """Which records are bad, how, and (for duplicates) whose id they copy. 0-based record indices."""

    rows: int
    bad_at: np.ndarray
    kinds: np.ndarray  # index into KIND_NAMES, aligned with bad_at
    dup_source: np.ndarray  # for each bad record: the earlier good record whose id a duplicate takes, else -1


def plan_bad_records(rows: int, rng: np.random.Generator) -> Plan:
    count = int(rows * BAD_SHARE)
    first = min(10, rows // 2)  # the first records stay good: a file opens the usual way
    bad_at = np.sort(rng.choice(np.arange(first, rows), size=count, replace=False))
    kinds = rng.permutation(np.arange(count) % len(KIND_NAMES))
    good = np.ones(rows, dtype=bool)
    good[bad_at] = False
    good_idx = np.flatnonzero(good)
    good_before = np.searchsorted(good_idx, bad_at)  # >= 1: the first records are good
    # Half of the duplicates copy the nearest good record (same chunk), half any earlier one
    # (often in an earlier chunk, to test doubles across chunks).
    nearest = good_before - 1
    anywhere = (rng.random(count) * good_before).astype(np.int64)
    pick = np.where(rng.random(count) < 0.5, nearest, anywhere)
    is_dup = kinds == KIND_NAMES.index("duplicate_id")
    dup_source = np.where(is_dup, good_idx[pick], -1)
    return Plan(rows, bad_at, kinds, dup_source)


def _vocab(values: list[str]) -> pl.Series:
    return pl.Series(values, dtype=pl.String)


FIRST = _vocab(FIRST_NAMES)
LAST = _vocab(LAST_NAMES)
FIRST_ASCII = _vocab([ascii_lower(n) for n in FIRST_NAMES])
LAST_ASCII = _vocab([ascii_lower(n) for n in LAST_NAMES])
CITY = _vocab([c for c, _, _ in CITIES])
COUNTRY = _vocab([k for _, k, _ in CITIES])
PREFIX = _vocab([p for _, _, p in CITIES])
DOMAIN = _vocab(DOMAINS)
NOTE = _vocab([csv_field(n) for n in NOTES])
NOTE_LINES = np.array([n.count("\n") for n in NOTES], dtype=np.int64)


def _strings(values: np.ndarray) -> pl.Series:
    return pl.Series(values.astype(object), dtype=pl.String)


def good_fields(start: int, n: int, rng: np.random.Generator) -> dict[str, pl.Series]:
    """The 12 fields (already CSV-quoted where needed) of records start..start+n, all good."""
    fi = rng.integers(0, len(FIRST), n)
    li = rng.integers(0, len(LAST), n)
    ci = rng.integers(0, len(CITY), n)
    di = rng.integers(0, len(DOMAIN), n)
    ni = rng.integers(0, len(NOTE), n)
    num = pl.Series(rng.integers(1, 1000, n)).cast(pl.String)
    phone = (
        pl.DataFrame(
            {
                "p": PREFIX.gather(ci),
                "a": pl.Series(rng.integers(100, 1000, n)).cast(pl.String),
                "b": pl.Series(rng.integers(100_000, 1_000_000, n)).cast(pl.String),
            }
        )
        .select(pl.concat_str("p", "a", "b", separator=" "))
        .to_series()
    )
    phone = _strings(np.where(rng.random(n) < 0.08, "", phone.to_numpy()))
    email = (
        pl.DataFrame(
            {
                "f": FIRST_ASCII.gather(fi),
                "l": LAST_ASCII.gather(li),
                "n": num,
                "d": DOMAIN.gather(di),
            }
        )
        .select(pl.concat_str("f", pl.lit("."), "l", "n", pl.lit("@"), "d"))
        .to_series()
    )
    birth = pl.Series(rng.integers(-10_957, 13_149, n), dtype=pl.Int32).cast(pl.Date)  # 1940..2005
    signup = pl.Series(rng.integers(1_420_070_400, 1_735_689_600, n) * 1_000_000).cast(pl.Datetime("us"))
    cents = rng.integers(0, 10_001, n)
    score = (
        pl.DataFrame({"i": cents // 100, "f": cents % 100})
        .select(
            pl.concat_str(pl.col("i").cast(pl.String), pl.lit("."), pl.col("f").cast(pl.String).str.zfill(2))
        )
        .to_series()
    )
    return {
        "id": pl.Series(np.arange(start + 1, start + n + 1)).cast(pl.String),
        "first_name": FIRST.gather(fi),
        "last_name": LAST.gather(li),
        "email": email,
        "phone": phone,
        "city": CITY.gather(ci),
        "country": COUNTRY.gather(ci),
        "birth_date": birth.dt.strftime("%Y-%m-%d"),
        "signup_ts": signup.dt.strftime("%Y-%m-%d %H:%M:%S"),
        "score": score,
        "is_active": _strings(np.where(rng.random(n) < 0.8, "true", "false")),
        "notes": NOTE.gather(ni),
        "_note_lines": pl.Series(NOTE_LINES[ni]),
    }


def _set(series: pl.Series, rows: np.ndarray, values: list[str]) -> pl.Series:
    if len(rows) == 0:
        return series
    return series.scatter(rows, pl.Series(values, dtype=pl.String))


def spoil(fields: dict[str, pl.Series], start: int, plan: Plan, rng: np.random.Generator) -> np.ndarray:
    """Give each bad record of this chunk its one defect; return a bool mask 'has all 12 fields'."""
    n = len(fields["id"])
    lo, hi = np.searchsorted(plan.bad_at, [start, start + n])
    local = plan.bad_at[lo:hi] - start
    kinds = plan.kinds[lo:hi]
    full = np.ones(n, dtype=bool)

    def of(kind: str) -> np.ndarray:
        return np.flatnonzero(kinds == KIND_NAMES.index(kind))

    k = of("non_integer_id")
    ids = fields["id"].gather(local[k]).to_list()
    forms = rng.integers(0, 3, len(k))
    bad_ids = [(f"{i}a", f"A{i}", f"{i}.5")[f] for i, f in zip(ids, forms, strict=True)]
    fields["id"] = _set(fields["id"], local[k], bad_ids)

    k = of("impossible_date")
    dates = [IMPOSSIBLE_DATES[i] for i in rng.integers(0, len(IMPOSSIBLE_DATES), len(k))]
    fields["birth_date"] = _set(fields["birth_date"], local[k], dates)

    k = of("email_too_long")
    long_local = "this.is.a.much.too.long.address.for.one.contact.record"
    emails = [f"{long_local}.{start + r + 1}@long-domain.example.com" for r in local[k]]
    fields["email"] = _set(fields["email"], local[k], emails)

    k = of("missing_last_name")
    fields["last_name"] = _set(fields["last_name"], local[k], [""] * len(k))

    k = of("duplicate_id")
    fields["id"] = _set(fields["id"], local[k], [str(s + 1) for s in plan.dup_source[lo:hi][k]])

    full[local[of("field_too_few")]] = False
    return full


def chunk_lines(fields: dict[str, pl.Series], full: np.ndarray) -> tuple[pl.Series, np.ndarray]:
    """Each record as one CSV line (the notes field dropped where the record is one field short),
    and how many physical lines each takes."""
    names = HEADER.split(",")
    frame = pl.DataFrame({name: fields[name] for name in names})
    eleven = pl.concat_str([pl.col(c) for c in names[:-1]], separator=",")
    line = frame.select(
        pl.when(pl.Series(full)).then(pl.concat_str(eleven, pl.lit(","), pl.col("notes"))).otherwise(eleven)
    ).to_series()
    physical = 1 + np.where(full, fields["_note_lines"].to_numpy(), 0)
    return line, physical


def _write(handle: Any, lines: pl.Series) -> None:
    # quote_style="never": each line is written as is (it is already CSV)
    pl.DataFrame({"line": lines}).write_csv(handle, include_header=False, quote_style="never")


def generate(rows: int, folder: Path = DATA, *, force: bool = False, quiet: bool = False) -> Paths:
    """Write the four files for ``rows`` records unless they are already there for this version."""
    paths = paths_for(rows, folder)
    if not force and _up_to_date(paths, rows):
        return paths
    folder.mkdir(parents=True, exist_ok=True)
    began = time.perf_counter()
    plan = plan_bad_records(rows, np.random.default_rng(SEED))
    line_of_bad = np.zeros(len(plan.bad_at), dtype=np.int64)
    next_line = 2  # the header is line 1
    with paths.dirty.open("wb") as dirty, paths.clean.open("wb") as clean:
        for out in (dirty, clean):
            out.write((HEADER + "\n").encode())
        for start in range(0, rows, CHUNK):
            n = min(CHUNK, rows - start)
            rng = np.random.default_rng([SEED, start // CHUNK])
            fields = good_fields(start, n, rng)
            full = spoil(fields, start, plan, rng)
            lines, physical = chunk_lines(fields, full)
            starts = next_line + np.concatenate(([0], np.cumsum(physical)[:-1]))
            lo, hi = np.searchsorted(plan.bad_at, [start, start + n])
            line_of_bad[lo:hi] = starts[plan.bad_at[lo:hi] - start]
            next_line += int(physical.sum())
            keep = np.ones(n, dtype=bool)
            keep[plan.bad_at[lo:hi] - start] = False
            _write(dirty, lines)
            _write(clean, lines.filter(pl.Series(keep)))
    _write_sidecar(paths, plan, line_of_bad)
    _write_job(paths)
    if not quiet:
        size = paths.dirty.stat().st_size
        print(
            f"generated {rows:,} records ({size / 1e6:,.0f} MB, {size / rows:.0f} bytes/record, "
            f"{len(plan.bad_at):,} bad) in {time.perf_counter() - began:.1f} s -> {paths.dirty.name}"
        )
    return paths


def _write_sidecar(paths: Paths, plan: Plan, line_of_bad: np.ndarray) -> None:
    kinds: dict[str, Any] = {}
    for i, kind in enumerate(KIND_NAMES):
        mine = plan.kinds == i
        kinds[kind] = {
            "reason": BAD_KINDS[kind],
            "count": int(mine.sum()),
            "record_no": (plan.bad_at[mine] + 1).tolist(),  # 1-based among data records
            "line_no": line_of_bad[mine].tolist(),  # physical line where the record starts
        }
    sidecar = {
        "generator_version": GENERATOR_VERSION,
        "rows": plan.rows,
        "bad_rows": len(plan.bad_at),
        "clean_rows": plan.rows - len(plan.bad_at),
        "dirty_file": paths.dirty.name,
        "clean_file": paths.clean.name,
        "job_file": paths.job.name,
        "kinds": kinds,
    }
    paths.sidecar.write_text(json.dumps(sidecar, indent=1) + "\n", encoding="utf-8")


def _write_job(paths: Paths) -> None:
    """The example's import job, pointed at this file (a relative source: it sits next to the job)."""
    job = yaml.safe_load(EXAMPLE_JOB.read_text(encoding="utf-8"))
    job["name"] = f"bench {paths.dirty.stem}"
    job["source"] = paths.dirty.name
    paths.job.write_text(yaml.safe_dump(job, sort_keys=False, allow_unicode=True), encoding="utf-8")


def _up_to_date(paths: Paths, rows: int) -> bool:
    if not all(p.exists() for p in (paths.dirty, paths.clean, paths.sidecar, paths.job)):
        return False
    try:
        sidecar = json.loads(paths.sidecar.read_text(encoding="utf-8"))
    except ValueError:
        return False
    return bool(sidecar.get("rows") == rows and sidecar.get("generator_version") == GENERATOR_VERSION)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("rows", type=int, nargs="?", default=1_000_000)
    parser.add_argument("--force", action="store_true", help="Regenerate even if the files are there.")
    args = parser.parse_args()
    paths = generate(args.rows, force=args.force)
    print(
        f"files in {paths.dirty.parent}: {paths.dirty.name}, {paths.clean.name}, "
        f"{paths.sidecar.name}, {paths.job.name}"
    )


if __name__ == "__main__":
    main()

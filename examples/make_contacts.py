"""Write examples/contacts.csv: 2,000 fake contacts, about 1% of them bad on purpose.

Standard library only and a fixed seed, so the file is the same on every machine.
Run: python examples/make_contacts.py  (prints the bad rows it planted, with their line numbers)
"""

from __future__ import annotations

import csv
import io
import random
import unicodedata
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROWS = 2_000
SEED = 20240517
HEADER = [
    "id", "first_name", "last_name", "email", "phone", "city", "country",
    "birth_date", "signup_ts", "score", "is_active", "notes",
]
EMAIL_MAX = 80  # the max_length declared in contacts-import.yaml

FIRST_NAMES = [
    "Emma", "Liam", "Olivia", "Noah", "Ava", "Lucas", "Mia", "Hugo", "Léa", "Chloé", "Jules", "Zoé",
    "Mateo", "Sofia", "Lukas", "Jana", "Finn", "Marta", "Pedro", "Inês", "Giulia", "Marco", "Anna",
    "Jonas", "Sara", "Omar", "Aisha", "Yuki", "Kenji", "Priya", "Arjun", "Nora", "Elias", "Maja",
    "Björn", "Ingrid", "Tomás", "Lucía", "Camille", "Théo", "Wei", "Mei", "David", "Rachel", "Ian",
]
LAST_NAMES = [
    "Smith", "Johnson", "Martin", "Bernard", "Dubois", "Müller", "Schmidt", "Rossi", "Russo", "García",
    "Fernández", "Silva", "Santos", "Kowalski", "Nowak", "Jensen", "Nielsen", "Andersson", "Berg",
    "O'Brien", "Murphy", "Tanaka", "Sato", "Kim", "Lee", "Nguyen", "Patel", "Singh", "Cohen", "Levi",
    "van Dijk", "de Vries", "Janssens", "Peeters", "Novák", "Horvat", "Popescu", "Ionescu", "Brown",
]
CITIES = [  # (city, country, phone prefix)
    ("Paris", "FR", "+33"), ("Lyon", "FR", "+33"), ("Berlin", "DE", "+49"), ("München", "DE", "+49"),
    ("Madrid", "ES", "+34"), ("Sevilla", "ES", "+34"), ("Roma", "IT", "+39"), ("Milano", "IT", "+39"),
    ("Lisboa", "PT", "+351"), ("Amsterdam", "NL", "+31"), ("Brussels", "BE", "+32"),
    ("Warszawa", "PL", "+48"), ("København", "DK", "+45"), ("Stockholm", "SE", "+46"),
    ("Dublin", "IE", "+353"), ("London", "GB", "+44"), ("New York", "US", "+1"), ("Austin", "US", "+1"),
    ("Toronto", "CA", "+1"), ("Tokyo", "JP", "+81"), ("Seoul", "KR", "+82"), ("Mumbai", "IN", "+91"),
]
DOMAINS = ["example.com", "example.org", "mail.example.net", "post.example.eu"]
NOTES = [
    "", "", "", "", "",
    "VIP customer",
    "prefers email",
    "met at the 2023 fair",
    "call back after 6pm, not before",  # a comma: the field is quoted
    "moved, new address pending",
    'said "maybe later"',  # quotes inside: doubled in the file
    "first line\nsecond line",  # a quoted line break
    "newsletter: yes",
]
BAD_KINDS = ["non_integer_id", "impossible_date", "email_too_long", "missing_last_name",
             "field_too_few", "duplicate_id"]


@dataclass
class Planted:
    kind: str
    record_no: int  # 1-based among the data records
    line_no: int  # physical line where the record starts (the header is line 1)


def ascii_lower(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(ch for ch in plain.lower() if ch.isalnum())


def good_row(rng: random.Random, row_id: int) -> list[str]:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    city, country, prefix = rng.choice(CITIES)
    phone = "" if rng.random() < 0.08 else f"{prefix} {rng.randint(100, 999)} {rng.randint(100000, 999999)}"
    birth = date(1940, 1, 1) + timedelta(days=rng.randrange(24_000))
    signup = datetime(2015, 1, 1) + timedelta(seconds=rng.randrange(300_000_000))
    email = f"{ascii_lower(first)}.{ascii_lower(last)}{rng.randint(1, 999)}@{rng.choice(DOMAINS)}"
    return [
        str(row_id), first, last, email, phone, city, country, birth.isoformat(),
        signup.strftime("%Y-%m-%d %H:%M:%S"), f"{rng.uniform(0, 100):.2f}",
        "true" if rng.random() < 0.8 else "false", rng.choice(NOTES),
    ]


def spoil(row: list[str], kind: str, earlier_good_id: int) -> list[str]:
    """Give a good row exactly one defect of the given kind."""
    row = list(row)
    if kind == "non_integer_id":
        row[0] = f"{row[0]}a"
    elif kind == "impossible_date":
        row[7] = "2023-02-30"
    elif kind == "email_too_long":
        local = "very.long.address.for.testing." * 3
        row[3] = f"{local}{row[0]}@example.com"
        assert len(row[3]) > EMAIL_MAX
    elif kind == "missing_last_name":
        row[2] = ""
    elif kind == "field_too_few":
        row = row[:-1]
    elif kind == "duplicate_id":
        row[0] = str(earlier_good_id)
    return row


def make(rows: int = ROWS, seed: int = SEED) -> tuple[str, list[Planted]]:
    rng = random.Random(seed)
    bad_at = sorted(rng.sample(range(10, rows), rows // 100))  # never among the first rows
    kinds = {record: BAD_KINDS[i % len(BAD_KINDS)] for i, record in enumerate(bad_at)}
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADER)
    planted: list[Planted] = []
    good_ids: list[int] = []
    line = 2
    for record_no in range(1, rows + 1):
        row = good_row(rng, record_no)
        kind = kinds.get(record_no)
        if kind is None:
            good_ids.append(record_no)
        else:
            row = spoil(row, kind, rng.choice(good_ids))
            planted.append(Planted(kind, record_no, line))
        writer.writerow(row)
        line += 1 + sum(field.count("\n") for field in row)
    return out.getvalue(), planted


def main() -> None:
    text, planted = make()
    target = HERE / "contacts.csv"
    target.write_text(text, encoding="utf-8")
    print(f"{target.name}: {ROWS} records, {len(text.encode()):,} bytes, {len(planted)} bad:")
    for p in planted:
        print(f"  record {p.record_no:>5}  line {p.line_no:>5}  {p.kind}")


if __name__ == "__main__":
    main()

"""Write the example input files next to this script (deterministic: the same bytes each run).

- ``emails.jsonl``: 3,000 logged sales emails with headers and associations (short form).
- ``postal_mail.csv``: 200 postal mail records with ``associate_contact``/``_company`` columns.
- ``communications.jsonl``: 300 SMS, WhatsApp and LinkedIn messages.

Associations point at contacts 601-630, companies 901-910 and deals 1201-1205, which the
CLI's ``--sandbox`` emulator seeds. Run: ``python examples/generate.py``.
"""

from __future__ import annotations

import csv
import json
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

HERE = Path(__file__).parent
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)
FIRST = ["Sam", "Jo", "Alex", "Priya", "Chen", "Maria", "Tom", "Aisha", "Lars", "Noor"]
LAST = ["Lee", "Garcia", "Okafor", "Schmidt", "Tanaka", "Rossi", "Dubois", "Khan"]
COMPANIES = ["Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Stark Industries",
             "Wayne Enterprises", "Soylent", "Vandelay", "Tyrell"]
TOPICS = ["pricing", "the renewal", "onboarding", "the security review", "the pilot",
          "next quarter's order", "the integration", "the contract"]
OPENERS = ["Follow-up", "Quick question", "Re", "Next steps", "Checking in", "Proposal"]


def stamp(rng: random.Random) -> str:
    when = START + timedelta(minutes=rng.randrange(0, 60 * 24 * 280))
    return when.strftime("%Y-%m-%dT%H:%M:00.000Z")


def emails(rng: random.Random, n: int = 3000) -> list[dict[str, object]]:
    rows = []
    for i in range(n):
        company = rng.choice(COMPANIES)
        topic = rng.choice(TOPICS)
        first, last = rng.choice(FIRST), rng.choice(LAST)
        to = f"{first.lower()}.{last.lower()}@{company.split()[0].lower()}.example"
        headers = {"from": {"email": "sam@ourco.example", "firstName": "Sam",
                            "lastName": "Lee"},
                   "to": [{"email": to, "firstName": first, "lastName": last}],
                   "cc": [], "bcc": []}
        direction = rng.choices(["EMAIL", "INCOMING_EMAIL", "FORWARDED_EMAIL"], [80, 17, 3])[0]
        assocs: list[dict[str, int]] = [{"contact": rng.randrange(601, 631)}]
        if rng.random() < 0.3:
            assocs.append({"company": rng.randrange(901, 911)})
        if rng.random() < 0.1:
            assocs.append({"deal": rng.randrange(1201, 1206)})
        rows.append({
            "properties": {
                "hs_timestamp": stamp(rng),
                "hs_email_direction": direction,
                "hs_email_status": rng.choices(["SENT", "BOUNCED", "FAILED"], [94, 4, 2])[0],
                "hs_email_subject": f"{rng.choice(OPENERS)}: {topic} for {company}",
                "hs_email_text": f"Hi {first}, thanks for your time on {topic}. "
                                 f"Could we talk again next week? (ref {i:04d})",
                "hs_email_headers": json.dumps(headers, separators=(",", ":")),
                # a unique-value custom property: `--id-property message_ref` upserts on it
                "message_ref": f"msg-{i:05d}",
            },
            "associations": assocs,
        })
    return rows


def postal_mail(rng: random.Random, n: int = 200) -> list[dict[str, object]]:
    return [{
        "hs_timestamp": stamp(rng),
        "hs_postal_mail_body": f"Sent printed brochure and price list to "
                               f"{rng.choice(COMPANIES)} (ref {i:04d})",
        "associate_contact": rng.randrange(601, 631),
        "associate_company": rng.randrange(901, 911) if rng.random() < 0.6 else "",
    } for i in range(n)]


def communications(rng: random.Random, n: int = 300) -> list[dict[str, object]]:
    texts = ["Confirmed the demo for Thursday", "Sent the updated quote",
             "Asked about delivery dates", "Shared the case study link"]
    return [{
        "properties": {
            "hs_timestamp": stamp(rng),
            "hs_communication_channel_type": rng.choice(["SMS", "WHATS_APP", "LINKEDIN_MESSAGE"]),
            "hs_communication_logged_from": "CRM",
            "hs_communication_body": f"{rng.choice(texts)} (ref {i:04d})",
        },
        "associations": [{"contact": rng.randrange(601, 631)}],
    } for i in range(n)]


def main() -> None:
    """Write the three files."""
    rng = random.Random(2026)
    with (HERE / "emails.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in emails(rng))
    rows = postal_mail(rng)
    with (HERE / "postal_mail.csv").open("w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    with (HERE / "communications.jsonl").open("w", encoding="utf-8") as f:
        f.writelines(json.dumps(r) + "\n" for r in communications(rng))


if __name__ == "__main__":
    main()

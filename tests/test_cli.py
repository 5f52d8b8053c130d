"""``hubengage import`` in-process and as real processes: formats, bad rows, dry runs, the
sandbox, exit codes, --id-property, and resuming after SIGINT and after SIGKILL against a
separately started emulator (one process for those tests, its store reset for each),
reconciled with the emulator's store."""

from __future__ import annotations

import contextlib
import csv
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hubengage._cli import main

TS = "2026-01-15T10:00:00.000Z"


def note_rows(n: int, *, key: bool = False) -> list[dict[str, Any]]:
    rows = []
    for i in range(n):
        props = {"hs_timestamp": TS, "hs_note_body": f"note {i}"}
        if key:
            props["external_id"] = f"ext-{i}"
        rows.append({"properties": props})
    return rows


def write_jsonl(path: Path, rows: list[Any]) -> Path:
    path.write_text("".join((r if isinstance(r, str) else json.dumps(r)) + "\n" for r in rows))
    return path


def journal(path: Path) -> list[dict[str, Any]]:
    out = []
    for line in path.read_text().splitlines():
        with contextlib.suppress(json.JSONDecodeError):  # a line cut short by SIGKILL
            out.append(json.loads(line))
    return out


def outcomes(entries: list[dict[str, Any]]) -> dict[int, str]:
    return {e["line"]: e["status"] for e in entries if "status" in e}


# -- in-process --------------------------------------------------------------------------------


def test_sandbox_jsonl_with_bad_rows(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows: list[Any] = [
        {"properties": {"hs_timestamp": TS, "hs_email_direction": "EMAIL",
                        "hs_email_subject": "a"}, "associations": [{"contact": 601}]},
        {"hs_timestamp": TS, "hs_email_direction": "SIDEWAYS"},
        "not json",
        {"properties": {"hs_timestamp": TS, "hs_email_direction": "EMAIL",
                        "hs_email_subject": "b"},
         "associations": [{"to": {"id": 602}, "types": [
             {"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 198}]}]},
        {"properties": {"hs_timestamp": TS, "hs_email_direction": "EMAIL", "nope": "x"}},
    ]
    src = write_jsonl(tmp_path / "emails.jsonl", rows)
    assert main(["import", str(src), "--object", "emails", "--sandbox"]) == 1
    out = capsys.readouterr().out
    assert "nothing leaves this machine" in out
    assert "the emulator stored emails: 2" in out
    assert "row 2: hs_email_direction" in out
    entries = outcomes(journal(tmp_path / "emails.jsonl.journal.jsonl"))
    assert entries == {1: "ok", 2: "failed", 3: "failed", 4: "ok", 5: "failed"}
    failed = next(e for e in journal(tmp_path / "emails.jsonl.journal.jsonl")
              if e.get("line") == 5 and "status" in e)
    assert failed["category"] == "VALIDATION_ERROR" and failed["correlation_id"]


def test_csv_with_association_columns(tmp_path: Path) -> None:
    src = tmp_path / "mail.csv"
    src.write_text("hs_timestamp,hs_postal_mail_body,associate_contact,associate_company\n"
                   f"{TS},brochure,601,901\n{TS},letter,602,\n,missing timestamp,603,\n")
    assert main(["import", str(src), "--object", "postal_mail", "--sandbox"]) == 1
    assert outcomes(journal(tmp_path / "mail.csv.journal.jsonl")) == {
        2: "ok", 3: "ok", 4: "failed"}


def test_all_good_rows_exit_0_and_dry_run(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    src = write_jsonl(tmp_path / "notes.jsonl", note_rows(5))
    assert main(["import", str(src), "--object", "0-46", "--dry-run"]) == 0
    assert "5 rows valid, 0 invalid; nothing was sent" in capsys.readouterr().out
    assert not (tmp_path / "notes.jsonl.journal.jsonl").exists()
    assert main(["import", str(src), "--object", "notes", "--sandbox"]) == 0


def test_usage_errors_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                             monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HUBSPOT_ACCESS_TOKEN", raising=False)
    src = write_jsonl(tmp_path / "notes.jsonl", note_rows(1))
    assert main(["import", str(src), "--object", "notes"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "HUBSPOT_ACCESS_TOKEN" in err and "--sandbox" in err
    assert main(["import", str(tmp_path / "missing.jsonl"), "--object", "notes"]) == 2
    with pytest.raises(SystemExit) as info:
        main(["import", str(src)])  # --object is required
    assert info.value.code == 2
    (tmp_path / "notes.jsonl.journal.jsonl").write_text("")
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "t")
    assert main(["import", str(src), "--object", "notes"]) == 2
    assert "--resume" in capsys.readouterr().err


def test_id_property_upserts(tmp_path: Path) -> None:
    rows = note_rows(3, key=True)
    rows.append({"properties": {"hs_timestamp": TS, "hs_note_body": "no key"}})
    src = write_jsonl(tmp_path / "notes.jsonl", rows)
    assert main(["import", str(src), "--object", "notes", "--sandbox",
                 "--id-property", "external_id"]) == 1
    assert outcomes(journal(tmp_path / "notes.jsonl.journal.jsonl")) == {
        1: "ok", 2: "ok", 3: "ok", 4: "failed"}


# -- real processes ----------------------------------------------------------------------------


class EmulatorProc:
    """``python -m hubengage.emulator`` in its own process: it outlives a killed import."""

    def __init__(self, *args: str) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "hubengage.emulator", "--port", "0", *args],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        self.url = line.removeprefix("listening on ")

    def notes(self) -> list[dict[str, Any]]:
        """Every stored note (paging through the list endpoint; the emulator has no limit)."""
        found: list[dict[str, Any]] = []
        after = ""
        while True:
            url = f"{self.url}/crm/v3/objects/notes?limit=100&properties=hs_note_body{after}"
            req = urllib.request.Request(url, headers={"Authorization": "Bearer reader"})
            try:
                with urllib.request.urlopen(req) as resp:
                    page = json.load(resp)
            except urllib.error.HTTPError as exc:  # a scaled-down window: wait it out
                exc.close()
                if exc.code != 429:
                    raise
                time.sleep(0.05)
                continue
            found += page["results"]
            nxt = page.get("paging", {}).get("next")
            if not nxt:
                return found
            after = f"&after={nxt['after']}"

    def reset(self) -> None:
        """Forget every record (``POST /__emulator__/reset``): a fresh store for a test."""
        req = urllib.request.Request(f"{self.url}/__emulator__/reset", method="POST")
        with urllib.request.urlopen(req) as resp:
            assert resp.status == 200

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGINT)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stdout is not None:
            self.proc.stdout.close()


#: The run that gets interrupted keeps to 2 requests (200 rows) per 250 ms: its first 200
#: rows are done at once, the rest take ~2 s more, so a signal sent once 200 outcomes are
#: journaled always lands mid-run. The emulator has no burst limit (``--burst 0``); it is
#: the client that goes slowly, and a resume (``RESUME_RATE``) does not have to.
INTERRUPTED_RATE = "2/250ms"
RESUME_RATE = "1000/1s"
ROWS = 2000


@pytest.fixture(scope="module")
def emulator_process() -> Iterator[EmulatorProc]:
    """One emulator process for the signal tests (each resets its store first)."""
    emu = EmulatorProc("--burst", "0", "--no-shuffle", "--unique", "notes.external_id")
    try:
        yield emu
    finally:
        emu.stop()


@pytest.fixture
def emulator(emulator_process: EmulatorProc) -> EmulatorProc:
    emulator_process.reset()
    return emulator_process


@contextlib.contextmanager
def killed_on_failure(procs: list[subprocess.Popen[str]]) -> Iterator[None]:
    """Kill the import processes a failing test leaves running (only those it started)."""
    try:
        yield
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()


def start_import(src: Path, url: str, *extra: str,
                 rate: str = INTERRUPTED_RATE) -> subprocess.Popen[str]:
    env = {**os.environ, "HUBSPOT_ACCESS_TOKEN": "t"}
    return subprocess.Popen(
        [sys.executable, "-m", "hubengage._cli", "import", str(src), "--object", "notes",
         "--base-url", url, "--rate", rate, *extra],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def wait_for_outcomes(path: Path, count: int, proc: subprocess.Popen[str]) -> None:
    """Return once the journal holds ``count`` outcomes: the event the test acts on."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if path.exists() and len(outcomes(journal(path))) >= count:
            return
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.005)  # poll the journal: the next line decides, not this interval
    raise AssertionError("the import made no progress")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["SIGINT", "SIGTERM"])
def test_interrupt_then_resume_sends_each_row_exactly_once(tmp_path: Path, how: str,
                                                          emulator: EmulatorProc) -> None:
    n = ROWS
    src = write_jsonl(tmp_path / "notes.jsonl", note_rows(n))
    jpath = tmp_path / "notes.jsonl.journal.jsonl"
    emu = emulator
    started: list[subprocess.Popen[str]] = []
    with killed_on_failure(started):
        proc = start_import(src, emu.url)
        started.append(proc)
        wait_for_outcomes(jpath, 200, proc)
        proc.send_signal(getattr(signal, how))
        out, err = proc.communicate(timeout=60)
        assert proc.returncode == 130, (out, err)
        first = outcomes(journal(jpath))
        assert 200 <= len(first) < n
        assert all(status == "ok" for status in first.values())
        sent = {e["line"] for e in journal(jpath) if e.get("event") == "sent"}
        assert sent == set(first), "in-flight batches were finished and journaled"

        proc = start_import(src, emu.url, "--resume", rate=RESUME_RATE)
        started.append(proc)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out, err)
        assert "unknown" not in out
        assert set(outcomes(journal(jpath))) == set(range(1, n + 1))
        bodies = Counter(r["properties"]["hs_note_body"] for r in emu.notes())
        assert bodies == Counter(f"note {i}" for i in range(n)), "none twice, none lost"


@pytest.mark.slow
@pytest.mark.parametrize("exactly_once", [False, True], ids=["create", "upsert"])
def test_hard_kill_then_resume_resends_only_unknown_rows(tmp_path: Path, exactly_once: bool,
                                                         emulator: EmulatorProc) -> None:
    n = ROWS
    src = write_jsonl(tmp_path / "notes.jsonl", note_rows(n, key=exactly_once))
    jpath = tmp_path / "notes.jsonl.journal.jsonl"
    extra = ["--id-property", "external_id"] if exactly_once else []
    emu = emulator
    started: list[subprocess.Popen[str]] = []
    with killed_on_failure(started):
        proc = start_import(src, emu.url, *extra)
        started.append(proc)
        wait_for_outcomes(jpath, 200, proc)
        proc.send_signal(signal.SIGKILL)
        proc.communicate(timeout=30)
        entries = journal(jpath)
        done = set(outcomes(entries))
        unknown = {e["line"] for e in entries if e.get("event") == "sent"} - done
        assert done and done.isdisjoint(unknown)

        proc = start_import(src, emu.url, "--resume", *extra, rate=RESUME_RATE)
        started.append(proc)
        out, err = proc.communicate(timeout=120)
        assert proc.returncode == 0, (out, err)
        if unknown:
            assert f"{len(unknown)} rows were in flight" in " ".join(out.split())
        assert set(outcomes(journal(jpath))) == set(range(1, n + 1))
        bodies = Counter(r["properties"]["hs_note_body"] for r in emu.notes())
        assert set(bodies) == {f"note {i}" for i in range(n)}, "none lost"
        twice = {body for body, count in bodies.items() if count > 1}
        if exactly_once:
            assert not twice
        else:  # only rows whose fate was unknown may have been written twice
            assert twice <= {f"note {line - 1}" for line in unknown}


# -- real-world input files and journals --------------------------------------------------------


def one_line_error(err: str) -> str:
    """The single ``error: ...`` line a usage error prints (and nothing else: no traceback)."""
    assert err.count("\n") == 1 and err.startswith("error: "), err
    return err.strip()


def test_csv_with_a_byte_order_mark(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "excel.csv"
    src.write_bytes(b"\xef\xbb\xbfhs_timestamp,hs_note_body\r\n"
                    + f"{TS},caf\u00e9\r\n{TS},second\r\n".encode())
    assert main(["import", str(src), "--object", "notes", "--sandbox"]) == 0
    assert "the emulator stored notes: 2" in capsys.readouterr().out
    assert outcomes(journal(tmp_path / "excel.csv.journal.jsonl")) == {2: "ok", 3: "ok"}


def test_encoding_option_and_files_that_do_not_decode(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "latin.csv"
    src.write_bytes(f"hs_timestamp,hs_note_body\n{TS},plain\n{TS},caf\u00e9\n".encode("latin-1"))
    jpath = tmp_path / "latin.csv.journal.jsonl"
    assert main(["import", str(src), "--object", "notes", "--sandbox"]) == 2
    captured = capsys.readouterr()
    err = one_line_error(captured.err)
    assert str(src) in err and "utf-8" in err and "line 3" in err and "--encoding" in err
    assert "nothing leaves" not in captured.out and not jpath.exists(), "nothing was sent"

    assert main(["import", str(src), "--object", "notes", "--encoding", "nosuch"]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert "--encoding" in err and "nosuch" in err
    assert main(["import", str(src), "--object", "notes", "--encoding", "base64"]) == 2
    assert "--encoding" in one_line_error(capsys.readouterr().err)

    assert main(["import", str(src), "--object", "notes", "--sandbox",
                 "--encoding", "latin-1"]) == 0
    assert outcomes(journal(jpath)) == {2: "ok", 3: "ok"}
    capsys.readouterr()

    # A bad byte at the very end: found before anything is sent, whatever the file's size.
    big = tmp_path / "big.jsonl"
    write_jsonl(big, note_rows(3000))
    with big.open("ab") as stream:
        stream.write(b'{"hs_timestamp": "' + TS.encode() + b'", "hs_note_body": "\xff"}\n')
    assert main(["import", str(big), "--object", "notes", "--sandbox"]) == 2
    captured = capsys.readouterr()
    err = one_line_error(captured.err)
    assert str(big) in err and "line 3001" in err and "0xff" in err
    assert not (tmp_path / "big.jsonl.journal.jsonl").exists()
    assert "nothing leaves" not in captured.out

    # --encoding applies to JSON Lines too.
    wide = tmp_path / "wide.jsonl"
    wide.write_bytes("".join(json.dumps(r, ensure_ascii=False) + "\n"
                             for r in note_rows(2)).encode("utf-16"))
    assert main(["import", str(wide), "--object", "notes", "--dry-run"]) == 2
    assert "--encoding" in one_line_error(capsys.readouterr().err)
    assert main(["import", str(wide), "--object", "notes", "--sandbox",
                 "--encoding", "utf-16"]) == 0


@pytest.mark.parametrize(("text", "expected"), [
    (f"{TS},first note\n{TS},second note\n",
     "the first row must be a header of property names; "
     "'2026-01-15T10:00:00.000Z' is not a property name"),
    ("", "is empty"),
    ("\ufeff", "is empty"),
    ("hs_timestamp,,hs_note_body\n", "column 2 of the header is empty"),
    ("hs_timestamp,hs_note_body,hs_note_body\n", "'hs_note_body' twice"),
    ("hs_timestamp,note body\n", "'note body' is not a property name"),
])
def test_csv_must_start_with_a_header(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                      text: str, expected: str) -> None:
    src = tmp_path / "rows.csv"
    src.write_text(text, encoding="utf-8")
    for extra in (["--dry-run"], ["--sandbox"]):
        assert main(["import", str(src), "--object", "notes", *extra]) == 2
        err = one_line_error(capsys.readouterr().err)
        assert err.startswith(f"error: {src}: ") and expected in err, err
    assert not (tmp_path / "rows.csv.journal.jsonl").exists()


def test_csv_header_with_a_bom_read_as_plain_utf8_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "rows.csv"
    src.write_bytes(b"\xef\xbb\xbfhs_timestamp\n" + TS.encode() + b"\n")
    assert main(["import", str(src), "--object", "notes", "--dry-run",
                 "--encoding", "utf-8"]) == 2
    assert "utf-8-sig" in one_line_error(capsys.readouterr().err)


def test_csv_fields_over_128_kib_and_a_file_unreadable_mid_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    src = tmp_path / "html.csv"
    src.write_text(f'hs_timestamp,hs_note_body\n{TS},short\n{TS},"<p>{"x" * 200_000}</p>"\n'
                   f"{TS},after\n", encoding="utf-8")
    jpath = tmp_path / "html.csv.journal.jsonl"
    assert main(["import", str(src), "--object", "notes", "--dry-run"]) == 0
    # A reader that gives up at line 3 (as if the file changed under the import): the import
    # stops as on Ctrl-C, with one line, and --resume finishes it.
    monkeypatch.setattr("hubengage._cli.CSV_FIELD_LIMIT", 1000)
    assert main(["import", str(src), "--object", "notes", "--sandbox"]) == 2
    captured = capsys.readouterr()
    err = one_line_error(captured.err)
    assert f"{src}: line 3 is not valid CSV" in err and "--resume" in err
    assert set(outcomes(journal(jpath)).values()) <= {"ok"}
    monkeypatch.undo()
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume"]) == 0
    assert set(outcomes(journal(jpath))) == {2, 3, 4}


def test_object_type_is_checked_up_front(tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    src = write_jsonl(tmp_path / "notes.jsonl", note_rows(2))
    for bad in ("nosuch", "2-", "3-12", "p123", "p_", "notes!"):
        assert main(["import", str(src), "--object", bad, "--sandbox"]) == 2, bad
        captured = capsys.readouterr()
        err = one_line_error(captured.err)
        assert f"--object {bad!r}" in err and "emails" in err and "postal_mail" in err
        assert "nothing leaves" not in captured.out
    assert not (tmp_path / "notes.jsonl.journal.jsonl").exists()
    for good in ("notes", "NOTE", "0-46", "2-1234567", "p1234567_cars", "p_cars"):
        assert main(["import", str(src), "--object", good, "--dry-run"]) == 0, good
    capsys.readouterr()


def first_header(jpath: Path) -> dict[str, Any]:
    return next(e for e in journal(jpath) if "journal" in e)


def test_resume_checks_the_journal_belongs_to_the_file(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_jsonl(tmp_path / "a.jsonl", note_rows(3))
    other = write_jsonl(tmp_path / "b.jsonl", note_rows(5)[2:])
    jpath = tmp_path / "run.journal.jsonl"
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--journal",
                 str(jpath)]) == 0
    ident = first_header(jpath)["input"]
    assert ident["path"] == str(src.resolve()) and ident["size"] == src.stat().st_size
    assert len(ident["head_sha256"]) == 64
    capsys.readouterr()

    # Another file: refused (today it would skip rows 1-3 of b.jsonl and exit 0).
    assert main(["import", str(other), "--object", "notes", "--sandbox", "--resume",
                 "--journal", str(jpath)]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert str(src.resolve()) in err and "--force" in err
    assert main(["import", str(other), "--object", "notes", "--sandbox", "--resume",
                 "--journal", str(jpath), "--force"]) == 0
    capsys.readouterr()

    # The same file, grown: accepted, only the new rows are sent.
    with src.open("a") as stream:
        stream.write(json.dumps(note_rows(5)[4]) + "\n")
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume",
                 "--journal", str(jpath)]) == 0
    assert "the emulator stored notes: 1" in capsys.readouterr().out
    assert first_header(jpath)["input"] == ident, "the first header is the identity"

    # The same file, shrunk or rewritten: refused.
    write_jsonl(src, note_rows(2))
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume",
                 "--journal", str(jpath)]) == 2
    assert str(src.resolve()) in one_line_error(capsys.readouterr().err)
    write_jsonl(src, [{"hs_timestamp": TS, "hs_note_body": f"other {i}"} for i in range(9)])
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume",
                 "--journal", str(jpath)]) == 2
    assert "--force" in one_line_error(capsys.readouterr().err)


def test_resume_with_a_journal_from_an_earlier_version_warns(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_jsonl(tmp_path / "notes.jsonl", note_rows(3))
    jpath = tmp_path / "notes.jsonl.journal.jsonl"
    jpath.write_text(json.dumps({"journal": 1, "file": str(src), "object": "notes"}) + "\n"
                     + json.dumps({"line": 1, "status": "ok", "id": "1"}) + "\n")
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume"]) == 0
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1 and captured.err.startswith("warning: ")
    assert "could not be checked" in captured.err
    assert "the emulator stored notes: 2" in captured.out


@pytest.mark.parametrize(("bad", "what"), [("{not json", "not JSON"),
                                           ("[1, 2]", "not a JSON object"),
                                           (b"\xff\xfe", "not JSON")])
def test_corrupted_journal_line_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                            bad: str | bytes, what: str) -> None:
    src = write_jsonl(tmp_path / "notes.jsonl", note_rows(3))
    jpath = tmp_path / "notes.jsonl.journal.jsonl"
    assert main(["import", str(src), "--object", "notes", "--sandbox"]) == 0
    lines = jpath.read_bytes().splitlines(keepends=True)
    raw = bad if isinstance(bad, bytes) else bad.encode()
    jpath.write_bytes(b"".join(lines[:2]) + raw + b"\n" + b"".join(lines[2:]))
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume"]) == 2
    err = one_line_error(capsys.readouterr().err)
    assert str(jpath) in err and "line 3" in err and what in err


def test_journal_line_cut_short_by_a_kill_is_ignored_and_repaired(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_jsonl(tmp_path / "notes.jsonl", note_rows(4))
    jpath = tmp_path / "notes.jsonl.journal.jsonl"
    jpath.write_text(json.dumps({"journal": 1, "file": str(src), "object": "notes"}) + "\n"
                     + json.dumps({"line": 1, "status": "ok", "id": "1"}) + "\n"
                     + '{"line":2,"sta')
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume"]) == 0
    assert "the emulator stored notes: 3" in capsys.readouterr().out
    assert all(json.loads(text) for text in jpath.read_text().splitlines()), "repaired"
    # A second resume reads the repaired journal: nothing left to send.
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume"]) == 0
    assert "the emulator stored nothing" in capsys.readouterr().out


class AnswersWithoutResults:
    """A "HubSpot" that accepts every batch and names none of its inputs in the answer."""

    def __init__(self) -> None:
        from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

        owner = self
        self.requests = 0

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                self.rfile.read(int(self.headers["Content-Length"]))
                owner.requests += 1
                body = json.dumps({"status": "COMPLETE", "results": [], "startedAt": TS,
                                   "completedAt": TS}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.send_header("X-HubSpot-Correlation-Id", "corr-unknown")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        import threading

        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.mark.parametrize("upsert", [False, True], ids=["create", "upsert"])
def test_unknown_outcomes_are_journaled_and_not_resent_blindly(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        upsert: bool) -> None:
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "t")
    src = write_jsonl(tmp_path / "notes.jsonl", note_rows(3, key=upsert))
    jpath = tmp_path / "notes.jsonl.journal.jsonl"
    extra = ["--id-property", "external_id"] if upsert else []
    server = AnswersWithoutResults()
    try:
        assert main(["import", str(src), "--object", "notes", "--base-url", server.url,
                     *extra]) == 1
    finally:
        server.close()
    out = " ".join(capsys.readouterr().out.split())
    assert "unknown outcome" in out
    entries = [e for e in journal(jpath) if "status" in e]
    assert {e["line"]: e["status"] for e in entries} == {1: "unknown", 2: "unknown",
                                                         3: "unknown"}
    for entry in entries:
        assert entry["error"] == "OutcomeUnknownError" and entry["possible_duplicate"] is True
        assert entry["correlation_id"] == "corr-unknown" and entry["message"]

    if upsert:  # idempotent: resent automatically
        assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume",
                     *extra]) == 0
        out = " ".join(capsys.readouterr().out.split())
        assert "3 rows have an unknown outcome" in out
        assert "the emulator stored notes: 3" in out
        return
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume"]) == 0
    out = " ".join(capsys.readouterr().out.split())
    assert "3 rows have an unknown outcome" in out and "--resend-unknown" in out
    assert "the emulator stored nothing" in out
    assert outcomes(journal(jpath)) == {1: "unknown", 2: "unknown", 3: "unknown"}
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume",
                 "--resend-unknown"]) == 0
    assert "the emulator stored notes: 3" in capsys.readouterr().out
    assert outcomes(journal(jpath)) == {1: "ok", 2: "ok", 3: "ok"}


@contextlib.contextmanager
def emulator_in_a_thread(config: Any) -> Iterator[Any]:
    """The in-process emulator serving from its own thread (``main`` runs its own loop)."""
    import asyncio
    import threading

    from hubengage.emulator import Emulator

    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    emu = Emulator(config)
    asyncio.run_coroutine_threadsafe(emu.start(), loop).result(10)
    try:
        yield emu
    finally:
        asyncio.run_coroutine_threadsafe(emu.stop(), loop).result(10)
        asyncio.run_coroutine_threadsafe(loop.shutdown_asyncgens(), loop).result(10)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(10)
        loop.close()


def test_a_rejected_token_stops_the_import(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    import attrs

    from hubengage.emulator import EmulatorConfig

    n = 10_000  # 100 batches
    monkeypatch.setenv("HUBSPOT_ACCESS_TOKEN", "good")
    src = write_jsonl(tmp_path / "notes.jsonl", note_rows(n))
    jpath = tmp_path / "notes.jsonl.journal.jsonl"
    args = ["import", str(src), "--object", "notes"]
    # The run that meets the revoked token sends 4 requests per 100 ms: were it not to stop,
    # it would send all 100 within 2.5 s. (At 1000/1s, 16 requests are in flight when the
    # token is revoked, and the SDK's bulk run withdraws the inputs in the air once per
    # refused item: 1,500 x up to 5,000, seconds that vary with timing. A cost of the SDK.)
    first_rate = ["--rate", "4/100ms"]
    resume_rate = ["--rate", "1000/1s"]
    with emulator_in_a_thread(EmulatorConfig(tokens=("good",), burst_limit=0)) as emu:
        app = emu._app
        check_token = app._token
        seen = 0

        def revoke_after_two(request: Any) -> Any:
            nonlocal seen
            seen += 1
            if seen == 3:  # the token is revoked while the import runs
                emu.config = app.config = attrs.evolve(emu.config, tokens=("other",))
            return check_token(request)

        app._token = revoke_after_two
        assert main([*args, *first_rate, "--base-url", emu.url]) == 1
        captured = capsys.readouterr()
        requests = emu.stats()["total_requests"]
        assert requests < n / 100 / 4, f"{requests} requests: the import did not stop"
        err = captured.err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("error: HubSpot rejected the token (HTTP 401")
        assert "--resume" in err[0]
        entries = journal(jpath)
        status = outcomes(entries)
        assert set(status.values()) == {"ok", "failed"} and len(status) < n / 4
        assert {e["error"] for e in entries if e.get("status") == "failed"} == {
            "AuthenticationError"}

        # The token fixed: --resume sends every row without an outcome, and the rejected ones.
        emu.config = app.config = attrs.evolve(emu.config, tokens=("good",))
        assert main([*args, *resume_rate, "--base-url", emu.url, "--resume"]) == 0
        assert len(emu.records("notes")) == n, "none lost, none twice"
        assert set(outcomes(journal(jpath)).values()) == {"ok"}


def test_shards_split_one_file_over_processes_sharing_one_budget(
    tmp_path: Path, redis_server: Any, budget_key: str,
) -> None:
    n = 900
    src = write_jsonl(tmp_path / "notes.jsonl", note_rows(n))
    emu = EmulatorProc("--burst", "4/100ms", "--echo-trace-ids")
    procs: list[subprocess.Popen[str]] = []
    try:
        with killed_on_failure(procs):
            for k in (1, 2, 3):  # three importers on one token, one Redis budget
                procs.append(start_import(src, emu.url, "--shard", f"{k}/3",
                                          "--rate-limit-store", redis_server.url,
                                          rate="100/10s"))
            results = [proc.communicate(timeout=60) for proc in procs]
        codes = [proc.returncode for proc in procs]
        with urllib.request.urlopen(f"{emu.url}/__emulator__/stats") as resp:
            stats = json.load(resp)  # before the test's own reads spend the window
        bodies = sorted(r["properties"]["hs_note_body"] for r in emu.notes())
    finally:
        emu.stop()
    assert codes == [0, 0, 0], results
    assert bodies == sorted(row["properties"]["hs_note_body"] for row in note_rows(n))  # once
    assert stats["rate_limited"] == {}  # three importers, one budget: no 429
    for k in (1, 2, 3):
        entries = journal(tmp_path / f"notes.jsonl.shard-{k}-of-3.journal.jsonl")
        lines = sorted(outcomes(entries))
        assert len(lines) == n // 3 and all((line - 1) % 3 == k - 1 for line in lines)
    # A shard's journal is its own: resuming it as another shard is refused.
    code = main(["import", str(src), "--object", "notes", "--shard", "2/3", "--resume",
                 "--journal", str(tmp_path / "notes.jsonl.shard-1-of-3.journal.jsonl"),
                 "--base-url", "http://127.0.0.1:9"])
    assert code == 2


# -- progress, errors, failed rows, cumulative totals, version, help ------------------------------


def test_version_and_help_text(capsys: pytest.CaptureFixture[str]) -> None:
    import hubengage

    with pytest.raises(SystemExit) as info:
        main(["--version"])
    assert info.value.code == 0
    assert capsys.readouterr().out.strip() == f"hubengage {hubengage.__version__}"
    for argv in (["--help"], ["import", "--help"], ["emulator", "--help"]):
        with pytest.raises(SystemExit):
            main(argv)
        out = capsys.readouterr().out
        assert "usage: hubengage" in out and "`" not in out, argv
    with pytest.raises(SystemExit):
        main(["import", "--help"])
    assert "--failed-out FILE" in capsys.readouterr().out


def test_the_rate_counts_rows_written_and_a_burst_does_not_inflate_it() -> None:
    from hubengage._cli import RateMeter

    now = 0.0
    meter = RateMeter(100, 10.0, span=60.0, clock=lambda: now)
    assert meter.rate() is None and meter.eta(10) is None
    # HubSpot's window lets 100 requests (10,000 rows) through in the first second...
    now = 1.0
    meter.update(10_000, 100)
    assert meter.rate() == pytest.approx(1_000)  # ...which the window sustains every 10 s
    assert meter.eta(5_000) == pytest.approx(5.0)
    # A run the window does not hold back shows its own pace from the start.
    now = 0.0
    unhurried = RateMeter(100, 10.0, clock=lambda: now)
    now = 0.5
    unhurried.update(500, 5)
    assert unhurried.rate() == pytest.approx(1_000)
    # After the first window: rows over the last minute, as measured.
    for second in range(11, 131):
        now = float(second)
        meter.update(10_000 + 1_000 * (second - 10), 100 + 10 * (second - 10))
    assert meter.rate() == pytest.approx(1_000)
    assert meter.eta(0) == 0.0


def test_progress_shows_the_total_percentage_rate_and_eta(
        tmp_path: Path, capsys: pytest.CaptureFixture[str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FORCE_COLOR", "1")  # a terminal: rich draws the bar
    monkeypatch.setenv("TTY_COMPATIBLE", "1")
    monkeypatch.setenv("COLUMNS", "250")
    monkeypatch.setenv("TERM", "xterm-256color")
    monkeypatch.delenv("NO_COLOR", raising=False)
    rows = note_rows(250)
    rows.insert(3, "")  # blank lines are not rows
    src = write_jsonl(tmp_path / "notes.jsonl", rows)
    assert main(["import", str(src), "--object", "notes", "--sandbox"]) == 0
    out = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", capsys.readouterr().out)
    assert "250/250 rows 100%" in out
    assert re.search(r"[0-9,]+ rows/s written", out) and "ETA 0:00:00" in out


def test_progress_line_of_a_resumed_job() -> None:
    import io

    from rich.console import Console

    from hubengage._cli import Counters, ImportProgress, RateMeter

    console = Console(file=io.StringIO())
    now = 0.0
    meter = RateMeter(100, 10.0, clock=lambda: now)
    progress = ImportProgress(console, 2_000, 1_200, meter)
    counters = Counters()
    counters.succeeded, counters.failed = 95, 5
    now = 2.0
    meter.update(counters.done, 1)
    text = progress.describe(counters, 1, 0)
    assert text.startswith("1,300/2,000 rows 65%")  # the whole job, resumed at 1,200
    assert "50 rows/s written" in text and "ETA 0:00:14" in text  # 700 rows at 50/s
    assert ImportProgress(console, None, 0, meter).describe(counters, 1, 0).startswith(
        "100 rows")  # no total: no percentage, no ETA


def test_only_the_first_errors_are_printed_the_rest_counted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows: list[Any] = [{"hs_timestamp": "yesterday", "hs_note_body": f"bad {i}"}
                       for i in range(8)]
    rows += note_rows(2)
    src = write_jsonl(tmp_path / "notes.jsonl", rows)
    assert main(["import", str(src), "--object", "notes", "--sandbox"]) == 1
    out = capsys.readouterr().out
    assert out.count("error: row ") == 5
    assert "... and 3 more errors in the journal" in " ".join(out.split())
    assert "--failed-out FILE" in out


def test_failed_rows_of_a_jsonl_file_written_fixed_and_imported(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rows: list[Any] = [
        {"hs_timestamp": TS, "hs_note_body": "good"},
        {"hs_timestamp": "yesterday", "hs_note_body": "bad time"},
        "not json",
        {"properties": {"hs_timestamp": TS, "hs_note_body": "caf\u00e9", "nope": "x"},
         "associations": [{"contact": 601}]},
    ]
    src = write_jsonl(tmp_path / "notes.jsonl", rows)
    out_path = tmp_path / "failed.jsonl"
    assert main(["import", str(src), "--object", "notes", "--sandbox",
                 "--failed-out", str(out_path)]) == 1
    assert "3 written to" in capsys.readouterr().out
    failed = [json.loads(line) for line in out_path.read_text(encoding="utf-8").splitlines()]
    assert [row.get("hs_note_body") or row.get("properties", {}).get("hs_note_body")
            or row.get("text") for row in failed] == ["bad time", "not json", "caf\u00e9"]
    assert failed[0]["error"].startswith("INVALID_INPUT: hs_timestamp")
    assert failed[1]["error"].startswith("INVALID_INPUT: line: not JSON")
    assert failed[2]["error"].startswith("VALIDATION_ERROR") and "nope" in failed[2]["error"]
    assert failed[2]["associations"] == [{"contact": 601}], "the row as it was, plus error"

    # Fixed (the error fields left in place: the import ignores them) and imported.
    fixed = [dict(failed[0], hs_timestamp=TS),
             {"hs_timestamp": TS, "hs_note_body": "was not json", "error": "old"},
             {**failed[2], "properties": {"hs_timestamp": TS, "hs_note_body": "caf\u00e9"}}]
    write_jsonl(out_path, fixed)
    assert main(["import", str(out_path), "--object", "notes", "--sandbox"]) == 0
    assert "the emulator stored notes: 3" in capsys.readouterr().out


def test_failed_rows_of_a_csv_file_across_resumes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = tmp_path / "notes.csv"
    src.write_text(f"hs_timestamp,hs_note_body,associate_contact\n{TS},one,601\n"
                   "soon,two,602\n", encoding="utf-8")
    out_path = tmp_path / "failed.csv"
    assert main(["import", str(src), "--object", "notes", "--sandbox"]) == 1
    capsys.readouterr()
    with src.open("a", encoding="utf-8") as stream:  # more rows, one bad
        stream.write(f"{TS},three,603\n{TS},four,nobody\n")
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume",
                 "--failed-out", str(out_path)]) == 1
    out = " ".join(capsys.readouterr().out.split())
    assert "2 written to" in out
    with out_path.open(encoding="utf-8-sig", newline="") as stream:
        written = list(csv.reader(stream))
    assert written[0] == ["hs_timestamp", "hs_note_body", "associate_contact", "error"]
    assert [row[:3] for row in written[1:]] == [["soon", "two", "602"],
                                               [TS, "four", "nobody"]]
    assert written[1][3].startswith("INVALID_INPUT: hs_timestamp")  # from the first run
    assert "associate_contact" in written[2][3] or "nobody" in written[2][3]

    # Fixed in place, the error column still there: imported as it is.
    with out_path.open("w", encoding="utf-8-sig", newline="") as stream:
        csv.writer(stream).writerows([written[0], [TS, "two", "602", written[1][3]],
                                      [TS, "four", "604", written[2][3]]])
    assert main(["import", str(out_path), "--object", "notes", "--sandbox"]) == 0
    assert "the emulator stored notes: 2" in capsys.readouterr().out


def test_a_dry_run_writes_the_invalid_rows(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    rows: list[Any] = [*note_rows(2), {"hs_timestamp": "yesterday", "hs_note_body": "x"}]
    src = write_jsonl(tmp_path / "notes.jsonl", rows)
    out_path = tmp_path / "invalid.jsonl"
    assert main(["import", str(src), "--object", "notes", "--dry-run",
                 "--failed-out", str(out_path)]) == 1
    assert "1 written to" in capsys.readouterr().out
    (row,) = [json.loads(line) for line in out_path.read_text().splitlines()]
    assert row["hs_note_body"] == "x" and row["error"].startswith("INVALID_INPUT")
    assert main(["import", str(src), "--object", "notes", "--dry-run",
                 "--failed-out", str(src)]) == 2
    assert "would overwrite the input file" in capsys.readouterr().err


def test_the_summary_counts_the_whole_job_across_resumes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    src = write_jsonl(tmp_path / "notes.jsonl", note_rows(3))
    assert main(["import", str(src), "--object", "notes", "--sandbox"]) == 0
    first = capsys.readouterr().out
    assert re.search(r"succeeded\s*│\s*3\s", first) and "in this run" not in first
    with src.open("a") as stream:
        stream.write(json.dumps({"hs_timestamp": "yesterday", "hs_note_body": "bad"}) + "\n")
        for row in note_rows(5)[3:]:
            stream.write(json.dumps(row) + "\n")
    assert main(["import", str(src), "--object", "notes", "--sandbox", "--resume"]) == 1
    out = capsys.readouterr().out
    assert re.search(r"rows in the file\s*│\s*6\s", out)
    assert re.search(r"succeeded\s*│\s*5 \(2 in this run\)", out)
    assert re.search(r"failed\s*│\s*1 \(1 in this run\)", out)
    assert re.search(r"skipped \(done before\)\s*│\s*3\s", out)

"""`flask roster import` and `flask credits import`: a CSV checked whole, then in batches."""

from __future__ import annotations

import csv
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from tests.actors import Clerk, PersonSpec, Phone, face
from tests.api.money_steps import balance, insured_with_money

HEADER = "id_number,name,phone,region,insurance_type,person_type,face_template"


def _roster_csv(path: Path, *people: PersonSpec, bom: bool = False, extra: str = "") -> Path:
    lines = [HEADER] + [
        f"{p.id_number},{p.name},{p.phone or ''},{p.region},{p.insurance_type},,{face(p.name)}"
        for p in people
    ]
    path.write_text(("\ufeff" if bom else "") + "\n".join(lines) + extra + "\n", encoding="utf-8")
    return path


def _run(app: Flask, *args: str) -> object:
    return app.test_cli_runner().invoke(args=list(args))


def _rejects(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def test_a_roster_file_imports_in_batches_and_a_rerun_is_unchanged(
    app: Flask, client: FlaskClient, clerk: Clerk, tmp_path: Path
) -> None:
    people = [PersonSpec(f"批{i}", f"139000004{i:02d}") for i in range(7)] + [
        PersonSpec("无电话", None)
    ]
    path = _roster_csv(tmp_path / "roster.csv", *people, bom=True)
    result = _run(app, "roster", "import", str(path), "--batch-size", "3")
    assert result.exit_code == 0, result.output
    assert "8 created, 0 updated, 0 unchanged" in result.output
    # the initial passwords went out as from the API
    assert len(Phone(client, people[0].phone).outbox("payment_password")) == 1
    again = _run(app, "roster", "import", str(path))
    assert "0 created, 0 updated, 8 unchanged" in again.output
    assert not (tmp_path / "roster.rejects.csv").exists()


def test_a_roster_file_with_bad_rows_writes_nothing_and_lists_each_in_a_rejects_file(
    app: Flask, client: FlaskClient, clerk: Clerk, tmp_path: Path
) -> None:
    good = PersonSpec("好人", "13900000420")
    spoof = PersonSpec("\u202e英秀王", None)
    bad_phone = PersonSpec("坏电话", "1390000")
    path = _roster_csv(tmp_path / "roster.csv", good, spoof, bad_phone, good, extra="\n1,2")
    result = _run(app, "roster", "import", str(path))
    assert result.exit_code == 1
    assert "row 3: name:" in result.output and "row 4: phone:" in result.output
    assert "row 5: id_number: repeats row 2" in result.output
    assert "row 6: row: has fewer" in result.output
    rejected = _rejects(tmp_path / "roster.rejects.csv")
    assert [(r["row"], r["field"]) for r in rejected] == [
        ("3", "name"),
        ("4", "phone"),
        ("5", "id_number"),
        ("6", "row"),
    ]
    assert rejected[1]["phone"] == "1390000" and rejected[0]["face_template"] == face(spoof.name)
    # nothing was written: the good person imports as new
    assert clerk.import_persons(good).get_json()["created"] == 1
    assert Phone(client, good.phone).outbox("payment_password") != []


def test_a_dry_run_checks_and_writes_nothing(
    app: Flask, client: FlaskClient, clerk: Clerk, tmp_path: Path
) -> None:
    person = PersonSpec("试试", None)
    path = _roster_csv(tmp_path / "roster.csv", person)
    result = _run(app, "roster", "import", str(path), "--dry-run")
    assert result.exit_code == 0 and "all 1 rows are valid" in result.output
    assert clerk.import_persons(person).get_json()["created"] == 1


def test_a_roster_header_must_name_the_apis_fields(app: Flask, tmp_path: Path) -> None:
    path = tmp_path / "roster.csv"
    path.write_text("身份证号,name\n1,2\n", encoding="utf-8")
    result = _run(app, "roster", "import", str(path))
    assert result.exit_code == 1 and "missing id_number" in result.output
    path.write_bytes("id_number,name\n\xff\n".encode("latin-1"))
    assert "not UTF-8" in _run(app, "roster", "import", str(path)).output


def test_a_credits_file_credits_once_and_names_unknown_and_bad_rows(
    app: Flask, client: FlaskClient, clerk: Clerk, tmp_path: Path
) -> None:
    p = insured_with_money(client, clerk, "存钱", "13900000430", 0)
    q = insured_with_money(client, clerk, "取钱", "13900000431", 0)
    stranger = PersonSpec("陌生", None)
    bad = tmp_path / "credits.csv"
    bad.write_text(
        "\ufeffid_number,amount_fen\n"
        f"{p.spec.id_number},30000\n{stranger.id_number},100\n{q.spec.id_number},1.5\n",
        encoding="utf-8",
    )
    rejects = tmp_path / "out" / "bad.csv"
    rejects.parent.mkdir()
    result = _run(
        app, "credits", "import", str(bad), "--month", "2026-10", "--rejects", str(rejects)
    )
    assert result.exit_code == 1
    assert [(r["row"], r["field"]) for r in _rejects(rejects)] == [
        ("3", "id_number"),
        ("4", "amount_fen"),
    ]
    assert balance(p) == 0
    good = tmp_path / "good.csv"
    good.write_text(
        f"id_number,amount_fen\n{p.spec.id_number},30000\n{q.spec.id_number},100\n",
        encoding="utf-8",
    )
    dry = _run(app, "credits", "import", str(good), "--month", "2026-10", "--dry-run")
    assert dry.exit_code == 0 and balance(p) == 0
    result = _run(app, "credits", "import", str(good), "--month", "2026-10", "--batch-size", "1")
    assert result.exit_code == 0, result.output
    assert "2 credited, 0 skipped" in result.output
    assert (
        "0 credited, 2 skipped"
        in _run(app, "credits", "import", str(good), "--month", "2026-10").output
    )
    assert balance(p) == 30000 and balance(q) == 100


def test_a_credits_month_after_the_beijing_month_is_refused(
    app: Flask, client: FlaskClient, clerk: Clerk, tmp_path: Path
) -> None:
    p = insured_with_money(client, clerk, "未来", "13900000432", 0)
    path = tmp_path / "credits.csv"
    path.write_text(f"id_number,amount_fen\n{p.spec.id_number},100\n", encoding="utf-8")
    result = _run(app, "credits", "import", str(path), "--month", "2026-12")
    assert result.exit_code == 2 and "after the current Beijing month" in result.output
    assert balance(p) == 0


def test_a_row_number_is_the_files_line_even_after_a_blank_line(
    app: Flask, client: FlaskClient, clerk: Clerk, tmp_path: Path
) -> None:
    p = insured_with_money(client, clerk, "空行", "13900000433", 0)
    path = tmp_path / "credits.csv"
    path.write_text(f"id_number,amount_fen\n\n{p.spec.id_number},-5\n", encoding="utf-8")
    result = _run(app, "credits", "import", str(path), "--month", "2026-11")
    assert result.exit_code == 1 and "row 3: amount_fen:" in result.output
    assert [r["row"] for r in _rejects(tmp_path / "credits.rejects.csv")] == ["3"]

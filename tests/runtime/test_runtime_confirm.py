"""`offload confirm`: static findings joined with a real runtime report."""
from __future__ import annotations

import json
import sys

import pytest
from click.testing import CliRunner

from detector.runtime.confirm import CONFIRMED, NO_STALL, ConfirmInputError, join
from detector.runtime.cli import confirm as confirm_command
from runtime_helpers import PROGRAMS, marked, watch

APP = PROGRAMS / "confirm_app.py"


def finding(marker, code="BLK100", filename="confirm_app.py", chain=None):
    row, line = marked(APP, marker)
    column = len(line) - len(line.lstrip()) + 1
    record = {
        "code": code,
        "name": "blocking-call",
        "message": f"blocking call at {marker}",
        "filename": filename,
        "location": {"row": row, "column": column},
        "end_location": {"row": row, "column": column + 10},
        "fix": None,
    }
    if chain:
        record["chain"] = chain
    return record


def hop(marker, function, call):
    row, line = marked(APP, marker)
    return {"filename": "confirm_app.py", "row": row, "column": len(line) - len(line.lstrip()) + 1,
            "function": function, "call": call}


@pytest.fixture(scope="module")
def runtime_report(tmp_path_factory):
    path = tmp_path_factory.mktemp("confirm") / "runtime.json"
    result = watch("--report", str(path), "--", sys.executable, "confirm_app.py")
    assert result.returncode == 0, result.stderr
    return path


@pytest.fixture
def static_records():
    return [
        finding("DIRECT"),
        finding("VIA-HELPER", code="BLK200",
                chain=[hop("VIA-HELPER", "via_helper", "helper"), hop("HELPER-SLEEP", "helper", "time.sleep")]),
        finding("NEVER"),
        finding("DIRECT", filename="elsewhere/confirm_app_copy.py"),  # same row, other file
    ]


def test_join_marks_confirmed_no_stall_observed_and_runtime_only(runtime_report, static_records):
    report = json.loads(runtime_report.read_text())
    assert len(report["stalls"]) == 3
    result = join(static_records, report, cwd="/nonexistent")  # relative names resolve via the report's cwd
    statuses = [item.status for item in result.findings]
    assert statuses == [CONFIRMED, CONFIRMED, NO_STALL, NO_STALL]
    direct, via_helper = result.findings[:2]
    assert len(direct.durations) == 1 and direct.durations[0] >= 0.2
    assert via_helper.stalls == [1]
    (cpu_stall,) = result.runtime_only
    assert cpu_stall["verdict"] == "cpu"
    assert cpu_stall["coroutine_frame"]["row"] == marked(APP, "CPU")[0]


def test_absolute_and_suffix_paths_match_too(runtime_report):
    report = json.loads(runtime_report.read_text())
    absolute = finding("DIRECT", filename=str(APP))
    suffix = finding("DIRECT", filename="runtime/programs/confirm_app.py")
    result = join([absolute, suffix], report, cwd="/nonexistent")
    assert [item.status for item in result.findings] == [CONFIRMED, CONFIRMED]


def test_text_output(runtime_report, static_records, tmp_path):
    static = tmp_path / "static.json"
    static.write_text(json.dumps(static_records))
    result = CliRunner().invoke(confirm_command, [str(static), str(runtime_report)])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    direct_row = marked(APP, "DIRECT")[0]
    assert lines[0].startswith(f"confirm_app.py:{direct_row}:5: BLK100 confirmed (1 stall, longest ")
    assert lines[2].startswith(f"confirm_app.py:{marked(APP, 'NEVER')[0]}:5: BLK100 no stall observed")
    assert any("runtime only: event loop stalled" in line and "(CPU-bound)" in line for line in lines)
    assert lines[-1] == "offload confirm: 2 confirmed, 2 with no stall observed, 1 runtime-only stall"


def test_json_output(runtime_report, static_records, tmp_path):
    static = tmp_path / "static.json"
    static.write_text(json.dumps({"findings": static_records}))
    result = CliRunner().invoke(confirm_command, ["--format", "json", str(static), str(runtime_report)])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["summary"] == {"confirmed": 2, "no_stall_observed": 2, "runtime_only": 1}
    first = data["findings"][0]
    assert first["code"] == "BLK100" and first["runtime"]["status"] == "confirmed"
    assert first["runtime"]["stalls"] == [0]


def test_empty_static_output_lists_every_stall_as_runtime_only(runtime_report, tmp_path):
    static = tmp_path / "static.json"
    static.write_text("[]")
    result = CliRunner().invoke(confirm_command, [str(static), str(runtime_report)])
    assert result.exit_code == 0
    assert result.output.splitlines()[-1] == "offload confirm: 0 confirmed, 0 with no stall observed, 3 runtime-only stalls"


@pytest.mark.parametrize(
    "static_text, runtime_text, message",
    [
        (None, "{}", "cannot read"),
        ("not json", "{}", "is not valid JSON"),
        ('{"code": "BLK100"}', "{}", "expected a list of findings"),
        ('[{"code": "BLK100"}]', "{}", "findings[0].filename: expected a string"),
        ("[]", '{"stalls": []}', "unsupported runtime report version"),
        ("[]", "[]", "not an offload runtime report"),
    ],
)
def test_bad_input_exits_2_with_a_clear_message(tmp_path, static_text, runtime_text, message):
    static = tmp_path / "static.json"
    if static_text is not None:
        static.write_text(static_text)
    runtime = tmp_path / "runtime.json"
    runtime.write_text(runtime_text)
    result = CliRunner().invoke(confirm_command, [str(static), str(runtime)])
    assert result.exit_code == 2
    assert message in result.output


def test_join_rejects_bad_records_with_the_same_error():
    with pytest.raises(ConfirmInputError):
        join([{"filename": "x.py"}], {"version": 1, "stalls": []})


def _report_with_frame(filename: str, row: int, kind: str, cwd: str) -> dict:
    frame = {"filename": filename, "function": "f", "row": row, "column": 5, "end_row": row,
             "end_column": 20, "line": "x", "kind": kind}
    stall = {"duration": 0.3, "started_at": 1.0, "verdict": "blocking", "user_frame": None,
             "innermost_frame": frame, "coroutine_frame": None, "stack": [frame], "seen": []}
    return {"version": 1, "cwd": cwd, "stalls": [stall]}


def _sleep_finding(filename: str, row: int) -> dict:
    return {"filename": filename, "code": "BLK100", "message": "time.sleep()", "location": {"row": row, "column": 5}}


def test_a_user_module_named_like_a_standard_library_one_is_not_confirmed_by_its_frames(tmp_path):
    (tmp_path / "client.py").write_text("import time\n")
    report = _report_with_frame("/usr/lib/python3.11/http/client.py", 286, "stdlib", str(tmp_path))
    result = join([_sleep_finding("client.py", 286)], report, cwd=str(tmp_path))
    assert [item.status for item in result.findings] == [NO_STALL]


def test_path_tail_matches_only_a_name_that_is_no_file_here_and_only_user_frames(tmp_path):
    elsewhere = "/srv/deploy/app/handlers.py"  # the report was written on another machine
    user_report = _report_with_frame(elsewhere, 12, "user", "/srv/build")
    finding = _sleep_finding("app/handlers.py", 12)
    assert join([finding], user_report, cwd=str(tmp_path)).findings[0].status == CONFIRMED
    library_report = _report_with_frame("/venv/site-packages/app/handlers.py", 12, "library", "/srv/build")
    assert join([finding], library_report, cwd=str(tmp_path)).findings[0].status == NO_STALL
    (tmp_path / "app").mkdir()
    (tmp_path / "app" / "handlers.py").write_text("")  # a real file here, which no stall went through
    assert join([finding], user_report, cwd=str(tmp_path)).findings[0].status == NO_STALL


def test_a_stall_in_a_read_of_a_with_open_block_confirms_the_block_finding(tmp_path):
    (tmp_path / "app.py").write_text("")
    finding = {"filename": "app.py", "code": "BLK130", "message": "open()", "location": {"row": 4, "column": 10},
               "related": [{"filename": "app.py", "row": 6, "column": 16, "call": "f.read", "code": "BLK131"}]}
    report = _report_with_frame(str(tmp_path / "app.py"), 6, "user", str(tmp_path))
    assert join([finding], report, cwd=str(tmp_path)).findings[0].status == CONFIRMED
    assert join([dict(finding, related=[])], report, cwd=str(tmp_path)).findings[0].status == NO_STALL

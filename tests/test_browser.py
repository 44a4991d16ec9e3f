"""report.html in a real browser: headless Chromium loads it with no console message and no
network request, and a screenshot is saved.

Needs Debian's ``chromium`` (/usr/bin/chromium; ``.ci/run`` installs it). Without it the
test is skipped with the reason shown. The checks are validated on a control page that does
make a request and log an error, so that a silent browser cannot pass by accident.
"""

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from instrval.io.study import study_from_mapping
from instrval.pipeline import run_validation, write_report

ROOT = Path(__file__).resolve().parents[1]
IAM = ROOT / "examples/iam"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

pytestmark = [pytest.mark.browser,
              pytest.mark.skipif(CHROMIUM is None,
                                 reason="Chromium not installed (apt-get install chromium)")]


def _chromium(page: Path, tmp: Path, *extra: str) -> tuple[str, list[tuple[str, str]], str]:
    """Load ``page``; return (stderr log, page-initiated requests, dom)."""
    netlog = tmp / "netlog.json"
    cmd = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu",
           "--disable-background-networking", "--disable-component-update", "--disable-sync",
           "--no-first-run", "--disable-default-apps", f"--user-data-dir={tmp / 'profile'}",
           "--enable-logging=stderr", "--v=0", f"--log-net-log={netlog}", *extra,
           page.as_uri()]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    log = json.loads(netlog.read_text())
    names = {v: k for k, v in log["constants"]["logEventTypes"].items()}
    requests = []
    for ev in log["events"]:
        p = ev.get("params") or {}
        # the browser's own background requests have no origin; a page's have one
        # (a file:// page's origin is opaque: "null")
        if (names.get(ev["type"]) == "URL_REQUEST_START_JOB" and p.get("url")
                and p.get("initiator") not in (None, "not an origin")):
            requests.append((p.get("initiator"), p["url"]))
    return proc.stderr, requests, proc.stdout


def _console(stderr: str) -> list[str]:
    return [ln for ln in stderr.splitlines()
            if ":CONSOLE" in ln or "Uncaught" in ln or "ERROR:CONSOLE" in ln]


def test_checks_catch_a_bad_page(tmp_path):
    page = tmp_path / "bad.html"
    page.write_text('<!DOCTYPE html><html><body><img src="http://127.0.0.1:9/x.png">'
                    '<script>console.error("boom")</script></body></html>')
    stderr, requests, _ = _chromium(page, tmp_path, "--dump-dom")
    assert any("boom" in ln for ln in _console(stderr))
    assert any("127.0.0.1:9" in url for _, url in requests)


def test_report_in_headless_chromium(tmp_path):
    study = study_from_mapping({
        "instrument": str(ROOT / "instruments/iam/iam-2011.yaml"),
        "ratings": str(IAM / "data/iam-sample.csv"),
        "coding": str(IAM / "coding/segments.csv"),
        "codebook": str(IAM / "coding/codebook.yaml"),
        "decisions": str(IAM / "expert_decisions.csv"),
        "title": "Browser test <script>alert(1)</script>",
        "seed": 1, "timestamp": "2014-06-30T12:00:00Z", "revision": {"version": "2014"},
        "analyses": {"n_boot": 20}}, base_dir=tmp_path)
    out = tmp_path / "report"
    write_report(run_validation(study, quiet=True), out)
    page = out / "report.html"
    stderr, requests, dom = _chromium(page, tmp_path, "--dump-dom")
    assert _console(stderr) == []
    assert requests == []
    assert "Joint display" in dom and "<svg" in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom
    shot = tmp_path / "report.png"
    stderr, requests, _ = _chromium(page, tmp_path, "--window-size=1280,3000",
                                    f"--screenshot={shot}")
    assert _console(stderr) == [] and requests == []
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 50_000
    print(f"screenshot: {shot}")

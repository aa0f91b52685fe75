"""`make serve`: the site and the backend on one origin, failed rebuilds shown, one stop."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

from tests.backend_parts import ROOT, free_port, wait_for
from tests.conftest import copy_content


def fetch(url: str) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as answer:
            return answer.status, answer.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return 0, ""


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, from /proc."""
    found, todo = set(), [pid]
    while todo:
        parent = todo.pop()
        for task in Path(f"/proc/{parent}/task").glob("*"):
            try:
                children = (task / "children").read_text().split()
            except OSError:
                continue
            for child in map(int, children):
                if child not in found:
                    found.add(child)
                    todo.append(child)
    return found


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except OSError:
        return False
    return state != "Z"


def test_make_serve_shows_a_failed_rebuild_on_every_page_and_stops_with_make(tmp_path):
    content = copy_content(tmp_path / "content")
    port = free_port()
    env = {
        **os.environ,
        "BACKEND_DATABASE_URL": f"sqlite:///{tmp_path}/var/backend.sqlite3",
        "BACKEND_MAIL_DIR": str(tmp_path / "mail"),
        "BACKEND_FORM_MIN_SECONDS": "0",  # a script posts at once
    }
    make = subprocess.Popen(
        [
            "make",
            "-s",
            "serve",
            f"PORT={port}",
            f"SERVE_CONTENT={content}",
            f"SERVE_OUTPUT={tmp_path / 'output'}",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    site = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: fetch(site + "/api/health")[0] == 200, 60, "make serve answering")
        status, home = fetch(site + "/")
        assert status == 200 and "Cloud 7" in home
        assert fetch(site + "/contact/")[1].count('action="/api/contact"') == 1
        # A marketer sends the form (as the no-JavaScript page does) and reads the mail.
        token_url = site + "/api/form-token?form=contact"
        token = json.loads(fetch(token_url)[1])["token"]
        form = {"name": "Marketing", "email": "m@example.org", "lang": "en", "token": token}
        sent = urllib.request.Request(
            site + "/api/contact",
            data=urllib.parse.urlencode(form).encode(),
            headers={"Origin": site},
        )
        with urllib.request.urlopen(sent, timeout=10) as answer:
            assert answer.url.endswith("/contact-received/")
        wait_for(lambda: len(list((tmp_path / "mail").glob("*.eml"))) == 2, 30, "two .eml mails")

        broken = content / "pages/broken.md"
        broken.write_text("Title: Broken\nTemplate: nonexistent\n\nA page.\n")
        wait_for(lambda: fetch(site + "/")[0] == 500, 60, "the failed rebuild shown")
        for path in ("/", "/contact/", "/nl/", "/privacy-policy/"):
            status, page = fetch(site + path)
            assert status == 500 and "The last rebuild failed" in page, path
            assert "nonexistent" in page, "the message names what to fix"
        assert fetch(site + "/theme/css/site.css")[0] == 200  # assets still load
        assert fetch(site + "/api/health")[0] == 200  # the backend is unaffected

        broken.unlink()
        wait_for(lambda: fetch(site + "/")[0] == 200, 60, "the next good rebuild clearing it")
        assert "The last rebuild failed" not in fetch(site + "/contact/")[1]

        below = descendants(make.pid)
        assert below, "make runs the server"
        make.send_signal(signal.SIGTERM)
        make.wait(20)
        wait_for(
            lambda: not any(alive(pid) for pid in below), 20, "every process make started ending"
        )
        assert fetch(site + "/")[0] == 0, "nothing serves the port any more"
    finally:
        if make.poll() is None:
            make.kill()
        for pid in descendants(make.pid):
            os.kill(pid, signal.SIGKILL)
        make.stdout.close()

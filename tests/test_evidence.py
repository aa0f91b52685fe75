"""The audit's evidence of a banner version: the screenshots, the manifest's copy and
evidence.json, as docs/cookie-audit.md names them, and the report that shows them."""

import datetime as dt
import hashlib
import json
import re
import shutil
import struct
from pathlib import Path

import pytest
from bs4 import BeautifulSoup

from cookie_audit.__main__ import main
from cookie_audit.audit import find_pages, run_audit
from cookie_audit.evidence import LAYERS, MANIFEST, VIEWPORTS, Manifest, language_homes
from cookie_audit.report import write_reports
from cookie_audit.sandbox import SiteServer
from tests.conftest import axe_violations

# The English and the Dutch edition: each home, and a page more of each.
PAGES = {"index.html", "about/index.html", "nl/index.html", "nl/about/index.html"}
LANGUAGES = ("en", "nl")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
BANNER_MARKUP = re.compile(r'<div id="cb".*?</dialog>\s*</div>', re.DOTALL)


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def png_size(png: bytes) -> tuple[int, int]:
    """Width and height from a PNG's header (its IHDR chunk comes first)."""
    assert png[:8] == PNG_SIGNATURE and png[12:16] == b"IHDR"
    return struct.unpack(">II", png[16:24])


@pytest.fixture(scope="module")
def manifested(receipts_site, tmp_path_factory) -> Path:
    """A copy of the site built as it sends receipts (both editions' homes and a page
    more), with the banner manifest its build wrote."""
    output = tmp_path_factory.mktemp("manifested") / "output"
    shutil.copytree(receipts_site, output)
    for page in output.rglob("*.html"):
        if page.relative_to(output).as_posix() not in PAGES:
            page.unlink()
    assert (output / MANIFEST).exists()
    return output


@pytest.fixture(scope="module")
def evidenced(manifested, tmp_path_factory):
    """The copy audited once, its reports and evidence written; and when that was."""
    report = tmp_path_factory.mktemp("evidence-report")
    started = dt.datetime.now(dt.UTC).replace(microsecond=0)
    audit = run_audit(manifested)
    write_reports(audit, report)
    return audit, report, started


def evidence_folder(manifested: Path, report: Path) -> Path:
    version = json.loads((manifested / MANIFEST).read_text())["banner_version"]
    return report / "evidence" / version


def expected_files() -> set[str]:
    return {
        f"{lang}-{layer}-{width}.png"
        for lang in LANGUAGES
        for layer in LAYERS
        for width in (390, 1280)
    }


def test_the_evidence_has_the_contracts_files_for_each_language_and_width(manifested, evidenced):
    audit, report, _ = evidenced
    assert audit.passed
    folder = evidence_folder(manifested, report)
    assert {f.name for f in folder.iterdir()} == expected_files() | {"banner.json", "evidence.json"}
    assert (folder / "banner.json").read_bytes() == (manifested / MANIFEST).read_bytes()


def test_each_shot_is_a_png_of_its_width_with_its_layer_inside(manifested, evidenced):
    audit, report, _ = evidenced
    folder = evidence_folder(manifested, report)
    for shot in audit.evidence.shots:
        width, height = png_size((folder / shot.file).read_bytes())
        assert (width, height) == (shot.width, VIEWPORTS[shot.width])
        # The layer's element, when the shot was taken, lay whole inside it.
        box = shot.box
        assert box.width > 100 and box.height > 50, shot.file
        assert box.x >= 0 and box.x + box.width <= width, shot.file
        assert box.y >= 0 and box.y + box.height <= height, shot.file
    homes = {shot.lang: shot.page for shot in audit.evidence.shots}
    assert homes == {"en": "/", "nl": "/nl/"}
    # Each language, layer and width looks different.
    assert len({shot.sha256 for shot in audit.evidence.shots}) == len(expected_files())


def test_evidence_json_holds_the_manifests_and_every_files_sha256(manifested, evidenced):
    _, report, started = evidenced
    folder = evidence_folder(manifested, report)
    record = json.loads((folder / "evidence.json").read_text())
    assert set(record) == {"banner_version", "manifest_sha256", "taken_at", "shots"}
    assert record["banner_version"] == folder.name
    assert record["manifest_sha256"] == sha256((manifested / MANIFEST).read_bytes())
    taken = dt.datetime.strptime(record["taken_at"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=dt.UTC)
    assert started <= taken <= dt.datetime.now(dt.UTC)
    assert {shot["file"] for shot in record["shots"]} == expected_files()
    for shot in record["shots"]:
        assert set(shot) == {"file", "lang", "layer", "width", "sha256"}
        assert shot["file"] == f"{shot['lang']}-{shot['layer']}-{shot['width']}.png"
        assert shot["sha256"] == sha256((folder / shot["file"]).read_bytes())


def test_the_json_report_carries_the_evidence(manifested, evidenced):
    _, report, _ = evidenced
    folder = evidence_folder(manifested, report)
    data = json.loads((report / "report.json").read_text())
    assert data["evidence"] == json.loads((folder / "evidence.json").read_text())


def test_the_html_report_shows_the_version_the_manifests_sha256_and_every_shot(
    manifested, evidenced
):
    _, report, _ = evidenced
    folder = evidence_folder(manifested, report)
    record = json.loads((folder / "evidence.json").read_text())
    doc = BeautifulSoup((report / "index.html").read_text(), "html.parser")
    section = next(h for h in doc.find_all("h2") if h.get_text() == "The banner").parent
    facts = section.select_one("dl").get_text(" ")
    assert record["banner_version"] in facts and record["manifest_sha256"] in facts
    assert record["taken_at"] in facts
    shown = {}
    for link in section.select("figure a"):
        target = link["href"]
        assert link.img["src"] == target and (report / target).is_file()
        shown[Path(target).name] = link.img["alt"]
    assert set(shown) == expected_files()
    for shot in record["shots"]:
        alt = shown[shot["file"]]
        assert f"language {shot['lang']}" in alt and f"{shot['width']} px wide" in alt
        assert LAYERS[shot["layer"]] in alt


def test_the_report_with_its_evidence_passes_axe(evidenced, browser):
    _, report, _ = evidenced
    with SiteServer(report) as served:
        context = browser.new_context()
        try:
            page = context.new_page()
            page.goto(served.url("/index.html"))  # waits for the load event: images too
            assert page.evaluate("[...document.images].every((i) => i.naturalWidth > 0)")
            assert axe_violations(page) == []
        finally:
            context.close()


def test_rerunning_replaces_the_evidence(manifested, evidenced, tmp_path):
    _, first_report, _ = evidenced
    report = tmp_path / "report"
    shutil.copytree(first_report, report)
    folder = evidence_folder(manifested, report)
    before = {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}
    first = json.loads((folder / "evidence.json").read_text())
    (folder / "de-banner-390.png").write_bytes(PNG_SIGNATURE)  # left by an older build
    (folder.parent / "0123456789ab").mkdir()  # another banner version's evidence
    write_reports(run_audit(manifested, cache=None), report)
    after = {f.name: f.stat().st_mtime_ns for f in folder.iterdir()}
    assert set(after) == set(before)
    assert all(after[name] > before[name] for name in before)
    assert (folder.parent / "0123456789ab").is_dir()
    record = json.loads((folder / "evidence.json").read_text())
    for shot in record["shots"]:
        assert shot["sha256"] == sha256((folder / shot["file"]).read_bytes())
    # Deterministic: the same build, the same pictures, byte for byte.
    assert record["shots"] == first["shots"]


def test_a_build_without_a_manifest_takes_no_evidence_and_says_so_once(
    manifested, tmp_path, capsys
):
    site = tmp_path / "output"
    shutil.copytree(manifested, site)
    (site / MANIFEST).unlink()
    report = tmp_path / "report"
    assert main([str(site), "--report", str(report), "--no-cache"]) == 0
    out = capsys.readouterr().out
    assert out.count("evidence: none") == 1 and str(site / MANIFEST) in out
    assert not (report / "evidence").exists()
    assert json.loads((report / "report.json").read_text())["evidence"] is None
    assert "No banner manifest in this build" in (report / "index.html").read_text()


def test_each_languages_evidence_is_taken_on_its_editions_home(site):
    files = find_pages(site)
    with_banner = {path for path, file in files.items() if "cb-banner" in file.read_text()}
    manifest = Manifest(b"{}", "0123456789ab", LANGUAGES)
    # Not /404.html nor /nl/404.html, which are as near the root.
    assert language_homes(manifest, site, files, with_banner) == {"en": "/", "nl": "/nl/"}


@pytest.mark.parametrize(
    ("manifest", "named"),
    [
        ("{not json", "is not JSON"),
        ('{"banner_version": "ABC", "languages": ["en"]}', "banner_version must be"),
        ('{"banner_version": "0123456789ab", "languages": "en"}', "languages must be"),
        ('{"banner_version": "0123456789ab", "languages": ["en", "de"]}', "lists de, but"),
    ],
)
def test_a_bad_manifest_stops_the_audit_naming_the_file_and_the_field(
    manifested, tmp_path, capsys, manifest, named
):
    site = tmp_path / "output"
    shutil.copytree(manifested, site)
    (site / MANIFEST).write_text(manifest)
    assert main([str(site), "--report", str(tmp_path / "report"), "--no-cache"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith(f"cookie audit: cannot run: {site / MANIFEST}")
    assert named in err and len(err.splitlines()) == 1

"""The generated security headers, and the whole site working under them."""

import re

import pytest
from pelican.plugins.consent_banner.build import Build
from pelican.plugins.consent_banner.providers import BUILT_IN
from pelican.plugins.security_headers.security_headers import (
    content_security_policy,
    security_headers,
)

from cookie_audit.crawl import GPC_ON
from tests.conftest import (
    DUTCH_PAGES,
    PAGE_TYPES,
    PASTED_TAG_CONFIGURED,
    ROOT,
    Server,
    headers_file,
    text,
    wait_until,
)

RECORD_VIOLATIONS = (
    "window.violations = []; document.addEventListener('securitypolicyviolation',"
    " e => window.violations.push(e.violatedDirective + ' ' + e.blockedURI))"
)


def settings_for(consent: dict, embedded=()) -> dict:
    """Settings as the consent_banner plugin leaves them for security_headers."""
    settings = {"CONSENT": consent, "SITENAME": "Cloud 7"}
    Build(settings).use_embeds({provider.id: [] for provider in embedded})
    return settings


def test_the_policy_allows_no_inline_code_and_google_only_with_analytics():
    with_ga = content_security_policy(settings_for({"measurement_id": "G-ABC1234"}))
    without = content_security_policy(settings_for({}))
    for policy in (with_ga, without):
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "frame-ancestors 'none'" in policy and "default-src 'self'" in policy
    assert "google" not in without
    directives = dict(d.split(" ", 1) for d in with_ga.split("; "))
    assert [d for d, sources in directives.items() if "google" in sources] == [
        "script-src",
        "img-src",
        "connect-src",
    ]
    assert directives["frame-src"] == "'self'"


def test_embed_providers_get_frame_src_and_nothing_else():
    policy = content_security_policy(settings_for({}, [BUILT_IN["youtube"], BUILT_IN["vimeo"]]))
    directives = dict(d.split(" ", 1) for d in policy.split("; "))
    assert directives["frame-src"] == (
        "'self' https://www.youtube-nocookie.com https://player.vimeo.com"
    )
    assert [d for d, sources in directives.items() if "https:" in sources] == ["frame-src"]


def test_forms_may_post_only_to_their_configured_origin():
    policy = content_security_policy({"CONTACT_FORM_ACTION": "https://forms.example/cb?x=1"})
    assert "form-action 'self' https://forms.example;" in policy


def test_the_build_writes_the_headers_file(site):
    text = (site / "_headers").read_text()
    assert text.startswith("/*\n  Content-Security-Policy: default-src 'self';")
    assert "/consent/*\n  Cache-Control: public, max-age=31536000, immutable" in text
    assert headers_file(site)["X-Content-Type-Options"] == "nosniff"


def test_the_documented_nginx_snippet_matches_the_generated_headers(site):
    deploying = (ROOT / "docs" / "deploying.md").read_text()
    snippet = re.search(r"```nginx\n(.*?)```", deploying, re.S).group(1)
    documented = dict(re.findall(r'add_header (\S+) "([^"]*)" always;', snippet))
    uses = [BUILT_IN["youtube"], BUILT_IN["google-maps"]]
    assert documented == headers_file(site)
    assert documented == security_headers(settings_for({"measurement_id": "G-C7SITE2026"}, uses))


STATES = ["no choice", "rejected", "accepted", "withdrawn", "global privacy control"]


@pytest.mark.parametrize("state", STATES)
def test_every_page_in_every_consent_state_has_no_csp_violation(new_visitor, pasted_output, state):
    served = Server(pasted_output, headers_file(pasted_output))
    try:
        visitor = new_visitor(served)
        visitor.context.add_init_script(RECORD_VIOLATIONS)
        if state == "global privacy control":
            visitor.context.add_init_script(GPC_ON)
        visitor.open("/campaign/")
        if state in ("accepted", "withdrawn"):
            visitor.click(text("accept"))
            wait_until(visitor.page, PASTED_TAG_CONFIGURED)
            wait_until(visitor.page, "document.cookie.includes('_ga=')")
            assert any("/gtag/js?id=G-C7SITE2026" in u for u in visitor.google_requests)
        if state in ("rejected", "withdrawn"):
            visitor.click(text("settings"))
            visitor.page.get_by_label(text("analytics_label")).set_checked(False)
            visitor.click(text("save"))
            visitor.page.get_by_text(text("rejected")).wait_for()
        violations = visitor.page.evaluate("window.violations")
        for path in [*PAGE_TYPES, *DUTCH_PAGES]:
            visitor.open(path)
            violations += visitor.page.evaluate("window.violations")
        assert violations == []
        assert [e for e in visitor.errors if "Content Security Policy" in e] == []
    finally:
        served.close()


def test_the_sites_own_backend_needs_no_host_in_form_action_or_connect_src(site):
    policy = dict(
        part.strip().split(" ", 1)
        for part in headers_file(site)["Content-Security-Policy"].split(";")
    )
    assert policy["form-action"] == "'self'"
    # connect-src: 'self' for the forms; beyond it only Google Analytics, which the banner
    # loads after consent.
    others = [s for s in policy["connect-src"].split() if "google" not in s]
    assert others == ["'self'"]

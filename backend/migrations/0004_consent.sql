-- Consent receipts (one row per choice a visitor made, never updated) and the banner
-- manifests and screenshots that show what each banner version looked like.

CREATE TABLE consent_receipts (
    consent_id TEXT NOT NULL,    -- 32 hex, random in the visitor's browser
    seq BIGINT NOT NULL,         -- 1 for the ID's first choice, +1 for each next one
    action TEXT NOT NULL,        -- accept | reject | save | withdraw | always
    analytics TEXT NOT NULL,     -- 1 | 0 | -
    embeds TEXT NOT NULL,        -- providers always allowed, "a+b", or ""
    revision TEXT NOT NULL,      -- the consent revision, YYYY-MM-DD
    banner TEXT NOT NULL,        -- the banner version the choice was made in
    lang TEXT NOT NULL,
    path TEXT NOT NULL,          -- the page's path, no query string
    gpc BIGINT NOT NULL,         -- 1 when Global Privacy Control was on
    client_time TEXT NOT NULL,   -- the visitor's clock, ISO UTC
    received_at TEXT NOT NULL,   -- the backend's clock, ISO UTC
    PRIMARY KEY (consent_id, seq)
);
CREATE INDEX consent_receipts_received_at ON consent_receipts (received_at);

-- Each banner version the backend has learnt: its manifest as the build wrote it.
CREATE TABLE consent_banners (
    banner_version TEXT PRIMARY KEY,
    manifest TEXT NOT NULL,          -- output/consent/banner.json, as text
    manifest_sha256 TEXT NOT NULL,
    learnt_at TEXT NOT NULL,
    evidence TEXT                    -- evidence.json of `make audit`, once learnt
);

-- The audit's screenshots of a banner version, base64 (TEXT works on both databases).
CREATE TABLE consent_screenshots (
    banner_version TEXT NOT NULL,
    file TEXT NOT NULL,              -- e.g. en-banner-390.png
    sha256 TEXT NOT NULL,
    png_base64 TEXT NOT NULL,
    PRIMARY KEY (banner_version, file)
);

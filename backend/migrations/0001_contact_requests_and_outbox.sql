-- Callback and quotation requests, the mail they cause, and what misuse costs.
-- Times are ISO 8601 text in UTC; ids are made by the backend.

CREATE TABLE contact_requests (
    id TEXT PRIMARY KEY,
    received_at TEXT NOT NULL,
    kind TEXT NOT NULL,          -- callback | quotation
    lang TEXT NOT NULL,
    page TEXT NOT NULL,          -- the path of the page the form was on
    name TEXT NOT NULL,
    phone TEXT NOT NULL,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL,     -- the address in lower case, for rights requests
    country TEXT NOT NULL,
    message TEXT NOT NULL
);
CREATE INDEX contact_requests_email_key ON contact_requests (email_key);
CREATE INDEX contact_requests_received_at ON contact_requests (received_at);

-- The transactional outbox: written in the transaction of what caused the mail.
CREATE TABLE outbox (
    id TEXT PRIMARY KEY,
    created_at TEXT NOT NULL,
    kind TEXT NOT NULL,          -- e.g. contact-notify, contact-confirm
    email_key TEXT NOT NULL,     -- whose data the mail holds, for rights requests
    recipient TEXT NOT NULL,
    message TEXT NOT NULL,       -- the whole RFC 5322 message
    attempts BIGINT NOT NULL,
    next_attempt_at TEXT NOT NULL,
    sent_at TEXT,
    last_error TEXT              -- the error's kind only, never the mail's data
);
CREATE INDEX outbox_due ON outbox (sent_at, next_attempt_at);
CREATE INDEX outbox_email_key ON outbox (email_key);

-- Posts per client per window; the client is a keyed hash of its address.
CREATE TABLE rate_limits (
    client TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    hits BIGINT NOT NULL,
    PRIMARY KEY (client, window_start)
);

-- Refused posts counted per day, form and reason: no personal data.
CREATE TABLE misuse_events (
    day TEXT NOT NULL,
    form TEXT NOT NULL,
    reason TEXT NOT NULL,
    count BIGINT NOT NULL,
    PRIMARY KEY (day, form, reason)
);

-- Newsletter subscriptions with double opt-in, and the proof of each opt-in.

CREATE TABLE newsletter_subscribers (
    id TEXT PRIMARY KEY,
    email TEXT NOT NULL,
    email_key TEXT NOT NULL UNIQUE,  -- the address in lower case
    name TEXT NOT NULL,
    lang TEXT NOT NULL,
    page TEXT NOT NULL,
    asked_at TEXT NOT NULL,          -- when the form was sent
    asked_text TEXT NOT NULL,        -- the words beside the form the visitor agreed to
    confirmed_at TEXT                -- when the link in the mail was confirmed; NULL: pending
);

-- After unsubscribing only a hash of the address is kept, so that no import or export
-- adds it again by mistake; a new confirmed opt-in removes it.
CREATE TABLE newsletter_unsubscribed (
    email_hash TEXT PRIMARY KEY,
    unsubscribed_at TEXT NOT NULL
);

-- The nonce of each form token that admitted a post, so a token works once: a replayed
-- token is refused. Kept until the token would have expired anyway (`prune` deletes it).

CREATE TABLE used_tokens (
    nonce TEXT PRIMARY KEY,
    until BIGINT NOT NULL  -- Unix seconds after which the token is refused as old anyway
);

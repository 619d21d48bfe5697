-- Login throttling per account and client address, counted atomically: one row per (username,
-- source) and window, incremented before the password is checked, so parallel guesses cannot
-- outrun the limit; throttled attempts are a counter here, not an audit row each.
CREATE TABLE login_attempts (
    username TEXT NOT NULL,
    source TEXT NOT NULL,
    window_start BIGINT NOT NULL,
    attempts BIGINT NOT NULL,
    throttled BIGINT NOT NULL DEFAULT 0,
    last_at BIGINT NOT NULL,
    PRIMARY KEY (username, source)
);
CREATE INDEX login_attempts_window ON login_attempts(window_start);
DROP TABLE login_failures;

-- SLA: business calendars (administrator overrides on top of the shipped PRC holidays) and policies.

CREATE TABLE calendars (
    id INTEGER PRIMARY KEY,
    code TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    kind TEXT NOT NULL,
    -- JSON: seven arrays (Monday first) of [start_minute, end_minute] pairs.
    weekly TEXT NOT NULL,
    use_prc_holidays BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- A company holiday (off = TRUE) or a special working day (off = FALSE), as a plain date in Asia/Shanghai.
CREATE TABLE calendar_days (
    calendar_id BIGINT NOT NULL REFERENCES calendars(id) ON DELETE CASCADE,
    day TEXT NOT NULL,
    off BOOLEAN NOT NULL,
    note TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (calendar_id, day)
);

CREATE TABLE sla_policies (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    -- NULL matches any value; the most specific active policy wins, then the lowest priority number.
    request_type TEXT,
    urgency TEXT,
    tier TEXT,
    calendar_code TEXT NOT NULL,
    response_minutes BIGINT NOT NULL,
    resolution_minutes BIGINT NOT NULL,
    priority BIGINT NOT NULL DEFAULT 100,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);

-- Stations may work on their own calendar.
ALTER TABLE stations ADD COLUMN calendar_code TEXT;

INSERT INTO calendars (code, name, kind, weekly, use_prc_holidays, created_at, updated_at) VALUES
 ('cn-workday', '中国工作日（含法定节假日与调休）', 'working', '[[[510,720],[810,1050]],[[510,720],[810,1050]],[[510,720],[810,1050]],[[510,720],[810,1050]],[[510,720],[810,1050]],[],[]]', TRUE, 0, 0),
 ('24x7', '全天候（7×24 小时热线）', 'always_open', '[[[0,1440]],[[0,1440]],[[0,1440]],[[0,1440]],[[0,1440]],[[0,1440]],[[0,1440]]]', FALSE, 0, 0);

-- Defaults from PRODUCT.md §3: urgent response 1 h; consultation first reply 5 min on the 24×7 hotline;
-- general response within a working day and a detailed solution within three.
INSERT INTO sla_policies (name, request_type, urgency, tier, calendar_code, response_minutes, resolution_minutes, priority, created_at, updated_at) VALUES
 ('紧急问题：1 小时响应', NULL, 'urgent', NULL, '24x7', 60, 1440, 10, 0, 0),
 ('咨询：5 分钟首次答复', 'consultation', NULL, NULL, '24x7', 5, 1440, 20, 0, 0),
 ('投诉：2 小时响应', 'complaint', NULL, NULL, '24x7', 120, 1440, 30, 0, 0),
 ('一般问题：1 个工作日响应', NULL, NULL, NULL, 'cn-workday', 480, 1440, 100, 0, 0);

-- What the elected singletons (the expectation evaluator, the alert actor)
-- keep across a takeover, so a new leader carries on where the old one
-- stopped: one document per singleton, fenced by an epoch each takeover
-- raises (a deposed leader's late write matches no row); the ad-hoc
-- maintenance windows any instance adds; the acknowledgements followers
-- take and the leader applies.

CREATE TABLE epm_leader_state (
    name        text PRIMARY KEY,          -- 'alerts' | 'expectations'
    doc         jsonb,                     -- NULL until the first write
    epoch       bigint NOT NULL DEFAULT 0, -- raised by each leader that loads it
    updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE SEQUENCE epm_maintenance_id AS bigint;

CREATE TABLE epm_maintenance (
    id          text PRIMARY KEY,          -- 'm-<n>'
    name        text NOT NULL,
    apps        text[] NOT NULL,           -- empty = every app
    start_at    timestamptz NOT NULL,
    end_at      timestamptz NOT NULL,
    created_by  text,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_maintenance_end ON epm_maintenance (end_at);

CREATE TABLE epm_alert_acks (
    alert_id     text PRIMARY KEY,
    requested_by text,
    requested_at timestamptz NOT NULL DEFAULT now()
);

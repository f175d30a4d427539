-- The state in PostgreSQL: the current status per app and domain, every
-- applied change (the status audit, whose id is the change id), the recent
-- jobs, and the one function every group commit calls.

CREATE TABLE epm_state (
    singleton   boolean PRIMARY KEY DEFAULT true CHECK (singleton),
    created_at  timestamptz NOT NULL DEFAULT now()
);
INSERT INTO epm_state DEFAULT VALUES;

CREATE TABLE epm_status (
    app_name     text NOT NULL,
    domain_name  text NOT NULL,
    status       text NOT NULL CHECK (status IN ('Blank', 'Loading', 'OK', 'Warning')),
    job_id       text,
    message      text,
    updated_at   timestamptz,          -- event time of the last applied change; NULL = never
    started_at   timestamptz,          -- when the current Loading began
    duration_sec bigint,
    source       text NOT NULL DEFAULT 'system' CHECK (source IN ('push', 'poll', 'system')),
    CONSTRAINT uk_app_domain UNIQUE (app_name, domain_name)
);
CREATE INDEX idx_status_app ON epm_status (app_name);

-- Change ids: strictly increasing across instances, in commit order (the
-- commit function takes a transaction lock before drawing them).
CREATE SEQUENCE epm_change_id AS bigint;

CREATE TABLE epm_status_audit (
    id            bigint PRIMARY KEY,  -- the change id
    app_name      text NOT NULL,
    domain_name   text NOT NULL,
    old_status    text,
    new_status    text NOT NULL,
    job_id        text,
    message       text,
    event_time    timestamptz NOT NULL,
    received_time timestamptz NOT NULL,
    started_at    timestamptz,
    duration_sec  bigint,
    source        text NOT NULL,
    key_name      text,
    changed_by    text                 -- the instance that committed it (application_name)
);
CREATE INDEX idx_audit_domain ON epm_status_audit (app_name, domain_name, id);
CREATE INDEX idx_audit_received ON epm_status_audit (received_time);

CREATE TABLE epm_job_history (
    job_id        text PRIMARY KEY,
    apps_affected text[] NOT NULL,
    status        text NOT NULL,
    started_at    timestamptz,
    completed_at  timestamptz,
    updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX idx_job_history_started ON epm_job_history (started_at);
CREATE INDEX idx_job_history_updated ON epm_job_history (updated_at);

-- One group commit: `changes` is a JSON array of applied changes in apply
-- order (fields below), `jobs` the recent jobs they touched. A change is
-- written only while the event-time rule holds in the database: the domain
-- was never updated, or the change is not older than what is stored and
-- differs from it. So two instances racing for a domain never move it
-- back, and a repeated commit changes nothing. Returns (ord, id) for each
-- change written; a change refused is absent. Notifies the instances with
-- the highest id written.
CREATE FUNCTION epm_commit(changes jsonb, jobs jsonb) RETURNS TABLE (ord int, id bigint)
LANGUAGE plpgsql AS $$
#variable_conflict use_column
DECLARE
    before bigint;
    highest bigint;
BEGIN
    -- Readers fetch "id > the last id seen": an id drawn before another
    -- but committed after it would be skipped. One lock per commit makes
    -- ids visible in the order they were drawn.
    PERFORM pg_advisory_xact_lock(4242, 1);
    SELECT coalesce(max(a.id), 0) INTO before FROM epm_status_audit a;
    RETURN QUERY
    WITH input AS (
        SELECT * FROM jsonb_to_recordset(changes) AS c(
            ord int, app text, domain text, old_status text, status text, job_id text,
            message text, event_time timestamptz, received_time timestamptz,
            started_at timestamptz, duration_sec bigint, source text, key_name text)
    ), latest AS (
        SELECT DISTINCT ON (app, domain) * FROM input ORDER BY app, domain, ord DESC
    ), written AS (
        INSERT INTO epm_status AS s (app_name, domain_name, status, job_id, message,
                                     updated_at, started_at, duration_sec, source)
        SELECT app, domain, status, job_id, message, event_time, started_at, duration_sec, source
          FROM latest
        ON CONFLICT (app_name, domain_name) DO UPDATE
           SET status = EXCLUDED.status, job_id = EXCLUDED.job_id, message = EXCLUDED.message,
               updated_at = EXCLUDED.updated_at, started_at = EXCLUDED.started_at,
               duration_sec = EXCLUDED.duration_sec, source = EXCLUDED.source
         WHERE s.updated_at IS NULL
            OR (EXCLUDED.updated_at >= s.updated_at
                AND (s.status, s.job_id, s.message) IS DISTINCT FROM
                    (EXCLUDED.status, EXCLUDED.job_id, EXCLUDED.message))
        RETURNING s.app_name, s.domain_name
    ), numbered AS (
        SELECT i.*, nextval('epm_change_id') AS change_id
          FROM (SELECT i.* FROM input i
                  JOIN written w ON w.app_name = i.app AND w.domain_name = i.domain
                 ORDER BY i.ord) i
    ), audited AS (
        INSERT INTO epm_status_audit (id, app_name, domain_name, old_status, new_status, job_id,
                                      message, event_time, received_time, started_at,
                                      duration_sec, source, key_name, changed_by)
        SELECT change_id, app, domain, old_status, status, job_id, message, event_time,
               received_time, started_at, duration_sec, source, key_name,
               current_setting('application_name')
          FROM numbered
    )
    SELECT n.ord, n.change_id FROM numbered n ORDER BY n.change_id;

    INSERT INTO epm_job_history AS h (job_id, apps_affected, status, started_at, completed_at)
    SELECT j.job_id, j.apps, j.status, j.started_at, j.completed_at
      FROM jsonb_to_recordset(jobs) AS j(job_id text, apps text[], status text,
                                         started_at timestamptz, completed_at timestamptz)
    ON CONFLICT (job_id) DO UPDATE
       SET apps_affected = EXCLUDED.apps_affected, status = EXCLUDED.status,
           started_at = EXCLUDED.started_at, completed_at = EXCLUDED.completed_at,
           updated_at = now();

    SELECT coalesce(max(a.id), 0) INTO highest FROM epm_status_audit a;
    IF highest > before THEN
        PERFORM pg_notify('epm_changes', highest::text);
    END IF;
END;
$$;

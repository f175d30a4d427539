-- The history in PostgreSQL mode: GET /api/v1/history filters the status
-- audit by app, job and received time, newest first (by id), and alert
-- events are kept next to it (GET /api/v1/alerts/history).

-- One app's changes and one job's, in id order (one domain's are
-- idx_audit_domain, the received-time bounds idx_audit_received).
CREATE INDEX idx_audit_app ON epm_status_audit (app_name, id);
CREATE INDEX idx_audit_job ON epm_status_audit (job_id, id);

CREATE TABLE epm_alert_events (
    id          bigserial PRIMARY KEY,
    at          timestamptz NOT NULL,
    alert_id    text NOT NULL,
    app_name    text NOT NULL,
    domain_name text NOT NULL,
    kind        text NOT NULL,
    event       text NOT NULL,
    target      text,              -- deliveries: slack | webhook
    channel     text,              -- Slack deliveries
    message     text,              -- deliveries: which message
    detail      text NOT NULL,
    changed_by  text NOT NULL DEFAULT current_setting('application_name')
);
CREATE INDEX idx_alert_events_alert ON epm_alert_events (alert_id, id);
CREATE INDEX idx_alert_events_domain ON epm_alert_events (app_name, domain_name, id);
CREATE INDEX idx_alert_events_at ON epm_alert_events (at);

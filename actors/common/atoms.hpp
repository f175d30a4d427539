#pragma once

// Every atom of the service's actor protocols, in one spelling: the type
// `x_atom` names a message in a typed interface, the value `x_atom_v` is what
// a sender writes (CAF 0.18's spelling; 0.17 has only the types, so the
// values are declared here). CAF 0.17 atoms hold at most 10 characters.
//
// Each timer has an atom of its own, so a handler says which timer fired by
// its signature instead of a number inside a shared tick message.

#include <caf/atom.hpp>

namespace epmpulse {

#define EPMPULSE_ATOM(name, text)                                                        \
  using name##_atom = caf::atom_constant<caf::atom(text)>;                                \
  inline constexpr name##_atom name##_atom_v {}

// -- requests between actors --------------------------------------------------
EPMPULSE_ATOM(apply, "apply");         ///< state: apply validated updates
EPMPULSE_ATOM(get, "get");             ///< state: a GET body
EPMPULSE_ATOM(health, "health");       ///< any part: its side of GET /health
EPMPULSE_ATOM(metrics, "metrics");     ///< any part: its counters for /metrics
EPMPULSE_ATOM(snapshot, "snapshot");   ///< state: an immutable copy of the state
EPMPULSE_ATOM(subscribe, "subscribe"); ///< state: send me every durable change
EPMPULSE_ATOM(changed, "changed");     ///< to subscribers: a durable change set
EPMPULSE_ATOM(flush, "flush");         ///< state: make everything durable (shutdown)
EPMPULSE_ATOM(write, "write");         ///< writers: write a file
EPMPULSE_ATOM(backup, "backup");       ///< state writer: copy into backups/
EPMPULSE_ATOM(append, "append");       ///< log writer: append records
EPMPULSE_ATOM(rotate, "rotate");       ///< log writer: move the log aside
EPMPULSE_ATOM(drop, "drop");           ///< log writer: delete the moved log
EPMPULSE_ATOM(compress, "compress");   ///< body compressor: gzip a body
EPMPULSE_ATOM(sync, "sync");           ///< canvas: send every canvas now
EPMPULSE_ATOM(preview, "preview");     ///< canvas: render without sending
EPMPULSE_ATOM(token, "token");         ///< token actor: an Authorization header
EPMPULSE_ATOM(invalid, "invalidate");  ///< token actor: EPM refused this token
EPMPULSE_ATOM(watch, "watch");         ///< poller: watch a job
EPMPULSE_ATOM(unwatch, "unwatch");     ///< poller: stop watching a domain
EPMPULSE_ATOM(fetch, "fetch");         ///< HTTP client: one outbound request
EPMPULSE_ATOM(reload, "reload");       ///< key reloader: re-read API keys and rate limits
EPMPULSE_ATOM(expectation, "expect");  ///< state: the evaluator's expectation marks
EPMPULSE_ATOM(maintenance, "maint");   ///< evaluator: add an ad-hoc maintenance window
EPMPULSE_ATOM(alert, "alert");         ///< alert actor: the bad domains now; list the open alerts
EPMPULSE_ATOM(ack, "ack");             ///< alert actor: silence an open alert until it recovers
EPMPULSE_ATOM(commit, "commit");       ///< database writer: commit one group in one transaction
EPMPULSE_ATOM(remote, "remote");       ///< state: changes other instances committed
EPMPULSE_ATOM(leader, "leader");       ///< to singletons: this instance leads (true) or follows
EPMPULSE_ATOM(role, "role");           ///< leader elector: the role and the database check
EPMPULSE_ATOM(query, "query");         ///< history: a page of changes
EPMPULSE_ATOM(stats, "stats");         ///< history: run statistics per domain
EPMPULSE_ATOM(attach, "attach");       ///< event hub: a new live stream
EPMPULSE_ATOM(load, "load");           ///< leader store: take over (and read) a singleton's state

// -- timers (each actor's messages to itself) ------------------------------------
EPMPULSE_ATOM(stale_sweep, "stalesweep");     ///< state: Loading too long becomes Warning
EPMPULSE_ATOM(backup_due, "backupdue");       ///< state: time for a backup copy
EPMPULSE_ATOM(append_retry, "appendretr");    ///< state: retry a failed log append
EPMPULSE_ATOM(snapshot_due, "snapdue");       ///< state: rewrite the JSON file
EPMPULSE_ATOM(deliver, "deliver");            ///< body compressor: answer the waiting readers
EPMPULSE_ATOM(debounce_due, "debounce");      ///< canvas: a trailing render is due
EPMPULSE_ATOM(retry_due, "retrydue");         ///< canvas: a backoff or periodic retry
EPMPULSE_ATOM(resume_due, "resumedue");       ///< canvas: a workspace Retry-After is over
EPMPULSE_ATOM(sync_deadline, "syncdead");     ///< canvas: a sync must answer now
EPMPULSE_ATOM(auth_check_due, "authcheck");   ///< canvas: re-check the Slack token (auth.test)
EPMPULSE_ATOM(poll_due, "polldue");           ///< poller: the next job poll is due
EPMPULSE_ATOM(refresh_due, "refreshdue");     ///< token actor: refresh or backoff over
EPMPULSE_ATOM(keepalive_due, "keepalive");    ///< token actor: use the refresh token before it lapses
EPMPULSE_ATOM(save_retry, "saveretry");       ///< token actor: save the rotated refresh token again
EPMPULSE_ATOM(snapshot_retry, "snapretry");   ///< EPM router: ask for the start-up snapshot again
EPMPULSE_ATOM(deadline_sweep, "deadsweep");   ///< HTTP edge: answer requests past their deadline
EPMPULSE_ATOM(evaluate_due, "evaldue");       ///< evaluator: judge every expectation now
EPMPULSE_ATOM(delivery_due, "delivdue");      ///< alert actor: send or retry a message
EPMPULSE_ATOM(listen_due, "listendue");       ///< change listener: wait for notifications again
EPMPULSE_ATOM(elect_due, "electdue");         ///< leader elector: try the lock or check the session
EPMPULSE_ATOM(commit_due, "commitdue");       ///< history: commit what arrived
EPMPULSE_ATOM(prune_due, "prunedue");         ///< history: retention by age and size
EPMPULSE_ATOM(events_keepalive, "evkeepaliv"); ///< event hub: a comment to every stream
EPMPULSE_ATOM(catch_up_due, "catchup");       ///< event hub: read the next page for a stream
EPMPULSE_ATOM(ack_poll_due, "ackpoll");       ///< alert actor: take acknowledgements other instances stored
EPMPULSE_ATOM(takeover_due, "takeover");      ///< singletons: read the leader store again after a failure
EPMPULSE_ATOM(events_flush, "evflush");       ///< event hub: offer the changes gathered to the streams

#undef EPMPULSE_ATOM

} // namespace epmpulse

#!/usr/bin/env python3
"""Helpers for bench/run.sh: the bench config, /metrics parsing, result rows,
the canvas check and the final table / results JSON.

  bench_util.py config  --apps A,B,C --domains N --write-key K --admin-key K --read-key K
                        [--io-threads 1] [--actor-threads 1] [--slack-url URL --slack-interval S]
  bench_util.py metrics FILE                      counters of a /metrics scrape, as JSON
  bench_util.py row     --scenario S --tool-json F [--before F --after F] [--rss-kb N]
                        [--extra JSON]            one result row (JSON line) on stdout
  bench_util.py canvas  --slack URL --server URL --admin-key K --interval S --duration S
                        wait for the last canvas edit, check it and the edit count (JSON)
  bench_util.py report  --rows F --out F --command C [--quick]
                        print the table and targets, write the results JSON

The app/domain layout matches load_client and the wrk scripts: pair i is app
apps[i % len(apps)] with domain "D%05d" % i.
"""

import argparse
import datetime
import json
import math
import os
import platform
import re
import sys

# -- config -----------------------------------------------------------------------


def cmd_config(a):
    apps = a.apps.split(",")
    domains = {app: [] for app in apps}
    for i in range(a.domains):
        domains[apps[i % len(apps)]].append("D%05d" % i)
    cfg = {"apps": {}, "channels": {}, "api_keys": [
        {"name": "bench_write", "key": a.write_key, "role": "write"},
        {"name": "bench_admin", "key": a.admin_key, "role": "admin"},
        {"name": "bench_read", "key": a.read_key, "role": "read"},
    ], "settings": {
        "log_level": a.log_level,
        "server": {"io_threads": a.io_threads, "actor_threads": a.actor_threads},
        "rate_limits": {"enabled": False},
    }}
    # Two canvases when Slack is on: the first app(s) on one, the last on the other.
    channel_of = {}
    if a.slack_url:
        channels = ["CBENCH001", "CBENCH002"] if len(apps) > 1 else ["CBENCH001"]
        for n, ch in enumerate(channels):
            cfg["channels"][ch] = {"name": "bench-%d" % (n + 1), "canvas_id": "FBENCH%03d" % (n + 1)}
        for n, app in enumerate(apps):
            channel_of[app] = channels[-1] if (n == len(apps) - 1 and len(channels) > 1) else channels[0]
        cfg["settings"]["slack"] = {
            "bot_token": "xoxb-bench-not-a-real-token",
            "api_url": a.slack_url,
            "min_update_interval_sec": a.slack_interval,
        }
    for app in apps:
        entry = {"display_name": app, "domains": domains[app], "strict_domains": False}
        entry["channels"] = [channel_of[app]] if app in channel_of else []
        cfg["apps"][app] = entry
    json.dump(cfg, sys.stdout, indent=1)
    sys.stdout.write("\n")


# -- metrics ----------------------------------------------------------------------

METRIC_LINE = re.compile(r"^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})?\s+([-+0-9.eE]+|NaN|\+Inf|-Inf)")


def parse_metrics(text):
    """Sums every series of each metric name (labels dropped)."""
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = METRIC_LINE.match(line)
        if not m:
            continue
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        out[m.group(1)] = out.get(m.group(1), 0.0) + value
    return out


def load_metrics(path):
    if not path or not os.path.exists(path):
        return {}
    with open(path) as f:
        return parse_metrics(f.read())


def cmd_metrics(a):
    print(json.dumps(load_metrics(a.file)))


# -- rows -------------------------------------------------------------------------

COMMITS = "epmpulse_state_commits_total"
COMMITTED = "epmpulse_state_committed_requests_total"


def steal_percent(before, after):
    """Share of CPU time the hypervisor took from this VM between two
    /proc/stat "cpu" lines: while it is high, latency tails measure the host."""
    if not before or not after:
        return None
    b = [int(x) for x in before.split()[1:]]
    e = [int(x) for x in after.split()[1:]]
    if len(b) < 8 or len(e) < 8:
        return None
    # user nice system idle iowait irq softirq steal; guest time is in user.
    total = sum(e[:8]) - sum(b[:8])
    return round(100.0 * (e[7] - b[7]) / total, 1) if total > 0 else None


def cmd_row(a):
    with open(a.tool_json) as f:
        text = f.read().strip()
    try:
        tool = json.loads(text.splitlines()[-1]) if text else {}
    except ValueError:
        tool = {"tool_error": text[-500:]}
    row = {"scenario": a.scenario}
    row.update(tool)
    before, after = load_metrics(a.before), load_metrics(a.after)
    if before and after:
        commits = after.get(COMMITS, 0) - before.get(COMMITS, 0)
        committed = after.get(COMMITTED, 0) - before.get(COMMITTED, 0)
        row["state_commits"] = int(commits)
        row["committed_requests"] = int(committed)
        row["avg_commit_group"] = round(committed / commits, 2) if commits > 0 else None
        deltas = {}
        for name, value in after.items():
            if re.match(r"epmpulse_(canvas|slack)_", name):
                deltas[name] = value - before.get(name, 0)
        if deltas:
            row["canvas_metrics"] = deltas
    elif a.before or a.after:
        row["metrics_error"] = "GET /metrics gave nothing readable"
    if a.rss_kb:
        row["rss_mib"] = round(int(a.rss_kb) / 1024.0, 1)
    steal = steal_percent(a.cpu_before, a.cpu_after)
    if steal is not None:
        row["cpu_steal_pct"] = steal
    if a.extra:
        row.update(json.loads(a.extra))
    print(json.dumps(row))


# -- canvas -----------------------------------------------------------------------


def http_get(url, key=None, timeout=10):
    """GET on loopback, never through a proxy from the environment."""
    import urllib.request
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    req = urllib.request.Request(url)
    if key:
        req.add_header("Authorization", "Bearer " + key)
    with opener.open(req, timeout=timeout) as res:
        return res.status, res.read().decode("utf-8", "replace")


def preview_markdown(text, channel=None):
    """The markdown of GET /api/v1/canvas/preview: {"canvases": [{"channel",
    "canvas_id", "markdown"}]} (a bare "markdown" field is accepted too)."""
    try:
        doc = json.loads(text)
    except ValueError:
        return text
    if isinstance(doc, dict) and isinstance(doc.get("canvases"), list):
        for c in doc["canvases"]:
            if isinstance(c, dict) and (channel is None or c.get("channel") == channel):
                if isinstance(c.get("markdown"), str):
                    return c["markdown"]
        return None
    if isinstance(doc, dict):
        for key in ("markdown", "canvas"):
            v = doc.get(key)
            if isinstance(v, str):
                return v
            if isinstance(v, dict) and isinstance(v.get("markdown"), str):
                return v["markdown"]
    return None


def cmd_canvas(a):
    """Waits (bounded) until each canvas's last edit equals the server's
    preview of that channel, then reports edits against the limit."""
    import time
    limit = math.floor(a.duration / a.interval) + 1
    deadline = time.time() + a.timeout
    channels = a.channels.split(",")
    while True:
        _, body = http_get(a.slack + "/_stats")
        stats = json.loads(body)
        finals, notes = {}, []
        for ch in channels:
            canvas = "FBENCH" + ch[len("CBENCH"):]
            try:
                code, text = http_get("%s/api/v1/canvas/preview?channel=%s" % (a.server, ch), a.admin_key)
                want = preview_markdown(text, ch) if code == 200 else None
            except Exception as e:  # 404 while the canvas side is not wired, ...
                want, code = None, str(e)
            if want is None:
                notes.append("no preview for %s (%s)" % (ch, code))
            finals[canvas] = want is not None and stats.get("last_markdown", {}).get(canvas) == want
        if all(finals.values()) or time.time() > deadline:
            break
        time.sleep(0.25)
    edits = stats.get("edits", {})
    result = {"canvas_limit_per_canvas": limit, "canvases": {}}
    ok = bool(edits)
    for ch in channels:
        canvas = "FBENCH" + ch[len("CBENCH"):]
        n = edits.get(canvas, 0)
        result["canvases"][canvas] = {"edits": n, "within_limit": n <= limit, "final_state": finals[canvas]}
        ok = ok and n <= limit and finals[canvas]
    result["canvas_edits"] = sum(edits.values())
    result["canvas_max_edits"] = max(edits.values()) if edits else 0
    result["slack_calls"] = stats.get("calls", {})
    result["canvas_ok"] = ok
    if not edits:
        notes.append("no canvases.edit call reached the fake Slack")
    if notes:
        result["canvas_note"] = "; ".join(sorted(set(notes)))
    print(json.dumps(result))


# -- report -----------------------------------------------------------------------


def machine():
    info = {"nproc": os.cpu_count(), "kernel": platform.release()}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    info["cpu"] = line.split(":", 1)[1].strip()
                    break
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemTotal"):
                    info["ram_gib"] = round(int(line.split()[1]) / 1024 / 1024, 1)
        with open("/proc/loadavg") as f:
            info["loadavg_at_end"] = f.read().split()[:3]
    except OSError:
        pass
    return info


def fmt(v, spec="{:.0f}", none="-"):
    if v is None:
        return none
    try:
        return spec.format(v)
    except (ValueError, TypeError):
        return str(v)


def cmd_report(a):
    rows = []
    with open(a.rows) as f:
        for line in f:
            line = line.strip()
            if line:
                rows.append(json.loads(line))
    # The baseline of each tool: the mean of its runs (start and end of the run).
    # GET rows with a body are measured against the bare server sending a body
    # of their size (get_1000_bare, get_1000_gzip_bare): the POST baseline's
    # small answer says nothing there. The polling row, answered 304 without a
    # body, is measured against that small answer.
    def first_rate(scenario, tool):
        rates = [r["req_per_s"] for r in rows
                 if r["scenario"] == scenario and r.get("tool") == tool and r.get("req_per_s")]
        return rates[0] if rates else None

    base, bare_base = {}, {}
    for tool in ("wrk", "load_client"):
        rates = [r["req_per_s"] for r in rows
                 if r["scenario"] == "baseline" and r.get("tool") == tool and r.get("req_per_s")]
        if rates:
            base[tool] = sum(rates) / len(rates)
        for scenario in ("get_1000", "get_1000_gzip"):
            bare_base[(scenario, tool)] = first_rate(scenario + "_bare", tool)
    for r in rows:
        scenario, tool = r["scenario"], r.get("tool")
        if scenario == "baseline" or scenario.endswith("_bare"):
            b = None
        elif (scenario, tool) in bare_base:
            b = bare_base[(scenario, tool)]
        else:
            b = base.get(tool)
        if b and r.get("req_per_s") is not None:
            r["ratio_to_baseline"] = round(r["req_per_s"] / b, 3)
        if r.get("tool") == "wrk" and r["scenario"].startswith("batch") and r.get("req_per_s"):
            r["updates_per_s"] = r["req_per_s"] * 10
        elif r.get("tool") == "wrk" and r["scenario"].startswith("mixed") and r.get("req_per_s"):
            r["updates_per_s"] = r["req_per_s"] * 0.9  # expected share of pushes
        elif r.get("tool") == "wrk" and r["scenario"].startswith("post") and r.get("req_per_s"):
            r["updates_per_s"] = r["req_per_s"]

    head = ["scenario", "tool", "req/s", "upd/s", "x base", "p50 ms", "p99 ms", "errors", "lost",
            "commits", "avg group", "canvas edits", "RSS MiB", "steal %"]
    table = []
    for r in rows:
        table.append([
            r["scenario"], r.get("tool", "?"),
            fmt(r.get("req_per_s")), fmt(r.get("updates_per_s")),
            fmt(r.get("ratio_to_baseline"), "{:.2f}"),
            fmt(r.get("p50_ms"), "{:.2f}"), fmt(r.get("p99_ms"), "{:.2f}"),
            fmt(r.get("errors")), fmt(r.get("lost")),
            fmt(r.get("state_commits")), fmt(r.get("avg_commit_group"), "{:.1f}"),
            fmt(r.get("canvas_max_edits") if "canvas_edits" in r else None),
            fmt(r.get("rss_mib"), "{:.1f}"),
            fmt(r.get("cpu_steal_pct"), "{:.1f}"),
        ])
    widths = [max(len(str(x)) for x in col) for col in zip(head, *table)]
    lines = ["| " + " | ".join(str(h).ljust(w) for h, w in zip(head, widths)) + " |",
             "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    for t in table:
        lines.append("| " + " | ".join(str(x).rjust(w) if i > 1 else str(x).ljust(w)
                                       for i, (x, w) in enumerate(zip(t, widths))) + " |")

    def find(scenario, tool):
        for r in rows:
            if r["scenario"] == scenario and r.get("tool") == tool:
                return r
        return None

    targets = []

    def target(name, ok, detail):
        targets.append({"target": name, "ok": ok, "detail": detail})

    p150, p1000 = find("post_150", "wrk"), find("post_1000", "wrk")
    if p150 and p150.get("ratio_to_baseline") is not None:
        target("durable POST, 3x50 domains, 64 conns: >= 0.5x baseline, p99 <= 10 ms",
               p150["ratio_to_baseline"] >= 0.5 and p150.get("p99_ms", 1e9) <= 10,
               "%.2fx, p99 %.2f ms" % (p150["ratio_to_baseline"], p150.get("p99_ms", float("nan"))))
    if p1000 and p1000.get("ratio_to_baseline") is not None:
        target("durable POST, 1,000 domains: >= 0.35x baseline", p1000["ratio_to_baseline"] >= 0.35,
               "%.2fx, p99 %.2f ms" % (p1000["ratio_to_baseline"], p1000.get("p99_ms", float("nan"))))
    # GET: one line per way of asking. The bytes a request moves decide the
    # tail at 64 connections (each waits for the others' bodies), so each line
    # also shows the bare server sending the same bytes.
    get_ways = [("get_1000", "uncompressed", "get_1000_bare", a.get_body_bytes),
                ("get_1000_gzip", "gzip, as browsers ask", "get_1000_gzip_bare", a.get_gzip_bytes),
                ("get_1000_poll", "dashboard polling with If-None-Match", None, 0)]
    for scenario, how, bare_scenario, nbytes in get_ways:
        g = find(scenario, "wrk") or find(scenario, "load_client")
        if not g:
            continue
        detail = "p99 %.2f ms, %.0f req/s" % (g.get("p99_ms", float("nan")), g.get("req_per_s", 0))
        if bare_scenario:
            bare = find(bare_scenario, "wrk") or {}
            detail += ("; the bare server sending the same %s bytes: p99 %.2f ms, %.0f req/s (%.2fx)"
                       % (nbytes or "?", bare.get("p99_ms", float("nan")), bare.get("req_per_s", 0),
                          g.get("ratio_to_baseline") or float("nan")))
        target("GET /status, 1,000 domains, 64 conns, %s: p99 <= 5 ms" % how,
               g.get("p99_ms", 1e9) <= 5, detail)
    for tool in ("wrk", "load_client"):
        b, s = find("batch_150", tool), find("post_150", tool)
        if b and s and s.get("updates_per_s"):
            f = b.get("updates_per_s", 0) / s["updates_per_s"]
            target("batches of 10: >= 5x single-update updates/s (%s)" % tool, f >= 5,
                   "%.1fx (%.0f vs %.0f updates/s)" % (f, b.get("updates_per_s", 0), s["updates_per_s"]))
    c = find("canvas_150", "load_client")
    if c and "canvas_ok" in c:
        target("canvas edits per canvas <= duration/interval + 1, last edit = final state",
               bool(c["canvas_ok"]),
               "max %s edits (limit %s); %s" % (c.get("canvas_max_edits"), c.get("canvas_limit_per_canvas"),
                                                 c.get("canvas_note") or json.dumps(c.get("canvases"))))
    big = [r for r in rows if r["scenario"].endswith("10000") and r.get("rss_mib") is not None]
    if big:
        rss = max(r["rss_mib"] for r in big)
        target("RSS <= 64 MiB with 10,000 domains after the run", rss <= 64, "%.1f MiB" % rss)
    checked = [r for r in rows if "lost" in r]
    if checked:
        lost = sum(r["lost"] for r in checked)
        target("zero lost updates (every load_client run)", lost == 0,
               "%d lost over %d runs" % (lost, len(checked)))
    unchecked = [r["scenario"] for r in rows if r.get("check_error")]
    if unchecked:
        target("loss check could run", False, "failed in " + ", ".join(unchecked))

    commit_cost = []
    if a.commit_cost and os.path.exists(a.commit_cost):
        with open(a.commit_cost) as f:
            commit_cost = [json.loads(l) for l in f if l.strip()]
    clines = []
    if commit_cost:
        clines = ["| domains | file KiB | to_json ms | dump(2) ms | write+fsync+rename ms | rewrite commit ms "
                  "| rewrites/s | WAL append+fdatasync ms (1 / 32 records) "
                  "| preallocated overwrite+fdatasync ms (1 / 32) |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for c in commit_cost:
            over = c.get("prealloc_overwrite_fdatasync_ms"), c.get("prealloc_overwrite32_fdatasync_ms")
            clines.append("| %d | %.0f | %.2f | %.2f | %.2f | %.2f | %.0f | %.2f / %.2f | %s |" % (
                c["domains"], c["file_bytes"] / 1024, c["to_json_ms"], c["dump_ms"],
                c["write_fsync_rename_ms"], c["rewrite_commit_ms"], c["rewrite_commits_per_s"],
                c["wal_append_fdatasync_ms"], c["wal_append32_fdatasync_ms"],
                "%.2f / %.2f" % over if None not in over else "-"))

    tlines = ["%s %s: %s" % ("PASS" if t["ok"] else "FAIL", t["target"], t["detail"]) for t in targets]
    print("\n".join(lines))
    print()
    print("\n".join(tlines))
    if clines:
        print()
        print("Commit cost (one durable commit, measured outside the server):")
        print("\n".join(clines))

    result = {
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": a.command,
        "quick": a.quick,
        "machine": machine(),
        "baseline_req_per_s": base,
        "rows": rows,
        "targets": targets,
        "table_markdown": "\n".join(lines),
        "commit_cost": commit_cost,
        "commit_cost_markdown": "\n".join(clines),
    }
    with open(a.out, "w") as f:
        json.dump(result, f, indent=1)
        f.write("\n")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("config")
    c.add_argument("--apps", default="Planning,FCCS,ARCS")
    c.add_argument("--domains", type=int, default=150)
    c.add_argument("--write-key", required=True)
    c.add_argument("--admin-key", required=True)
    c.add_argument("--read-key", required=True)
    c.add_argument("--io-threads", type=int, default=1)
    c.add_argument("--actor-threads", type=int, default=1)
    c.add_argument("--log-level", default="info")
    c.add_argument("--slack-url")
    c.add_argument("--slack-interval", type=float, default=2)
    m = sub.add_parser("metrics")
    m.add_argument("file")
    r = sub.add_parser("row")
    r.add_argument("--scenario", required=True)
    r.add_argument("--tool-json", required=True)
    r.add_argument("--before")
    r.add_argument("--after")
    r.add_argument("--rss-kb")
    r.add_argument("--extra")
    r.add_argument("--cpu-before", help='the "cpu" line of /proc/stat before the run')
    r.add_argument("--cpu-after")
    cv = sub.add_parser("canvas")
    cv.add_argument("--slack", required=True, help="fake Slack base URL")
    cv.add_argument("--server", required=True, help="EPMPulse base URL")
    cv.add_argument("--admin-key", required=True)
    cv.add_argument("--channels", default="CBENCH001,CBENCH002")
    cv.add_argument("--interval", type=float, required=True)
    cv.add_argument("--duration", type=float, required=True)
    cv.add_argument("--timeout", type=float, default=30)
    rp = sub.add_parser("report")
    rp.add_argument("--rows", required=True)
    rp.add_argument("--out", required=True)
    rp.add_argument("--command", default="make bench")
    rp.add_argument("--quick", action="store_true")
    rp.add_argument("--commit-cost")
    rp.add_argument("--get-body-bytes", type=int, default=0, help="size of the GET /status body")
    rp.add_argument("--get-gzip-bytes", type=int, default=0, help="size of its gzip form")
    a = p.parse_args()
    {"config": cmd_config, "metrics": cmd_metrics, "row": cmd_row, "canvas": cmd_canvas,
     "report": cmd_report}[a.cmd](a)


if __name__ == "__main__":
    main()

# Shared by the bench scripts (sourced, not run).

# The server's environment: nothing from the caller's Slack or key settings.
BENCH_SERVER_ENV=(env -u SLACK_API_URL -u SLACK_BOT_TOKEN -u EPMPULSE_API_KEY -u EPMPULSE_ADMIN_KEY
                  -u EPMPULSE_CONFIG -u EPMPULSE_DATA_DIR -u EPMPULSE_HOST -u EPMPULSE_PORT)

# listening_port LOG: the port from the server's "listening" log line, or
# nothing while it has not started. The line carries its fields before its
# message: find the line, then the port.
listening_port() {
  grep '"message":"listening"' "$1" 2>/dev/null | sed -n 's/.*"port":\([0-9][0-9]*\).*/\1/p' | head -n1 || true
}

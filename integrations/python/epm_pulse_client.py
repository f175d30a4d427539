# -*- coding: utf-8 -*-
"""Push job status to EPMPulse from ODI procedures, Jython steps and scripts.

Standard library only, one file: copy it onto the agent's path. Runs unchanged
on CPython 3.8+ and on Jython 2.7 (ODI's procedure steps), which is why it has
no f-strings, no type hints and a urllib2 fallback.

    from epm_pulse_client import EPMPulseClient
    pulse = EPMPulseClient('http://epmpulse.example:18800', api_key)
    with pulse.job('Planning', 'Actual', job_id='LOAD_001'):
        load_the_data()          # Loading now; OK after, Warning if it raises

A push that fails (server down, timeout, 5xx, 429) is retried with backoff and
then given up: the job goes on, the failure is logged (logger
"epm_pulse_client") and the method returns a false PushResult. Pass
raise_errors=True to get an EPMPulseError instead. The API key is sent in the
Authorization header only; it is never logged or put in an error.

Command line (key from EPMPULSE_API_KEY or --key-file, URL from EPMPULSE_URL
or --url):

    python -m epm_pulse_client status Planning Actual Loading --job-id LOAD_001
"""

from __future__ import absolute_import, division, print_function

import json
import logging
import os
import socket
import sys
import time

try:  # CPython 3
    from urllib.request import Request, build_opener, HTTPRedirectHandler
    from urllib.error import HTTPError, URLError
    from http.client import HTTPException
    from email.utils import parsedate_tz, mktime_tz
    text_type = str
except ImportError:  # Jython 2.7 / CPython 2.7
    from urllib2 import Request, build_opener, HTTPRedirectHandler, HTTPError, URLError
    from httplib import HTTPException
    from email.Utils import parsedate_tz, mktime_tz
    text_type = unicode  # noqa: F821 (Python 2 only)

__version__ = '1.0.0'

STATUSES = ('Blank', 'Loading', 'OK', 'Warning')
MAX_MESSAGE_CHARS = 200  # the server refuses longer messages (400)
MAX_BATCH_ITEMS = 100

BACKOFF = 'backoff'

log = logging.getLogger('epm_pulse_client')
log.addHandler(logging.NullHandler())


class PushResult(object):
    """The outcome of one call: true when the server confirmed it (HTTP 200).

    ok            -- True when the push was confirmed (it is on the server's disk)
    http_status   -- the last HTTP status, or None when no answer came
    body          -- the last answer's JSON (a dict) or None
    error_code    -- the API's error code (e.g. 'INVALID_APP', 'RATE_LIMITED'),
                     'CONNECTION_ERROR', 'TIMEOUT', 'NO_API_KEY', or None
    error_message -- a readable reason, or None
    attempts      -- how many requests were sent
    """

    def __init__(self, ok, http_status=None, body=None, error_code=None,
                 error_message=None, attempts=0):
        self.ok = ok
        self.http_status = http_status
        self.body = body
        self.error_code = error_code
        self.error_message = error_message
        self.attempts = attempts

    def __bool__(self):
        return self.ok

    __nonzero__ = __bool__  # Python 2

    def get(self, key, default=None):
        """Reads the answer like a dict: result.get('updated')."""
        if isinstance(self.body, dict):
            return self.body.get(key, default)
        return default

    def __getitem__(self, key):
        if not isinstance(self.body, dict):
            raise KeyError(key)
        return self.body[key]

    def __repr__(self):
        if self.ok:
            return 'PushResult(ok, http_status=%r, attempts=%d)' % (self.http_status, self.attempts)
        return 'PushResult(failed, http_status=%r, error_code=%r, error_message=%r, attempts=%d)' % (
            self.http_status, self.error_code, self.error_message, self.attempts)


class EPMPulseError(Exception):
    """Raised by a client made with raise_errors=True when a push failed."""

    def __init__(self, result):
        Exception.__init__(self, 'EPMPulse push failed: %s' % describe_failure(result))
        self.result = result


def describe_failure(result):
    parts = []
    if result.http_status is not None:
        parts.append('HTTP %d' % result.http_status)
    if result.error_code:
        parts.append(result.error_code)
    text = ' '.join(parts)
    if result.error_message:
        text = (text + ': ' if text else '') + result.error_message
    return '%s (after %d attempt%s)' % (text or 'unknown error', result.attempts,
                                        '' if result.attempts == 1 else 's')


# -- text helpers (str/unicode on Python 2, str on 3) ---------------------------

def to_text(value):
    """Any value as text; bytes are read as UTF-8."""
    if isinstance(value, text_type):
        return value
    if isinstance(value, bytes):
        return value.decode('utf-8', 'replace')
    try:
        return text_type(value)
    except UnicodeError:
        return str(value).decode('utf-8', 'replace')


def native_str(text):
    """Python 2's httplib joins the request line and headers as str: unicode
    there (Jython hands out unicode) breaks the send. Python 3 wants str too."""
    if isinstance(text, str):
        return text
    return text.encode('utf-8')


def clean_message(message):
    """A message the server accepts: control characters but newline and tab
    become spaces, and it is cut to 200 characters (ending in an ellipsis), so
    that a long error text never costs the status update itself."""
    if message is None:
        return None
    text = to_text(message)
    chars = []
    for ch in text:
        code = ord(ch)
        if ch in u'\n\t':
            chars.append(ch)
        elif code < 0x20 or code == 0x7F:
            chars.append(u' ')
        else:
            chars.append(ch)
    text = u''.join(chars).strip()
    if len(text) > MAX_MESSAGE_CHARS:
        text = text[:MAX_MESSAGE_CHARS - 1].rstrip() + u'\u2026'
    return text or None


def utc_timestamp(now=None):
    """RFC 3339 UTC time with milliseconds, e.g. 2026-02-16T14:30:00.123Z."""
    if now is None:
        now = time.time()
    whole = int(now)
    millis = int(round((now - whole) * 1000))
    if millis == 1000:
        whole, millis = whole + 1, 0
    return time.strftime('%Y-%m-%dT%H:%M:%S', time.gmtime(whole)) + '.%03dZ' % millis


def retry_after_seconds(value, now=None):
    """Retry-After as seconds: a number of seconds or an HTTP date; None if unreadable."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    parsed = parsedate_tz(value)
    if parsed is None:
        return None
    return max(0.0, mktime_tz(parsed) - (time.time() if now is None else now))


class _NoRedirect(HTTPRedirectHandler):
    """A redirect would resend the Authorization header elsewhere: refuse it."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        return None


# -- the client -------------------------------------------------------------------

class EPMPulseClient(object):
    """Client for EPMPulse's push API.

    base_url        -- e.g. 'http://epmpulse.example:18800'
    api_key         -- a write key (sent as 'Authorization: Bearer <key>')
    timeout         -- seconds per request (connect and read)
    retries         -- further attempts after a connection error, timeout, 5xx or 429
    backoff         -- seconds before the first retry; doubles each time up to max_backoff
    max_retry_after -- the longest wait a 429's Retry-After is honoured for
    raise_errors    -- True: raise EPMPulseError when a push finally fails
    sleep           -- the function that waits (time.sleep; tests replace it)
    """

    def __init__(self, base_url, api_key, timeout=5.0, retries=3, raise_errors=False,
                 backoff=0.5, max_backoff=5.0, max_retry_after=10.0, sleep=None,
                 send_timestamp=True):
        if not base_url:
            raise ValueError('EPMPulseClient needs base_url, e.g. http://epmpulse.example:18800')
        self.base_url = to_text(base_url).strip().rstrip('/')
        self._api_key = to_text(api_key).strip() if api_key else u''
        self.timeout = float(timeout)
        self.retries = max(0, int(retries))
        self.raise_errors = raise_errors
        self.backoff = float(backoff)
        self.max_backoff = float(max_backoff)
        self.max_retry_after = float(max_retry_after)
        self.sleep = sleep or time.sleep
        self.send_timestamp = send_timestamp
        self._opener = build_opener(_NoRedirect())

    def __repr__(self):  # never shows the key
        return 'EPMPulseClient(%r)' % self.base_url

    # -- pushes ---------------------------------------------------------------

    def update_status(self, app, domain, status, job_id=None, message=None, timestamp=None):
        """Sets one app/domain's status (Blank, Loading, OK or Warning)."""
        payload = {'app': app, 'domain': domain, 'status': status}
        if job_id:
            payload['job_id'] = job_id
        message = clean_message(message)
        if message:
            payload['message'] = message
        self._stamp(payload, timestamp)
        what = '%s/%s -> %s' % (to_text(app), to_text(domain), to_text(status))
        return self._push('/api/v1/status', payload, what)

    def batch_update(self, updates, job_id=None, timestamp=None):
        """Applies up to 100 updates ({'app', 'domain', 'status', 'job_id',
        'message'}) as one change; all are refused if one is invalid."""
        items = []
        for update in updates:
            item = dict((k, v) for k, v in update.items() if v is not None)
            if 'message' in item:
                item['message'] = clean_message(item['message'])
                if not item['message']:
                    del item['message']
            items.append(item)
        payload = {'updates': items}
        if job_id:
            payload['job_id'] = job_id
        self._stamp(payload, timestamp)
        what = 'batch of %d' % len(items)
        return self._push('/api/v1/status/batch', payload, what)

    def notify_pipeline_start(self, apps, domain, job_id):
        """Marks every app's domain Loading."""
        return self.batch_update(
            [{'app': app, 'domain': domain, 'status': 'Loading', 'job_id': job_id} for app in apps],
            job_id)

    def notify_pipeline_complete(self, apps, domain, job_id, success, message=None):
        """Marks every app's domain OK (success) or Warning (with the message)."""
        status = 'OK' if success else 'Warning'
        return self.batch_update(
            [{'app': app, 'domain': domain, 'status': status, 'job_id': job_id,
              'message': message} for app in apps],
            job_id)

    def job(self, app, domain, job_id=None, message=None):
        """Context manager: Loading on entry, OK on normal exit, Warning with
        the exception's text on an exception (which is re-raised).

            with pulse.job('Planning', 'Actual', job_id=sess) as job:
                rows = load()
                job.message = '%d rows' % rows     # shown with OK
        """
        return JobReport(self, app, domain, job_id, message)

    # -- reads ------------------------------------------------------------------

    def get_status(self, app=None):
        """GET /api/v1/status (or /status/{app}); a read or write key. Not retried."""
        path = '/api/v1/status'
        if app:
            path += '/' + quote_path(app)
        return self._request('GET', path, None, 'read status', retry=False)

    # -- internals --------------------------------------------------------------

    def _stamp(self, payload, timestamp):
        # One event time per call, kept across its retries: a retried push
        # the server already applied is then "unchanged", never a newer event.
        if timestamp is not None:
            payload['timestamp'] = timestamp if isinstance(timestamp, (str, text_type)) \
                else utc_timestamp(timestamp)
        elif self.send_timestamp:
            payload['timestamp'] = utc_timestamp()

    def _push(self, path, payload, what):
        return self._request('POST', path, payload, what, retry=True)

    def _request(self, method, path, payload, what, retry):
        if not self._api_key:
            result = PushResult(False, error_code='NO_API_KEY',
                                error_message='no API key (set EPMPULSE_API_KEY or pass api_key)')
            return self._finish(result, what)
        url = self.base_url + path
        data = None
        if payload is not None:
            data = json.dumps(payload, ensure_ascii=True, separators=(',', ':')).encode('ascii')
        attempts_allowed = 1 + (self.retries if retry else 0)
        result = None
        for attempt in range(1, attempts_allowed + 1):
            result, wait = self._send_once(method, url, data)
            result.attempts = attempt
            if wait is None or attempt == attempts_allowed:
                break
            if wait == BACKOFF:
                wait = self._backoff(attempt)
            log.info('EPMPulse %s: %s; retry %d of %d in %.1f s', what, describe_failure(result),
                     attempt, attempts_allowed - 1, wait)
            self.sleep(wait)
        return self._finish(result, what)

    def _finish(self, result, what):
        if result.ok:
            log.info('EPMPulse %s: %s', what, summary(result.body))
            return result
        log.warning('EPMPulse %s not confirmed: %s', what, describe_failure(result))
        if self.raise_errors:
            raise EPMPulseError(result)
        return result

    def _backoff(self, attempt):
        return min(self.max_backoff, self.backoff * (2 ** (attempt - 1)))

    def _send_once(self, method, url, data):
        """One request. Returns (result, wait): wait is None when a retry
        cannot help, BACKOFF for the usual backoff, or the seconds the server
        asked for."""
        request = Request(native_str(url), data=data)
        request.add_header('Authorization', native_str(u'Bearer ' + self._api_key))
        request.add_header('Accept', 'application/json')
        request.add_header('User-Agent', 'epm_pulse_client/' + __version__)
        if data is not None:
            request.add_header('Content-Type', 'application/json')
        try:
            response = self._opener.open(request, timeout=self.timeout)
            try:
                status, body = response.getcode(), response.read()
            finally:
                response.close()
            return PushResult(True, status, parse_json(body)), None
        except HTTPError as error:
            return self._http_failure(error)
        except socket.timeout:
            return PushResult(False, error_code='TIMEOUT',
                              error_message='no answer within %.1f s' % self.timeout), BACKOFF
        except (URLError, HTTPException, socket.error, IOError, OSError) as error:
            reason = getattr(error, 'reason', error)
            code = 'TIMEOUT' if isinstance(reason, socket.timeout) else 'CONNECTION_ERROR'
            return PushResult(False, error_code=code, error_message=to_text(reason)), BACKOFF

    def _http_failure(self, error):
        status = error.code
        try:
            body = parse_json(error.read())
        except Exception:  # a broken error body still tells the status
            body = None
        code, text = api_error(body)
        result = PushResult(False, status, body, code or 'HTTP_%d' % status, text or to_text(error.msg))
        if status == 429:
            headers = error.info() if hasattr(error, 'info') else error.headers
            wait = retry_after_seconds(headers.get('Retry-After') if headers else None)
            if wait is None:
                details = body.get('error', {}).get('details', {}) if isinstance(body, dict) else {}
                wait = details.get('retry_after_sec') if isinstance(details, dict) else None
            if wait is None:
                return result, BACKOFF
            return result, min(float(wait), self.max_retry_after)
        if status >= 500:
            return result, BACKOFF
        return result, None  # 4xx: the request itself is wrong; resending changes nothing




def parse_json(raw):
    if not raw:
        return None
    if isinstance(raw, bytes):
        raw = raw.decode('utf-8', 'replace')
    try:
        return json.loads(raw)
    except ValueError:
        return None


def api_error(body):
    """(code, message) of an error answer {"success": false, "error": {...}}."""
    if isinstance(body, dict) and isinstance(body.get('error'), dict):
        error = body['error']
        return error.get('code'), error.get('message')
    return None, None


def summary(body):
    if not isinstance(body, dict):
        return 'confirmed'
    if 'updated_count' in body:
        return 'confirmed, %s of %s applied' % (body.get('updated_count'), body.get('received_count'))
    updated = body.get('updated')
    if isinstance(updated, dict):
        if updated.get('applied', True):
            return 'confirmed, applied'
        return 'confirmed, not applied (%s)' % updated.get('reason')
    return 'confirmed'


def quote_path(segment):
    try:
        from urllib.parse import quote
    except ImportError:
        from urllib import quote
    text = to_text(segment)
    return quote(text.encode('utf-8') if not isinstance(text, str) else text, safe='')


def exception_text(exc_type, exc):
    name = getattr(exc_type, '__name__', None) or to_text(exc_type)
    try:
        detail = to_text(exc) if exc is not None else u''
    except Exception:  # an exception whose text cannot be made still has a name
        detail = u''
    return u'%s: %s' % (name, detail) if detail else to_text(name)


def default_job_id(app, domain):
    stamp = time.strftime('%Y%m%dT%H%M%SZ', time.gmtime())
    return (u'%s_%s_%s' % (to_text(app), to_text(domain), stamp))[:100]


class JobReport(object):
    """What client.job() returns: reports Loading, then OK or Warning.

    job_id       -- the job id sent with every push (generated when not given)
    message      -- set it inside the block to send a message with OK
    start_result -- the PushResult of Loading; end_result that of OK/Warning
    """

    def __init__(self, client, app, domain, job_id=None, message=None):
        self.client = client
        self.app = app
        self.domain = domain
        self.job_id = job_id or default_job_id(app, domain)
        self.message = message
        self.start_result = None
        self.end_result = None

    def __enter__(self):
        self.start_result = self.client.update_status(self.app, self.domain, 'Loading',
                                                      job_id=self.job_id)
        return self

    def __exit__(self, exc_type, exc, tb):
        if exc_type is None or (issubclass(exc_type, SystemExit) and not getattr(exc, 'code', None)):
            self.end_result = self.client.update_status(self.app, self.domain, 'OK',
                                                        job_id=self.job_id, message=self.message)
            return False
        try:
            self.end_result = self.client.update_status(self.app, self.domain, 'Warning',
                                                        job_id=self.job_id,
                                                        message=exception_text(exc_type, exc))
        except EPMPulseError as error:
            # The job's own exception is the one to see; this one is logged.
            self.end_result = error.result
        return False  # re-raise the job's exception


# -- command line -------------------------------------------------------------------

def read_key_file(path):
    handle = open(path, 'rb')
    try:
        return handle.read().decode('utf-8').strip()
    finally:
        handle.close()


def build_parser():
    import argparse
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument('--url', help='EPMPulse base URL (default: $EPMPULSE_URL)')
    common.add_argument('--key-file', help='file holding the API key (default: '
                        '$EPMPULSE_API_KEY, then $EPMPULSE_API_KEY_FILE)')
    common.add_argument('--timeout', type=float, default=5.0, help='seconds per request (5)')
    common.add_argument('--retries', type=int, default=3, help='retries after a failure (3)')
    common.add_argument('--strict', action='store_true',
                        help='exit 1 when the push fails (default: warn and exit 0)')
    common.add_argument('-v', '--verbose', action='store_true', help='log every attempt')

    parser = argparse.ArgumentParser(
        prog='epm_pulse_client', description='Push job status to EPMPulse. A failed push '
        'is reported on stderr and exits 0 unless --strict, so it never fails the job.')
    commands = parser.add_subparsers(dest='command', metavar='COMMAND')
    commands.required = True

    status = commands.add_parser('status', parents=[common], help='set one domain\'s status')
    status.add_argument('app')
    status.add_argument('domain')
    status.add_argument('status', choices=STATUSES)
    status.add_argument('--job-id')
    status.add_argument('--message')

    start = commands.add_parser('start', parents=[common], help='mark apps Loading (a batch)')
    start.add_argument('apps', help='app names, comma-separated: Planning,FCCS')
    start.add_argument('domain')
    start.add_argument('--job-id', required=True)

    complete = commands.add_parser('complete', parents=[common],
                                   help='mark apps OK, or Warning with --failed')
    complete.add_argument('apps', help='app names, comma-separated: Planning,FCCS')
    complete.add_argument('domain')
    complete.add_argument('--job-id', required=True)
    complete.add_argument('--failed', action='store_true', help='Warning instead of OK')
    complete.add_argument('--message')

    get = commands.add_parser('get', parents=[common], help='print the current status (JSON)')
    get.add_argument('app', nargs='?')
    return parser


def main(argv=None, environ=None, out=None):
    """The command line; returns the exit code (0, 1 on a failed --strict push
    or get, 2 on a usage error)."""
    environ = os.environ if environ is None else environ
    out = out or sys.stdout
    args = build_parser().parse_args(argv)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter('epm_pulse_client: %(message)s'))
    handler.setLevel(logging.INFO if args.verbose else logging.WARNING)
    level = log.level
    log.addHandler(handler)
    if log.getEffectiveLevel() > handler.level:
        log.setLevel(handler.level)
    try:
        return run_command(args, environ, out)
    finally:
        log.removeHandler(handler)
        log.setLevel(level)


def run_command(args, environ, out):
    url = args.url or environ.get('EPMPULSE_URL')
    if not url:
        sys.stderr.write('epm_pulse_client: no URL: pass --url or set EPMPULSE_URL\n')
        return 2
    key = environ.get('EPMPULSE_API_KEY')
    key_file = args.key_file or (None if key else environ.get('EPMPULSE_API_KEY_FILE'))
    if key_file:
        try:
            key = read_key_file(key_file)
        except (IOError, OSError, UnicodeError) as error:
            sys.stderr.write('epm_pulse_client: cannot read the key file %s: %s\n'
                             % (key_file, getattr(error, 'strerror', None) or error))
            key = None
    client = EPMPulseClient(url, key, timeout=args.timeout, retries=args.retries)

    if args.command == 'status':
        result = client.update_status(args.app, args.domain, args.status,
                                      job_id=args.job_id, message=args.message)
    elif args.command == 'start':
        result = client.notify_pipeline_start(split_apps(args.apps), args.domain, args.job_id)
    elif args.command == 'complete':
        result = client.notify_pipeline_complete(split_apps(args.apps), args.domain, args.job_id,
                                                 success=not args.failed, message=args.message)
    else:
        result = client.get_status(args.app)
    if result.ok:
        out.write(json.dumps(result.body, sort_keys=True) + '\n')
        return 0
    return 1 if args.strict or args.command == 'get' else 0


def split_apps(text):
    return [name.strip() for name in text.split(',') if name.strip()]


if __name__ == '__main__':
    sys.exit(main())

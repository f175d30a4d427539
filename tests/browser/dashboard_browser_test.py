#!/usr/bin/env python3
"""The dashboard in a real browser: Debian's headless chromium driven through
chromedriver's WebDriver HTTP API (W3C WebDriver, spoken with urllib).

Against build/epmpulse on a free loopback port (the RealServer of the client
tests: apps Planning (Actual, Budget) and FCCS (Consolidation), a write and a
read key registered for the secrets scan), it checks that the page
  - asks for a read key once and then shows every configured app and domain,
  - shows a status pushed with POST /api/v1/status within 2 seconds,
  - filters by status and search,
  - shows an expected domain that is late with its mark, cause and next run
    (read again while the stream is live, no push needed),
  - opens a domain's history drawer (which lists the change when the server
    has GET /api/v1/history; without it, says so),
  - raises no console error (a Content-Security-Policy violation is one),
and saves screenshots (desktop light and dark, drawer, phone) under
$EPMPULSE_TEST_ARTIFACTS (build/test-artifacts under ctest).

Run: python3 dashboard_browser_test.py (ctest: browser.dashboard).
"""

import base64
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(SOURCE_DIR, 'integrations', 'python', 'tests'))

from pulse_test_support import RealServer, eventually  # noqa: E402

CHROMIUM = os.environ.get('EPMPULSE_CHROMIUM', '/usr/bin/chromium')
CHROMEDRIVER = os.environ.get('EPMPULSE_CHROMEDRIVER', '/usr/bin/chromedriver')
LIVE_DEADLINE_SEC = 2.0
DESKTOP = (1366, 900)
PHONE = (390, 844)


def artifacts_dir():
    path = os.environ.get('EPMPULSE_TEST_ARTIFACTS') or os.path.join(SOURCE_DIR, 'build', 'test-artifacts')
    os.makedirs(path, exist_ok=True)
    return path


def http(method, url, body=None, headers=None, timeout=15):
    """(status, headers, parsed JSON or raw bytes) of one request."""
    data = None if body is None else json.dumps(body).encode('utf-8')
    request = urllib.request.Request(url, data=data, method=method, headers=dict(headers or {}))
    if data is not None:
        request.add_header('Content-Type', 'application/json')
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            raw, status, got = response.read(), response.status, response.headers
    except urllib.error.HTTPError as error:
        raw, status, got = error.read(), error.code, error.headers
    try:
        return status, got, json.loads(raw.decode('utf-8')) if raw else None
    except ValueError:
        return status, got, raw


def free_port():
    sock = socket.socket()
    sock.bind(('127.0.0.1', 0))
    port = sock.getsockname()[1]
    sock.close()
    return port


class WebDriver(object):
    """The few W3C WebDriver commands this test needs, plus chromedriver's
    CDP passthrough for the colour-scheme emulation."""

    def __init__(self):
        self.port = free_port()
        self.profile = tempfile.mkdtemp(prefix='epmpulse-chromium-')
        self.log = open(os.path.join(self.profile, 'chromedriver.log'), 'wb')
        # chromedriver's own output stays out of the test logs: at higher log
        # levels it echoes the keys typed into the page.
        self.process = subprocess.Popen([CHROMEDRIVER, '--port=%d' % self.port],
                                        stdout=subprocess.DEVNULL, stderr=self.log)
        self.url = 'http://127.0.0.1:%d' % self.port
        if not eventually(self._ready, deadline=20, step=0.1):
            self.quit()
            raise RuntimeError('chromedriver did not become ready')
        caps = {'capabilities': {'alwaysMatch': {
            'browserName': 'chrome',
            'goog:loggingPrefs': {'browser': 'ALL'},
            'goog:chromeOptions': {
                'binary': CHROMIUM,
                'args': ['--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                         '--no-first-run', '--no-default-browser-check', '--disable-extensions',
                         '--hide-scrollbars', '--force-device-scale-factor=1',
                         '--user-data-dir=' + os.path.join(self.profile, 'profile'),
                         '--window-size=%d,%d' % DESKTOP],
            }}}}
        status, _, body = http('POST', self.url + '/session', caps, timeout=60)
        if status != 200:
            self.quit()
            raise RuntimeError('no WebDriver session: %s %s' % (status, body))
        self.session = body['value']['sessionId']

    def _ready(self):
        try:
            status, _, body = http('GET', self.url + '/status', timeout=2)
            return status == 200 and body['value']['ready']
        except (OSError, ValueError, KeyError, TypeError):
            return False

    def command(self, method, path, body=None):
        status, _, answer = http(method, '%s/session/%s%s' % (self.url, self.session, path),
                                 {} if body is None and method == 'POST' else body, timeout=60)
        if status != 200:
            raise RuntimeError('WebDriver %s %s: %s %s' % (method, path, status, answer))
        return answer['value']

    def get(self, url):
        self.command('POST', '/url', {'url': url})

    def script(self, source, *args):
        return self.command('POST', '/execute/sync', {'script': source, 'args': list(args)})

    def find(self, css):
        found = self.command('POST', '/element', {'using': 'css selector', 'value': css})
        return list(found.values())[0]

    def type_into(self, css, text):
        self.command('POST', '/element/%s/value' % self.find(css), {'text': text})

    def click(self, css):
        self.command('POST', '/element/%s/click' % self.find(css))

    def window(self, width, height):
        self.command('POST', '/window/rect', {'width': width, 'height': height})

    def colour_scheme(self, scheme):
        self.command('POST', '/goog/cdp/execute', {
            'cmd': 'Emulation.setEmulatedMedia',
            'params': {'features': [{'name': 'prefers-color-scheme', 'value': scheme}]}})

    def screenshot(self, name):
        path = os.path.join(artifacts_dir(), name)
        with open(path, 'wb') as handle:
            handle.write(base64.b64decode(self.command('GET', '/screenshot')))
        return path

    def console(self):
        return self.command('POST', '/se/log', {'type': 'browser'})

    def wait_for(self, source, deadline=10.0, *args):
        """Polls a script until it returns something truthy; returns that."""
        return eventually(lambda: self.script(source, *args), deadline=deadline, step=0.05)

    def quit(self):
        if getattr(self, 'session', None):
            try:
                http('DELETE', '%s/session/%s' % (self.url, self.session), timeout=20)
            except OSError:
                pass
            self.session = None
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


ROWS = """return Array.from(document.querySelectorAll('tr.domain-row'))
  .map(r => r.dataset.app + '/' + r.dataset.domain + '=' + r.dataset.status);"""
VISIBLE = "const e = document.querySelector(arguments[0]); return !!e && !e.hidden && e.getClientRects().length > 0;"
ROW_STATUS = """const r = document.querySelector('tr.domain-row[data-app="' + arguments[0] + '"][data-domain="'
  + arguments[1] + '"]'); return r ? r.dataset.status : null;"""


class DashboardInBrowserTest(unittest.TestCase):

    @classmethod
    def setUpClass(cls):
        # Planning/Actual is expected every 6 s: late soon after its last push.
        cls.server = RealServer('browser-dashboard', extra_config={
            'expectations': [{'app': 'Planning', 'domain': 'Actual',
                              'schedule': {'every_minutes': 0.1}, 'grace_minutes': 0}],
            'settings': {'alerts': {'evaluate_interval_sec': 1}},
        }).start()
        try:
            cls.browser = WebDriver()
        except Exception:
            cls.server.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.browser.quit()
        cls.server.stop()

    def push(self, app, domain, status, **fields):
        body = dict(app=app, domain=domain, status=status, **fields)
        answer = http('POST', self.server.url + '/api/v1/status', body,
                      {'Authorization': 'Bearer ' + self.server.write_key})
        self.assertEqual(answer[0], 200, answer)

    def test_dashboard(self):
        b = self.browser
        # Some history to show before the page opens.
        self.push('Planning', 'Actual', 'Loading', job_id='LOAD_ACTUAL_0412')
        self.push('Planning', 'Actual', 'OK', job_id='LOAD_ACTUAL_0412', message='12,408 rows loaded')
        self.push('FCCS', 'Consolidation', 'Loading', job_id='CONSOL_Q4', message='Consolidating entities')

        b.get(self.server.url + '/')
        self.assertTrue(b.wait_for(VISIBLE, 10, '#login'), 'the page asks for a key first')
        b.type_into('#login-key', self.server.read_key)
        b.click('#login-form button[type=submit]')
        self.assertTrue(b.wait_for(VISIBLE, 10, '#main'), 'signed in, the dashboard shows')
        self.assertEqual(b.script("return document.getElementById('login-key').value;"), '',
                         'the key does not stay in the form')
        rows = b.wait_for("const r = " + ROWS[len('return '):] + " return r.length >= 3 ? r : null;", 10)
        self.assertEqual(sorted(rows), ['FCCS/Consolidation=Loading', 'Planning/Actual=OK',
                                        'Planning/Budget=Blank'])
        self.assertEqual(b.script("return Array.from(document.querySelectorAll('.app-card h2')).map(h => h.textContent);"),
                         ['FCCS', 'Planning'])
        self.assertIn('LOAD_ACTUAL_0412', b.script("return document.getElementById('recent').textContent;"))
        cookie_flags = b.script("return document.cookie;")
        self.assertNotIn('epmpulse_session', cookie_flags, 'the session cookie is HttpOnly')

        # Live: a push shows within 2 s over the event stream.
        mode = b.wait_for("const s = document.getElementById('connection').dataset.state;"
                          " return s === 'live' || s === 'polling' ? s : null;", 10)
        self.assertEqual(mode, 'live')
        pushed = time.time()
        self.push('Planning', 'Budget', 'Warning', job_id='BUDGET_SEED_7', message='3 rejected rows: see the job log')
        shown = eventually(lambda: b.script(ROW_STATUS, 'Planning', 'Budget') == 'Warning',
                           deadline=LIVE_DEADLINE_SEC * 3, step=0.02)
        took = time.time() - pushed
        self.assertTrue(shown, 'the pushed Warning never showed')
        self.assertLess(took, LIVE_DEADLINE_SEC, 'shown after %.2f s (%s)' % (took, mode))
        print('live update (%s) shown %.0f ms after the push' % (mode, took * 1000))

        # The expectation: a run that did not come shows as a mark with its
        # cause, and every expected domain its next run, without a push.
        mark = b.wait_for("const m = document.querySelector("
                          "'tr.domain-row[data-app=\"Planning\"][data-domain=\"Actual\"] .mark');"
                          " return m ? [m.textContent, m.title] : null;", 25)
        self.assertTrue(mark, 'no expectation mark on Planning/Actual')
        self.assertIn(mark[0], ('late', 'missed'))
        self.assertIn('no update since', mark[1])
        self.assertTrue(b.script("const n = document.querySelector("
                                 "'tr.domain-row[data-app=\"Planning\"][data-domain=\"Actual\"] .next-run');"
                                 " return n !== null && n.textContent.startsWith('next ');"))
        self.assertIsNone(b.script("return document.querySelector("
                                   "'tr.domain-row[data-app=\"FCCS\"] .mark, tr.domain-row[data-app=\"FCCS\"] .next-run');"),
                          'a domain without an expectation shows none')

        b.screenshot('dashboard-desktop.png')
        b.colour_scheme('dark')
        b.screenshot('dashboard-desktop-dark.png')
        b.colour_scheme('light')

        # Filters: status, then search.
        b.script("const s = document.getElementById('filter-status'); s.value = 'Warning';"
                 " s.dispatchEvent(new Event('change'));")
        self.assertEqual(b.script(ROWS), ['Planning/Budget=Warning'])
        b.script("const s = document.getElementById('filter-status'); s.value = '';"
                 " s.dispatchEvent(new Event('change'));")
        b.type_into('#filter-search', 'CONSOL')
        self.assertEqual(b.script(ROWS), ['FCCS/Consolidation=Loading'])
        b.script("const s = document.getElementById('filter-search'); s.value = '';"
                 " s.dispatchEvent(new Event('input'));")
        self.assertEqual(len(b.script(ROWS)), 3)

        # The history drawer of the domain that just changed.
        b.click('tr.domain-row[data-app="Planning"][data-domain="Budget"]')
        self.assertTrue(b.wait_for(VISIBLE, 5, '#drawer'))
        self.assertEqual(b.script("return document.getElementById('drawer-title').textContent;"), 'Budget')
        listed = b.wait_for("return Array.from(document.querySelectorAll('#drawer-history li'))"
                            ".map(li => li.dataset.status).join(',') || null;", 5)
        self.assertTrue(listed and listed.split(',')[0] == 'Warning', listed)
        b.screenshot('dashboard-drawer.png')
        b.script("document.getElementById('drawer-close').click();")

        b.window(*PHONE)
        self.assertTrue(b.wait_for("return document.documentElement.clientWidth <= 420;", 5))
        self.assertFalse(b.script("return document.documentElement.scrollWidth > document.documentElement.clientWidth + 1;"),
                         'nothing sticks out sideways on a phone')
        b.screenshot('dashboard-phone.png')
        b.colour_scheme('dark')
        b.screenshot('dashboard-phone-dark.png')
        b.colour_scheme('light')
        b.window(*DESKTOP)

        # No console errors, except the 401 that showed the sign-in form.
        expected = [('/api/v1/status', '401')]
        errors = [e['message'] for e in b.console() if e.get('level') == 'SEVERE'
                  and not any(p in e['message'] and code in e['message'] for p, code in expected)]
        self.assertEqual(errors, [])

        # Signing out drops the session: the key is asked for again.
        b.click('#sign-out')
        self.assertTrue(b.wait_for(VISIBLE, 5, '#login'))
        b.get(self.server.url + '/')
        self.assertTrue(b.wait_for(VISIBLE, 10, '#login'))
        print('screenshots in %s' % artifacts_dir())


if __name__ == '__main__':
    unittest.main(verbosity=2)

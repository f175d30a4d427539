# -*- coding: utf-8 -*-
"""What the job-side client tests share (CPython 3 and Jython 2.7).

RealServer  -- build/epmpulse on 127.0.0.1, port 0, a temp config and data
               dir; its log goes to $EPMPULSE_TEST_LOG_DIR (build/test-logs
               under ctest) and its keys are registered there, so the
               integration.log_secrets scan checks them.
StandIn     -- a scripted HTTP server on 127.0.0.1 for what the real server
               will not do on demand (503, 429 with Retry-After, a held
               request); it records what it received.

Run as a program it serves the shell tests:
    python3 pulse_test_support.py standin PORT_FILE RECORD_FILE SCRIPT_JSON
SCRIPT_JSON is a list of responses ({"status", "headers", "body"} or
{"hold": true}: held until a GET /release); the last one repeats;
    python3 pulse_test_support.py refused PORT_FILE
holds a port that refuses connections. Both run until SIGTERM.
"""

from __future__ import absolute_import, division, print_function

import binascii
import json
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

try:
    from http.server import BaseHTTPRequestHandler, HTTPServer
    from socketserver import ThreadingMixIn
except ImportError:  # Jython 2.7
    from BaseHTTPServer import BaseHTTPRequestHandler, HTTPServer
    from SocketServer import ThreadingMixIn

HERE = os.path.dirname(os.path.abspath(__file__))
SOURCE_DIR = os.path.dirname(os.path.dirname(os.path.dirname(HERE)))
WAIT_DEADLINE_SEC = 15.0


def eventually(condition, deadline=WAIT_DEADLINE_SEC, step=0.01):
    """Waits for condition() with a deadline; returns its last value."""
    end = time.time() + deadline
    value = condition()
    while not value and time.time() < end:
        time.sleep(step)
        value = condition()
    return value


def random_key(prefix):
    return prefix + binascii.hexlify(os.urandom(16)).decode('ascii')


def test_log_dir():
    path = os.environ.get('EPMPULSE_TEST_LOG_DIR')
    if not path:
        return None
    if not os.path.isdir(path):
        try:
            os.makedirs(path)
        except OSError:
            pass
    return path


def new_log_path(name):
    directory = test_log_dir() or tempfile.gettempdir()
    return os.path.join(directory, '%s-%d-%s.log' % (name, os.getpid(),
                                                   binascii.hexlify(os.urandom(3)).decode('ascii')))


def register_secret(value):
    """Adds value to the run's secrets (tests/support/log_secrets.hpp's file format)."""
    directory = test_log_dir()
    if not directory:
        return
    handle = open(os.path.join(directory, 'secrets-%d.jsonl' % os.getpid()), 'a')
    try:
        handle.write(json.dumps(value) + '\n')
    finally:
        handle.close()


def capture_client_log(name):
    """Sends the client's log (every level) to a file of the run's log
    directory, so the secrets scan reads it too; returns (handler, path)."""
    path = new_log_path(name)
    handler = logging.FileHandler(path)
    handler.setFormatter(logging.Formatter('%(levelname)s %(name)s %(message)s'))
    logger = logging.getLogger('epm_pulse_client')
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    return handler, path


def release_client_log(handler):
    logging.getLogger('epm_pulse_client').removeHandler(handler)
    handler.close()


def read_text(path):
    handle = open(path, 'rb')
    try:
        return handle.read().decode('utf-8', 'replace')
    finally:
        handle.close()


def refused_port():
    """A loopback port nothing listens on: bound to a socket that never
    listens, so a connect is refused until close_refused_port()."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(('127.0.0.1', 0))
    return sock, sock.getsockname()[1]


# -- the real server ------------------------------------------------------------------

def server_binary():
    return os.environ.get('EPMPULSE_BINARY') or os.path.join(SOURCE_DIR, 'build', 'epmpulse')


class RealServer(object):
    """build/epmpulse with apps Planning (Actual, Budget) and FCCS
    (Consolidation), a write key and a read key, rate limits off; plus
    `extra_config` (e.g. expectations)."""

    def __init__(self, name, extra_config=None):
        self.name = name
        self.write_key = random_key('client-test-write-')
        self.read_key = random_key('client-test-read-')
        register_secret(self.write_key)
        register_secret(self.read_key)
        self.work_dir = tempfile.mkdtemp(prefix='epmpulse-client-test-')
        self.data_dir = os.path.join(self.work_dir, 'data')
        os.mkdir(self.data_dir)
        self.config_path = os.path.join(self.work_dir, 'apps.json')
        config = {
            'apps': {
                'Planning': {'domains': ['Actual', 'Budget'], 'channels': []},
                'FCCS': {'domains': ['Consolidation'], 'channels': []},
            },
            'channels': {},
            'api_keys': [
                {'name': 'client_write', 'key': self.write_key, 'role': 'write'},
                {'name': 'client_read', 'key': self.read_key, 'role': 'read'},
            ],
            'settings': {'log_level': 'info', 'rate_limits': {'enabled': False}},
        }
        # Top-level sections added or replaced; `settings` merged key by key.
        for key, value in (extra_config or {}).items():
            if key == 'settings':
                config['settings'].update(value)
            else:
                config[key] = value
        handle = open(self.config_path, 'w')
        try:
            json.dump(config, handle, indent=2)
        finally:
            handle.close()
        os.chmod(self.config_path, 0o600)
        self.log_path = new_log_path(name + '-server-stderr')
        self.process = None
        self.port = None

    def start(self):
        binary = server_binary()
        if not os.access(binary, os.X_OK):
            raise RuntimeError('server binary not found: %s (build the epmpulse target)' % binary)
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': os.environ.get('HOME', '/tmp')}
        # The shell does the redirections: Jython's subprocess copies a
        # child's output through threads of its own, which a closed file stops.
        open(self.log_path, 'wb').close()
        self.process = subprocess.Popen(
            ['/bin/sh', '-c', 'exec "$0" "$@" </dev/null >/dev/null 2>>"$EPMPULSE_TEST_SERVER_LOG"',
             binary, '--config', self.config_path, '--data-dir', self.data_dir,
             '--host', '127.0.0.1', '--port', '0'],
            env=dict(env, EPMPULSE_TEST_SERVER_LOG=self.log_path), close_fds=True)
        self.port = eventually(self._announced_port)
        if not self.port:
            tail = read_text(self.log_path)[-3000:]
            self.stop()
            raise RuntimeError('epmpulse did not log "listening"; its log:\n' + tail)
        self.url = 'http://127.0.0.1:%d' % self.port
        return self

    def _announced_port(self):
        if self.process.poll() is not None:
            raise RuntimeError('epmpulse exited with %s; its log:\n%s'
                               % (self.process.returncode, read_text(self.log_path)[-3000:]))
        for line in read_text(self.log_path).splitlines():
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and entry.get('message') == 'listening':
                return int(entry['fields']['port'])
        return None

    def stop(self):
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            if not eventually(lambda: self.process.poll() is not None, deadline=10):
                self.process.kill()
            self.process.wait()
        self.process = None
        shutil.rmtree(self.work_dir, True)

    def log_text(self):
        return read_text(self.log_path)


# -- the stand-in ---------------------------------------------------------------------

class _ThreadingServer(ThreadingMixIn, HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


class StandIn(object):
    """Answers requests from a script of responses, the last repeating:
    {'status': 503, 'headers': {'Retry-After': '2'}, 'body': {...}} or
    {'hold': True} (answered 200 once release() is called)."""

    def __init__(self, responses):
        self.responses = list(responses)
        self.requests = []
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.server = None
        self.thread = None

    def start(self):
        standin = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path == '/release':
                    standin.release()
                    self._answer({'status': 200, 'body': {'released': True}})
                    return
                self._serve()

            def do_POST(self):
                self._serve()

            def _serve(self):
                length = int(self.headers.get('Content-Length') or 0)
                body = self.rfile.read(length) if length else b''
                headers = dict((k.lower(), v) for k, v in self.headers.items())
                response = standin._next(self.command, self.path, headers, body)
                if response.get('hold'):
                    standin.released.wait(WAIT_DEADLINE_SEC * 2)
                    response = {'status': 200, 'body': {'success': True, 'held': True}}
                self._answer(response)

            def _answer(self, response):
                body = response.get('body', {'success': True})
                raw = json.dumps(body).encode('utf-8')
                try:
                    self.send_response(response.get('status', 200))
                    for name, value in (response.get('headers') or {}).items():
                        self.send_header(name, value)
                    self.send_header('Content-Type', 'application/json')
                    self.send_header('Content-Length', str(len(raw)))
                    self.end_headers()
                    self.wfile.write(raw)
                except socket.error:
                    pass  # the client gave up waiting (the timeout tests)

        self.server = _ThreadingServer(('127.0.0.1', 0), Handler)
        self.port = self.server.server_address[1]
        self.url = 'http://127.0.0.1:%d' % self.port
        # A short poll: shutdown() waits for it, once per stand-in and test.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.02,))
        self.thread.daemon = True
        self.thread.start()
        return self

    def _next(self, method, path, headers, body):
        with self.lock:
            self.requests.append({'method': method, 'path': path, 'headers': headers,
                                  'body': body.decode('utf-8'), 'time': time.time()})
            index = min(len(self.requests), len(self.responses)) - 1
            return self.responses[index]

    def release(self):
        self.released.set()

    def stop(self):
        self.release()
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None


def run_standin(port_file, record_file, script_json):
    """The stand-in as a process (for the shell tests): writes its port to
    port_file, appends each request as a JSON line to record_file, runs until
    SIGTERM."""
    class Recording(StandIn):
        def _next(self, method, path, headers, body):
            response = StandIn._next(self, method, path, headers, body)
            handle = open(record_file, 'a')
            try:
                handle.write(json.dumps(self.requests[-1]) + '\n')
            finally:
                handle.close()
            return response

    standin = Recording(json.loads(script_json)).start()
    serve_until_sigterm(standin.port, port_file)
    standin.stop()


def hold_refused_port(port_file):
    """A port that refuses connections until SIGTERM, written to port_file."""
    sock, port = refused_port()
    serve_until_sigterm(port, port_file)
    sock.close()


def serve_until_sigterm(port, port_file):
    """Publishes the port (atomically: the reader sees all or nothing), then
    returns on SIGTERM."""
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *args: stopped.set())
    temp = port_file + '.tmp'
    handle = open(temp, 'w')
    handle.write('%d\n' % port)
    handle.close()
    os.rename(temp, port_file)
    while not stopped.wait(0.05):
        pass


if __name__ == '__main__':
    if len(sys.argv) == 5 and sys.argv[1] == 'standin':
        run_standin(sys.argv[2], sys.argv[3], sys.argv[4])
    elif len(sys.argv) == 3 and sys.argv[1] == 'refused':
        hold_refused_port(sys.argv[2])
    else:
        sys.exit(__doc__)

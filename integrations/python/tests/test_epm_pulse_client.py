# -*- coding: utf-8 -*-
"""Tests of epm_pulse_client, the same file on CPython 3 and Jython 2.7.

Real pushes go to build/epmpulse (started once per run on a free loopback
port) and are checked with GET /api/v1/status; failures the real server does
not produce on demand (503, 429, refused connections, timeouts, redirects)
come from an in-process stand-in. Run: python3 test_epm_pulse_client.py, or
jython test_epm_pulse_client.py (ctest: clients.python3, clients.jython).
"""

from __future__ import absolute_import, division, print_function

import json
import os
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)

import epm_pulse_client as pulse  # noqa: E402
from pulse_test_support import (RealServer, StandIn, capture_client_log,  # noqa: E402
                                eventually, read_text, refused_port, register_secret,
                                release_client_log, random_key)

JYTHON = sys.platform.startswith('java')
RUNTIME = 'jython' if JYTHON else 'python3'


class TextOut(object):
    """A stdout stand-in that takes str on both runtimes."""

    def __init__(self):
        self.parts = []

    def write(self, text):
        self.parts.append(text)

    def text(self):
        return ''.join(self.parts)


class Recorder(object):
    """The client's sleep: records the waits instead of waiting."""

    def __init__(self):
        self.waits = []

    def __call__(self, seconds):
        self.waits.append(seconds)


class ClientTest(unittest.TestCase):
    server = None
    log_handler = None
    log_path = None

    @classmethod
    def setUpClass(cls):
        cls.server = RealServer('clients-%s' % RUNTIME).start()
        cls.log_handler, cls.log_path = capture_client_log('clients-%s-client' % RUNTIME)

    @classmethod
    def tearDownClass(cls):
        release_client_log(cls.log_handler)
        cls.server.stop()

    def client(self, **options):
        return pulse.EPMPulseClient(self.server.url, self.server.write_key, **options)

    def domain(self, app, domain):
        """The domain as GET /api/v1/status (read key) shows it."""
        reader = pulse.EPMPulseClient(self.server.url, self.server.read_key, raise_errors=True)
        state = reader.get_status()
        return state['apps'][app][domain]

    def assert_no_key_in_client_log(self):
        text = read_text(self.log_path)
        self.assertTrue(text, 'the client logged nothing: the check would be empty')
        self.assertNotIn(self.server.write_key, text)
        self.assertNotIn(self.server.read_key, text)


class RealServerTests(ClientTest):

    def test_update_status_arrives_with_job_id_and_message(self):
        result = self.client().update_status('Planning', 'Actual', 'Loading',
                                             job_id='UPD_1', message='loading actuals')
        self.assertTrue(result)
        self.assertEqual(result.http_status, 200)
        self.assertEqual(result['updated']['status'], 'Loading')
        shown = self.domain('Planning', 'Actual')
        self.assertEqual((shown['status'], shown['job_id'], shown['message'], shown['source']),
                         ('Loading', 'UPD_1', 'loading actuals', 'push'))

    def test_batch_update_applies_every_item(self):
        result = self.client().batch_update(
            [{'app': 'Planning', 'domain': 'Budget', 'status': 'OK'},
             {'app': 'FCCS', 'domain': 'Consolidation', 'status': 'Warning', 'message': 'late'}],
            job_id='BATCH_1')
        self.assertTrue(result)
        self.assertEqual(result['updated_count'], 2)
        self.assertEqual(self.domain('Planning', 'Budget')['job_id'], 'BATCH_1')
        fccs = self.domain('FCCS', 'Consolidation')
        self.assertEqual((fccs['status'], fccs['message']), ('Warning', 'late'))

    def test_pipeline_start_then_complete_marks_every_app_and_measures_the_duration(self):
        client = self.client()
        self.assertTrue(client.notify_pipeline_start(['Planning', 'FCCS'], 'Pipeline', 'PIPE_1'))
        self.assertEqual(self.domain('Planning', 'Pipeline')['status'], 'Loading')
        self.assertEqual(self.domain('FCCS', 'Pipeline')['status'], 'Loading')
        self.assertTrue(client.notify_pipeline_complete(['Planning', 'FCCS'], 'Pipeline', 'PIPE_1',
                                                        success=True))
        for app in ('Planning', 'FCCS'):
            shown = self.domain(app, 'Pipeline')
            self.assertEqual(shown['status'], 'OK')
            self.assertEqual(shown['job_id'], 'PIPE_1')
            self.assertIsNotNone(shown['duration_sec'])

    def test_pipeline_failure_is_a_warning_with_its_message(self):
        client = self.client()
        client.notify_pipeline_start(['Planning'], 'Failing', 'PIPE_2')
        result = client.notify_pipeline_complete(['Planning'], 'Failing', 'PIPE_2', success=False,
                                                 message='ORA-01555: snapshot too old')
        self.assertTrue(result)
        shown = self.domain('Planning', 'Failing')
        self.assertEqual((shown['status'], shown['message']),
                         ('Warning', 'ORA-01555: snapshot too old'))

    def test_job_reports_loading_inside_and_ok_after_with_the_message_set_in_the_block(self):
        with self.client().job('Planning', 'Forecast', job_id='JOB_OK') as job:
            inside = self.domain('Planning', 'Forecast')
            job.message = '1200 rows'
        self.assertEqual((inside['status'], inside['job_id']), ('Loading', 'JOB_OK'))
        self.assertTrue(job.start_result)
        self.assertTrue(job.end_result)
        shown = self.domain('Planning', 'Forecast')
        self.assertEqual((shown['status'], shown['message'], shown['job_id']),
                         ('OK', '1200 rows', 'JOB_OK'))
        self.assertIsNotNone(shown['duration_sec'])

    def test_job_that_raises_reports_warning_with_the_exception_and_reraises_it(self):
        def failing_job():
            with self.client().job('FCCS', 'Close', job_id='JOB_FAIL'):
                raise ValueError('bad rows: "Entity" missing')
        self.assertRaises(ValueError, failing_job)
        shown = self.domain('FCCS', 'Close')
        self.assertEqual(shown['status'], 'Warning')
        self.assertEqual(shown['message'], 'ValueError: bad rows: "Entity" missing')

    def test_job_without_a_job_id_gets_one_naming_app_and_domain(self):
        with self.client().job('Planning', 'Generated') as job:
            pass
        self.assertTrue(job.job_id.startswith('Planning_Generated_'))
        self.assertEqual(self.domain('Planning', 'Generated')['job_id'], job.job_id)

    def test_messages_keep_quotes_newlines_and_unicode_and_long_ones_are_cut_to_fit(self):
        text = u'quote " backslash \\ newline\nunicode \u00e9\u20ac\u4e2d bell\x07'
        self.assertTrue(self.client().update_status('Planning', 'Text', 'Warning', message=text))
        self.assertEqual(self.domain('Planning', 'Text')['message'],
                         u'quote " backslash \\ newline\nunicode \u00e9\u20ac\u4e2d bell')
        long_text = u'\u00e9' * 500
        result = self.client().update_status('Planning', 'Text', 'Warning', message=long_text)
        self.assertTrue(result, repr(result))
        shown = self.domain('Planning', 'Text')['message']
        self.assertEqual(len(shown), 200)
        self.assertTrue(shown.endswith(u'\u2026'))

    def test_a_refused_push_is_not_retried_and_does_not_raise(self):
        recorder = Recorder()
        result = self.client(sleep=recorder).update_status('NoSuchApp', 'Actual', 'OK')
        self.assertFalse(result)
        self.assertEqual((result.http_status, result.error_code, result.attempts),
                         (400, 'INVALID_APP', 1))
        self.assertEqual(recorder.waits, [])

    def test_raise_errors_raises_with_the_api_error(self):
        try:
            self.client(raise_errors=True).update_status('Planning', 'Actual', 'Done')
        except pulse.EPMPulseError as error:
            self.assertEqual(error.result.error_code, 'INVALID_STATUS')
            self.assertIn('INVALID_STATUS', str(error))
            self.assertNotIn(self.server.write_key, str(error))
        else:
            self.fail('no EPMPulseError')

    def test_a_wrong_key_is_refused_once_and_never_shown(self):
        wrong = random_key('client-test-wrong-')
        register_secret(wrong)
        client = pulse.EPMPulseClient(self.server.url, wrong, sleep=Recorder())
        result = client.update_status('Planning', 'Actual', 'OK')
        self.assertEqual((result.http_status, result.error_code, result.attempts),
                         (403, 'INVALID_KEY', 1))
        self.assertNotIn(wrong, repr(result) + repr(client))
        self.assertNotIn(wrong, read_text(self.log_path))

    def test_no_key_sends_nothing_and_says_so(self):
        result = pulse.EPMPulseClient(self.server.url, None).update_status('Planning', 'Actual', 'OK')
        self.assertEqual((result.ok, result.error_code, result.attempts), (False, 'NO_API_KEY', 0))
        self.assertRaises(pulse.EPMPulseError,
                          pulse.EPMPulseClient(self.server.url, '', raise_errors=True).update_status,
                          'Planning', 'Actual', 'OK')

    def test_the_client_log_never_holds_a_key(self):
        self.client().update_status('Planning', 'Actual', 'OK', job_id='LOG_1')
        self.client().update_status('NoSuchApp', 'Actual', 'OK')
        self.assert_no_key_in_client_log()


class CommandLineTests(ClientTest):

    def run_cli(self, argv, environ):
        out = TextOut()
        code = pulse.main(argv, environ=environ, out=out)
        return code, out.text()

    def test_status_reads_url_and_key_from_the_environment(self):
        env = {'EPMPULSE_URL': self.server.url, 'EPMPULSE_API_KEY': self.server.write_key}
        code, out = self.run_cli(['status', 'Planning', 'Cli', 'Loading', '--job-id', 'CLI_1',
                                  '--message', 'from the CLI'], env)
        self.assertEqual(code, 0)
        self.assertEqual(json.loads(out)['updated']['status'], 'Loading')
        shown = self.domain('Planning', 'Cli')
        self.assertEqual((shown['job_id'], shown['message']), ('CLI_1', 'from the CLI'))

    def test_key_file_and_url_options(self):
        key_file = tempfile.NamedTemporaryFile(mode='w', suffix='.key', delete=False)
        key_file.write(self.server.write_key + '\n')
        key_file.close()
        try:
            code, _ = self.run_cli(['status', '--url', self.server.url, '--key-file', key_file.name,
                                    'Planning', 'CliFile', 'OK'], {})
        finally:
            os.unlink(key_file.name)
        self.assertEqual(code, 0)
        self.assertEqual(self.domain('Planning', 'CliFile')['status'], 'OK')

    def test_start_and_complete_take_comma_separated_apps(self):
        env = {'EPMPULSE_URL': self.server.url, 'EPMPULSE_API_KEY': self.server.write_key}
        self.assertEqual(self.run_cli(['start', 'Planning,FCCS', 'CliPipe', '--job-id', 'P9'], env)[0], 0)
        self.assertEqual(self.domain('FCCS', 'CliPipe')['status'], 'Loading')
        code, _ = self.run_cli(['complete', 'Planning,FCCS', 'CliPipe', '--job-id', 'P9',
                                '--failed', '--message', 'step 3 failed'], env)
        self.assertEqual(code, 0)
        shown = self.domain('Planning', 'CliPipe')
        self.assertEqual((shown['status'], shown['message']), ('Warning', 'step 3 failed'))

    def test_a_failed_push_exits_0_unless_strict(self):
        sock, port = refused_port()
        try:
            env = {'EPMPULSE_URL': 'http://127.0.0.1:%d' % port, 'EPMPULSE_API_KEY': 'k' * 20}
            args = ['status', 'Planning', 'Actual', 'OK', '--retries', '0']
            self.assertEqual(self.run_cli(args, env)[0], 0)
            self.assertEqual(self.run_cli(args + ['--strict'], env)[0], 1)
        finally:
            sock.close()

    def test_no_url_is_a_usage_error(self):
        self.assertEqual(self.run_cli(['status', 'Planning', 'Actual', 'OK'], {})[0], 2)

    @unittest.skipIf(JYTHON, 'a JVM per command costs seconds; the in-process tests cover Jython')
    def test_python_dash_m_runs_the_module(self):
        import subprocess
        env = {'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'EPMPULSE_URL': self.server.url,
               'EPMPULSE_API_KEY': self.server.write_key,
               'PYTHONPATH': os.path.dirname(HERE)}
        process = subprocess.Popen([sys.executable, '-m', 'epm_pulse_client', 'status', 'FCCS',
                                    'DashM', 'OK', '--job-id', 'M1'],
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
        out, err = process.communicate()
        self.assertEqual(process.returncode, 0, err)
        self.assertTrue(json.loads(out.decode('utf-8'))['success'])
        self.assertEqual(self.domain('FCCS', 'DashM')['job_id'], 'M1')


class RetryTests(unittest.TestCase):
    """Against the stand-in: what the real server does not do on demand."""

    def setUp(self):
        self.standins = []
        self.key = random_key('client-test-standin-')
        register_secret(self.key)
        self.log_handler, self.log_path = capture_client_log('clients-%s-retries' % RUNTIME)

    def tearDown(self):
        for standin in self.standins:
            standin.stop()
        release_client_log(self.log_handler)
        self.assertNotIn(self.key, read_text(self.log_path))

    def standin(self, *responses):
        standin = StandIn(responses).start()
        self.standins.append(standin)
        return standin

    def client(self, url, **options):
        options.setdefault('sleep', Recorder())
        return pulse.EPMPulseClient(url, self.key, **options)

    def test_503_is_retried_with_the_same_body_and_growing_backoff(self):
        standin = self.standin({'status': 503, 'body': {}}, {'status': 503, 'body': {}},
                               {'status': 200, 'body': {'success': True}})
        recorder = Recorder()
        result = self.client(standin.url, sleep=recorder).update_status('Planning', 'Actual', 'OK')
        self.assertTrue(result)
        self.assertEqual(result.attempts, 3)
        self.assertEqual(recorder.waits, [0.5, 1.0])
        bodies = [r['body'] for r in standin.requests]
        self.assertEqual(len(set(bodies)), 1, 'a retry must resend the same event time')
        self.assertIn('"timestamp"', bodies[0])

    def test_the_request_carries_the_key_and_json(self):
        standin = self.standin({'status': 200, 'body': {'success': True}})
        self.client(standin.url).update_status('Planning', 'Actual', 'OK', job_id='J')
        headers = standin.requests[0]['headers']
        self.assertEqual(headers['authorization'], 'Bearer ' + self.key)
        self.assertEqual(headers['content-type'], 'application/json')
        body = json.loads(standin.requests[0]['body'])
        self.assertEqual((body['app'], body['domain'], body['status'], body['job_id']),
                         ('Planning', 'Actual', 'OK', 'J'))
        self.assertTrue(body['timestamp'].endswith('Z'))

    def test_429_waits_as_long_as_retry_after_says(self):
        standin = self.standin({'status': 429, 'headers': {'Retry-After': '3'},
                                'body': {'success': False, 'error': {'code': 'RATE_LIMITED'}}},
                               {'status': 200})
        recorder = Recorder()
        self.assertTrue(self.client(standin.url, sleep=recorder).update_status('P', 'A', 'OK'))
        self.assertEqual(recorder.waits, [3.0])

    def test_429_retry_after_is_capped(self):
        standin = self.standin({'status': 429, 'headers': {'Retry-After': '3600'}}, {'status': 200})
        recorder = Recorder()
        client = self.client(standin.url, sleep=recorder, max_retry_after=4)
        self.assertTrue(client.update_status('P', 'A', 'OK'))
        self.assertEqual(recorder.waits, [4.0])

    def test_429_really_waits_with_the_default_sleep(self):
        standin = self.standin({'status': 429, 'headers': {'Retry-After': '1'}}, {'status': 200})
        client = pulse.EPMPulseClient(standin.url, self.key)
        self.assertTrue(client.update_status('P', 'A', 'OK'))
        first, second = standin.requests[0]['time'], standin.requests[1]['time']
        self.assertTrue(second - first >= 0.95, 'retried after %.3f s' % (second - first))

    def test_retry_after_as_an_http_date(self):
        self.assertEqual(pulse.retry_after_seconds('Wed, 21 Oct 2015 07:28:10 GMT',
                                                   now=1445412480.0), 10.0)
        self.assertEqual(pulse.retry_after_seconds('soon'), None)

    def test_5xx_forever_gives_up_after_the_retries_without_raising(self):
        standin = self.standin({'status': 500, 'body': {'success': False,
                                                       'error': {'code': 'STATE_ERROR',
                                                                 'message': 'not confirmed'}}})
        recorder = Recorder()
        result = self.client(standin.url, retries=2, sleep=recorder).batch_update(
            [{'app': 'P', 'domain': 'A', 'status': 'OK'}])
        self.assertFalse(result)
        self.assertEqual((result.http_status, result.error_code, result.attempts),
                         (500, 'STATE_ERROR', 3))
        self.assertEqual(len(standin.requests), 3)
        self.assertEqual(recorder.waits, [0.5, 1.0])

    def test_backoff_is_capped(self):
        standin = self.standin({'status': 503})
        recorder = Recorder()
        self.client(standin.url, retries=5, backoff=1, max_backoff=3, sleep=recorder) \
            .update_status('P', 'A', 'OK')
        self.assertEqual(recorder.waits, [1.0, 2.0, 3.0, 3.0, 3.0])

    def test_raise_errors_raises_once_the_retries_are_spent(self):
        standin = self.standin({'status': 503, 'body': {'success': False, 'error': {
            'code': 'SERVICE_UNAVAILABLE', 'message': 'shutting down'}}})
        client = self.client(standin.url, retries=1, raise_errors=True)
        try:
            client.update_status('P', 'A', 'OK')
        except pulse.EPMPulseError as error:
            self.assertEqual((error.result.error_code, error.result.attempts),
                             ('SERVICE_UNAVAILABLE', 2))
        else:
            self.fail('no EPMPulseError')

    def test_a_refused_connection_is_retried_then_given_up(self):
        sock, port = refused_port()
        try:
            recorder = Recorder()
            client = self.client('http://127.0.0.1:%d' % port, retries=2, sleep=recorder)
            result = client.update_status('P', 'A', 'OK')
        finally:
            sock.close()
        self.assertEqual((result.ok, result.http_status, result.error_code, result.attempts),
                         (False, None, 'CONNECTION_ERROR', 3))
        self.assertEqual(recorder.waits, [0.5, 1.0])

    def test_no_answer_within_the_timeout_is_a_timeout(self):
        standin = self.standin({'hold': True})
        result = self.client(standin.url, timeout=0.3, retries=0).update_status('P', 'A', 'OK')
        standin.release()
        self.assertEqual((result.ok, result.error_code), (False, 'TIMEOUT'))

    def test_4xx_is_not_retried(self):
        standin = self.standin({'status': 400, 'body': {'success': False, 'error': {
            'code': 'INVALID_REQUEST', 'message': 'bad'}}})
        result = self.client(standin.url).update_status('P', 'A', 'OK')
        self.assertEqual((result.error_code, result.attempts, len(standin.requests)),
                         ('INVALID_REQUEST', 1, 1))

    def test_a_redirect_is_not_followed_so_the_key_goes_nowhere_else(self):
        elsewhere = self.standin({'status': 200})
        standin = self.standin({'status': 307, 'headers': {'Location': elsewhere.url + '/api/v1/status'}})
        result = self.client(standin.url).update_status('P', 'A', 'OK')
        self.assertFalse(result)
        self.assertEqual(result.http_status, 307)
        self.assertEqual(elsewhere.requests, [])

    def test_a_failed_warning_push_does_not_hide_the_jobs_exception(self):
        standin = self.standin({'status': 200}, {'status': 400})
        client = self.client(standin.url, raise_errors=True)

        def failing_job():
            with client.job('P', 'A', job_id='J'):
                raise KeyError('the job failed')
        self.assertRaises(KeyError, failing_job)
        self.assertEqual([json.loads(r['body'])['status'] for r in standin.requests],
                         ['Loading', 'Warning'])

    def test_a_java_style_exception_text_is_sent(self):
        standin = self.standin({'status': 200})
        client = self.client(standin.url)
        try:
            with client.job('P', 'A', job_id='J'):
                raise RuntimeError(u'caf\u00e9 \u2013 failed')
        except RuntimeError:
            pass
        self.assertEqual(json.loads(standin.requests[1]['body'])['message'],
                         u'RuntimeError: caf\u00e9 \u2013 failed')


if __name__ == '__main__':
    unittest.main(verbosity=2)

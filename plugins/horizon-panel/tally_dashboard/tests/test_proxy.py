"""The REST proxy views, run in Debian's Horizon (python3-django-horizon, Django 3.2).

Run from plugins/horizon-panel: ``python3 -m unittest discover -s tally_dashboard/tests -t .``
(cli/test-openstack/horizon-proxy.test.ts does this in the OpenStack tier).

billing-api is played by a small recording HTTP server on loopback: these tests
are about what the proxy sends and passes back (the browser tests run the real
billing-api behind the real Horizon).
"""
import datetime
import json
import os
import sys
import threading
import types
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

# This checkout's plugin, ahead of any installed copy.
sys.path.insert(0, os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..')))
os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'openstack_dashboard.settings')

import django  # noqa: E402

django.setup()

from django.contrib.auth.models import AnonymousUser  # noqa: E402
from django.test import RequestFactory, override_settings  # noqa: E402
from django.urls import resolve  # noqa: E402
from openstack_auth.user import User  # noqa: E402

import tally_dashboard  # noqa: E402
from tally_dashboard.api import rest  # noqa: E402

assert tally_dashboard.__file__.startswith(sys.path[0]), 'testing an installed copy, not this checkout'

TOKEN = 'gAAAAABtally-user-token-' + 'x' * 150


class Recorder(BaseHTTPRequestHandler):
    """Records each request and answers with the server's next canned reply."""

    def _handle(self):
        length = int(self.headers.get('Content-Length') or 0)
        self.server.seen.append({'method': self.command, 'path': self.path, 'headers': dict(self.headers),
                                 'body': self.rfile.read(length) if length else b''})
        status, headers, body = self.server.reply
        self.send_response(status)
        for k, v in headers.items():
            self.send_header(k, v)
        self.send_header('Content-Length', str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _handle

    def log_message(self, *args):
        pass


def user(catalog=None, token=TOKEN, project_id='p-demo'):
    expires = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(hours=1)
    return User(id='u-1', token=types.SimpleNamespace(id=token, expires=expires), user='demo-member',
                project_id=project_id, project_name='demo', roles=[{'name': 'member'}], enabled=True,
                service_catalog=catalog or [], services_region='RegionOne')


class ProxyTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.server = ThreadingHTTPServer(('127.0.0.1', 0), Recorder)
        cls.server.seen = []
        cls.url = 'http://127.0.0.1:%d' % cls.server.server_address[1]
        threading.Thread(target=cls.server.serve_forever, daemon=True).start()

    @classmethod
    def tearDownClass(cls):
        cls.server.shutdown()
        cls.server.server_close()

    def setUp(self):
        self.server.seen.clear()
        self.reply(200, {'projects': []})
        self.factory = RequestFactory()
        self.settings = override_settings(TALLY_BILLING_URL=self.url)
        self.settings.enable()
        self.addCleanup(self.settings.disable)

    def reply(self, status, body, headers=None, content_type='application/json'):
        raw = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.server.reply = (status, {'Content-Type': content_type, **(headers or {})}, raw)

    def call(self, method, path, body=None, ajax=True, who=None, query=''):
        extra = {'HTTP_X_REQUESTED_WITH': 'XMLHttpRequest'} if ajax else {}
        url = '/api/tally/' + quote(path) + ('?' + query if query else '')
        if body is None:
            request = getattr(self.factory, method.lower())(url, **extra)
        else:
            request = getattr(self.factory, method.lower())(url, data=json.dumps(body), content_type='application/json', **extra)
        request.user = who if who is not None else user()
        return rest.BillingProxy.as_view()(request, path=path)

    def test_get_forwards_the_users_token_path_and_query(self):
        body = b'{"project_id":"p-demo","total":"90071992547409931.00005","currency":"EUR"}'
        self.reply(200, body, {'X-Request-Id': 'req-1'})
        res = self.call('GET', 'v1/projects/p-demo/charges', query='start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z')
        self.assertEqual(res.status_code, 200)
        self.assertEqual(res.content, body)  # byte for byte: the money string is not re-encoded
        self.assertEqual(res['X-Request-Id'], 'req-1')
        [seen] = self.server.seen
        self.assertEqual(seen['method'], 'GET')
        self.assertEqual(seen['path'], '/v1/projects/p-demo/charges?start=2026-11-01T00:00:00Z&end=2026-11-02T00:00:00Z')
        self.assertEqual(seen['headers']['X-Auth-Token'], TOKEN)

    def test_the_token_never_reaches_the_browser(self):
        self.reply(200, {'ok': True})
        res = self.call('GET', 'v1/projects')
        self.assertNotIn(TOKEN.encode(), res.content)
        self.assertNotIn(TOKEN, ''.join('%s: %s' % h for h in res.items()))

    def test_errors_are_passed_through_with_status_body_and_request_id(self):
        for status in (400, 401, 403, 404, 409, 500, 503):
            with self.subTest(status=status):
                body = {'error': {'code': 'c%d' % status, 'message': 'm', 'field': 'start', 'request_id': 'r-%d' % status}}
                self.reply(status, body, {'X-Request-Id': 'r-%d' % status})
                res = self.call('GET', 'v1/projects')
                self.assertEqual(res.status_code, status)
                self.assertEqual(json.loads(res.content), body)
                self.assertEqual(res['X-Request-Id'], 'r-%d' % status)

    def test_writes_forward_method_body_and_content_type(self):
        for method in ('POST', 'PUT', 'PATCH', 'DELETE'):
            with self.subTest(method=method):
                self.server.seen.clear()
                self.reply(201, {'version': 2})
                res = self.call(method, 'v1/policies/default', body={'source': 'flavor m1.tiny: 0.01/h'})
                self.assertEqual(res.status_code, 201)
                [seen] = self.server.seen
                self.assertEqual(seen['method'], method)
                self.assertEqual(json.loads(seen['body']), {'source': 'flavor m1.tiny: 0.01/h'})
                self.assertEqual(seen['headers']['Content-Type'], 'application/json')
                self.assertEqual(seen['headers']['X-Auth-Token'], TOKEN)

    def test_csv_and_its_file_name_pass_through(self):
        csv = b'resource,amount\r\nvm-1,0.020000\r\n'
        self.reply(200, csv, {'Content-Disposition': 'attachment; filename="invoice-1.csv"'}, content_type='text/csv; charset=utf-8')
        res = self.call('GET', 'v1/invoices/1.csv')
        self.assertEqual(res.content, csv)
        self.assertEqual(res['Content-Type'], 'text/csv; charset=utf-8')
        self.assertEqual(res['Content-Disposition'], 'attachment; filename="invoice-1.csv"')

    def test_unreachable_billing_api_is_an_error_in_the_apis_shape(self):
        with override_settings(TALLY_BILLING_URL='http://127.0.0.1:9'):
            res = self.call('GET', 'v1/projects')
        self.assertEqual(res.status_code, 502)
        err = json.loads(res.content)['error']
        self.assertEqual(err['code'], 'upstream_unreachable')
        self.assertIn('127.0.0.1:9', err['message'])
        self.assertEqual(res['X-Request-Id'], err['request_id'])

    def test_billing_api_is_found_in_the_catalog_by_type(self):
        catalog = [{'type': 'billing', 'name': 'billing', 'id': 's1', 'endpoints': [
            {'interface': 'public', 'region': 'RegionOne', 'region_id': 'RegionOne', 'url': self.url + '/', 'id': 'e1'}]}]
        with override_settings(TALLY_BILLING_URL=None):
            res = self.call('GET', 'v1/projects', who=user(catalog=catalog))
            self.assertEqual(res.status_code, 200)
            self.assertEqual(self.server.seen[0]['path'], '/v1/projects')
            self.server.seen.clear()
            res = self.call('GET', 'v1/projects', who=user(catalog=[]))
        self.assertEqual(res.status_code, 503)
        err = json.loads(res.content)['error']
        self.assertEqual(err['code'], 'not_in_catalog')
        self.assertIn('"billing"', err['message'])
        self.assertEqual(self.server.seen, [])

    def test_refused_before_billing_api_is_asked(self):
        cases = [
            ('no session', dict(path='v1/projects', who=AnonymousUser()), 401),
            ('not AJAX', dict(path='v1/projects', ajax=False), 400),
            ('dot segments', dict(path='v1/../healthcheck'), 400),
            ('empty segment', dict(path='v1//projects'), 400),
        ]
        for name, kwargs, status in cases:
            with self.subTest(name):
                res = self.call('GET', **kwargs)
                self.assertEqual(res.status_code, status)
        self.assertEqual(self.server.seen, [])

    def test_path_segments_are_quoted(self):
        self.call('GET', 'v1/projects/a b?c/charges')
        self.assertEqual(self.server.seen[0]['path'], '/v1/projects/a%20b%3Fc/charges')

    def test_the_url_is_registered_under_horizons_api(self):
        match = resolve('/api/tally/v1/projects/p-demo/charges')
        self.assertIs(match.func.view_class, rest.BillingProxy)
        self.assertEqual(match.kwargs, {'path': 'v1/projects/p-demo/charges'})


if __name__ == '__main__':
    unittest.main()

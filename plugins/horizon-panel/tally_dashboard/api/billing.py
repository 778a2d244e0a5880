"""Calls billing-api as the logged-in user.

billing-api is found in the Keystone service catalog under the type
``TALLY_BILLING_SERVICE_TYPE`` (default ``billing``); ``TALLY_BILLING_URL``
overrides the catalog (devstack or a test). Every call carries the user's
token in ``X-Auth-Token``: billing-api validates it with Keystone and applies
its own policy, so this module decides nothing about who may see what.
"""
import json
import logging
import uuid
from urllib.parse import quote

import requests
from django.conf import settings
from django.http import HttpResponse

from horizon import exceptions as horizon_exceptions
from openstack_dashboard.api import base

LOG = logging.getLogger(__name__)

#: Response headers passed on to the browser (everything else stays here).
PASSED_HEADERS = ('X-Request-Id', 'Content-Disposition', 'Retry-After')


class BillingApiError(Exception):
    """billing-api could not be asked; carries the status and code to answer with."""

    def __init__(self, status, code, message):
        super().__init__(message)
        self.status = status
        self.code = code


def setting(name, default):
    """A ``TALLY_*`` setting from local_settings, or its default."""
    return getattr(settings, name, default)


def endpoint(request):
    """billing-api's base URL for this user: the override, else the catalog."""
    url = setting('TALLY_BILLING_URL', None)
    if url:
        return url.rstrip('/')
    service_type = setting('TALLY_BILLING_SERVICE_TYPE', 'billing')
    try:
        return base.url_for(request, service_type).rstrip('/')
    except horizon_exceptions.ServiceCatalogException as e:
        raise BillingApiError(
            503, 'not_in_catalog',
            'billing-api is not in the service catalog (type "%s"): %s. Ask the operator to register '
            'it (openstack service create --name tally %s) or to set TALLY_BILLING_URL.'
            % (service_type, e, service_type))


def api_path(path):
    """Check and quote a ``v1/...`` path from the URL; refuses dot segments."""
    segments = path.split('/')
    if not path.startswith('v1/') or any(s in ('', '.', '..') for s in segments[1:-1]) or segments[-1] in ('.', '..'):
        raise BillingApiError(400, 'bad_path', 'path: not a billing-api v1 path: %r' % path)
    return '/' + '/'.join(quote(s, safe='') for s in segments)


def error_response(status, code, message):
    """An answer in billing-api's own error shape, so the UI reads every error alike."""
    request_id = 'horizon-' + uuid.uuid4().hex
    body = {'error': {'code': code, 'message': message, 'request_id': request_id}}
    response = HttpResponse(json.dumps(body), status=status, content_type='application/json')
    response['X-Request-Id'] = request_id
    return response


def forward(request, method, path):
    """Send ``method path?query`` with the request's body to billing-api as the user.

    billing-api's status, body (byte for byte: money stays a decimal string),
    content type and request id are passed through unchanged, errors included.
    """
    try:
        url = endpoint(request) + api_path(path)
    except BillingApiError as e:
        return error_response(e.status, e.code, str(e))
    query = request.META.get('QUERY_STRING', '')
    if query:
        url += '?' + query
    headers = {
        'X-Auth-Token': request.user.token.id,
        'Accept': request.META.get('HTTP_ACCEPT') or 'application/json',
    }
    body = request.body if method not in ('GET', 'HEAD') else None
    if body:
        headers['Content-Type'] = request.META.get('CONTENT_TYPE') or 'application/json'
    try:
        upstream = requests.request(
            method, url, headers=headers, data=body, allow_redirects=False,
            timeout=float(setting('TALLY_BILLING_TIMEOUT', 30)),
            verify=setting('TALLY_BILLING_CA_FILE', None) or not setting('TALLY_BILLING_INSECURE', False))
    except requests.Timeout:
        LOG.warning('billing-api timed out: %s %s', method, url)
        return error_response(504, 'upstream_timeout', 'billing-api at %s did not answer in time.' % url.split('/v1/')[0])
    except requests.RequestException as e:
        # The full reason goes to Horizon's log; the browser gets the address and the kind of failure.
        LOG.warning('billing-api unreachable: %s %s: %s', method, url, e)
        kind = 'connection refused or reset' if isinstance(e, requests.ConnectionError) else type(e).__name__
        return error_response(502, 'upstream_unreachable', 'billing-api cannot be reached at %s (%s).' % (url.split('/v1/')[0], kind))
    response = HttpResponse(upstream.content, status=upstream.status_code,
                            content_type=upstream.headers.get('Content-Type', 'application/octet-stream'))
    for name in PASSED_HEADERS:
        if name in upstream.headers:
            response[name] = upstream.headers[name]
    return response

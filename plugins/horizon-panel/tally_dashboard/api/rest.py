"""REST proxy views under Horizon's ``/api/``: ``/api/tally/v1/...`` -> billing-api ``/v1/...``.

``rest_utils.ajax`` answers 401 without a session and 400 without
``X-Requested-With: XMLHttpRequest``; Django's CSRF middleware guards writes.
The token never leaves the server: the browser holds only Horizon's session
cookie. Imported by the panels' ``panel.py``, which registers the URL.
"""
from django.views import generic

from openstack_dashboard.api.rest import urls
from openstack_dashboard.api.rest import utils as rest_utils

from tally_dashboard.api import billing


@urls.register
class BillingProxy(generic.View):
    """Every billing-api v1 route, with the logged-in user's token."""

    url_regex = r'^tally/(?P<path>v1/.*)$'

    @rest_utils.ajax()
    def get(self, request, path):
        return billing.forward(request, 'GET', path)

    @rest_utils.ajax()
    def post(self, request, path):
        return billing.forward(request, 'POST', path)

    @rest_utils.ajax()
    def put(self, request, path):
        return billing.forward(request, 'PUT', path)

    @rest_utils.ajax()
    def patch(self, request, path):
        return billing.forward(request, 'PATCH', path)

    @rest_utils.ajax()
    def delete(self, request, path):
        return billing.forward(request, 'DELETE', path)

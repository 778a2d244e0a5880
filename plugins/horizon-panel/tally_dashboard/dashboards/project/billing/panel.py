"""Project > Billing: the current project's charges."""
from django.utils.translation import gettext_lazy as _

import horizon

# Registers the REST proxy views under /api/tally/.
from tally_dashboard.api import rest  # noqa: F401


class ProjectBilling(horizon.Panel):
    name = _("Charges")
    slug = 'billing'
    permissions = ('openstack.roles.reader',)

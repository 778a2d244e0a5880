"""Admin > Billing > Scheduler: the resource scheduler's clusters, policies, decisions and alerts."""
from django.utils.translation import gettext_lazy as _

import horizon

# Registers the REST proxy views under /api/tally/.
from tally_dashboard.api import rest  # noqa: F401


class AdminScheduler(horizon.Panel):
    name = _("Scheduler")
    slug = 'scheduler'
    permissions = ('openstack.roles.admin',)

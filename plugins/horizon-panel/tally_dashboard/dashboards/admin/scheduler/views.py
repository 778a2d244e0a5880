"""Admin > Billing > Scheduler: the same bundle in its scheduler mode."""
from django.utils.translation import gettext_lazy as _

from tally_dashboard import views


class IndexView(views.BillingView):
    template_name = 'admin/scheduler/index.html'
    page_title = _("Scheduler")
    mode = 'scheduler'

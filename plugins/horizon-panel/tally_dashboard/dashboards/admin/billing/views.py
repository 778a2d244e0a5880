"""Admin > Billing: every project's charges."""
from tally_dashboard import views


class IndexView(views.BillingView):
    template_name = 'admin/billing/index.html'
    mode = 'all'

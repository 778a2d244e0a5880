"""Project > Billing: the current project's charges."""
from tally_dashboard import views


class IndexView(views.BillingView):
    template_name = 'project/billing/index.html'
    mode = 'project'

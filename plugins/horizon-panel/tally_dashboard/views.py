"""The one page both panels render: the TypeScript bundle inside Horizon's chrome."""
from django.urls import get_script_prefix
from django.utils.translation import gettext_lazy as _

from horizon import views


class BillingView(views.HorizonTemplateView):
    """Renders ``_app.html`` with the data attributes the bundle reads (``config.ts``)."""

    page_title = _("Charges")
    #: ``project``: only the current project; ``all``: every project (admin).
    mode = 'project'

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context['tally_api_base'] = get_script_prefix() + 'api/tally'
        context['tally_mode'] = self.mode
        context['tally_project_id'] = self.request.user.project_id or ''
        context['tally_project_name'] = self.request.user.project_name or ''
        return context

# Project > Billing > Charges: the current project's charges.
PANEL = 'billing'
PANEL_DASHBOARD = 'project'
PANEL_GROUP = 'tally_billing'
ADD_PANEL = 'tally_dashboard.dashboards.project.billing.panel.ProjectBilling'

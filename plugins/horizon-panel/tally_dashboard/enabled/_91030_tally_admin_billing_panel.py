# Admin > Billing > Charges: every project's charges.
PANEL = 'billing'
PANEL_DASHBOARD = 'admin'
PANEL_GROUP = 'tally_billing'
ADD_PANEL = 'tally_dashboard.dashboards.admin.billing.panel.AdminBilling'

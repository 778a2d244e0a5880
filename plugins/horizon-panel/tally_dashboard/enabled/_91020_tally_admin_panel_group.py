# Admin > Billing panel group.
PANEL_GROUP = 'tally_billing'
PANEL_GROUP_NAME = 'Billing'
PANEL_GROUP_DASHBOARD = 'admin'

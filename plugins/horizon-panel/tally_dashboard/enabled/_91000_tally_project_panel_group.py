# Project > Billing panel group (must sort before the panels that use it).
PANEL_GROUP = 'tally_billing'
PANEL_GROUP_NAME = 'Billing'
PANEL_GROUP_DASHBOARD = 'project'

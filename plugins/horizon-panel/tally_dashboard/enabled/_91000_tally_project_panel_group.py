# Project > Billing panel group (must sort before the panels that use it).
PANEL_GROUP = 'tally_billing'
PANEL_GROUP_NAME = 'Billing'
PANEL_GROUP_DASHBOARD = 'project'
# Once for the whole plugin: Django refuses an app listed twice in INSTALLED_APPS.
ADD_INSTALLED_APPS = ['tally_dashboard']

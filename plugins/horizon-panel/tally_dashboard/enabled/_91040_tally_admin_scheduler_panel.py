# Admin > Billing > Scheduler: analyzer clusters, members and load, scaling policies, decisions, alerts.
PANEL = 'scheduler'
PANEL_DASHBOARD = 'admin'
PANEL_GROUP = 'tally_billing'
ADD_PANEL = 'tally_dashboard.dashboards.admin.scheduler.panel.AdminScheduler'

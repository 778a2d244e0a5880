"""Tally's Horizon plugin: Project > Billing and Admin > Billing.

The panels render one template that loads the TypeScript bundle built by
``npm run build`` (``static/tally_dashboard/app.js``). The bundle talks only to
the REST proxy views in :mod:`tally_dashboard.api.rest`, which call billing-api
with the logged-in user's Keystone token, so the browser never sees a token.
"""

"""The one module that talks to billing-api (see :mod:`.billing`), and the REST proxy views."""

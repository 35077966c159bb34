"""Defaults shared by the client: hosts, environment variables, timeouts, deadline, retries, page size."""

from __future__ import annotations

DEFAULT_BASE_URL = "https://api.catenatelematics.com"
DEFAULT_AUTH_URL = "https://auth.catenatelematics.com/realms/catena"
TOKEN_PATH = "/protocol/openid-connect/token"
TOKEN_SCOPE = "organization"

ENV_BASE_URL = "CATENA_BASE_URL"
ENV_AUTH_URL = "CATENA_AUTH_URL"
ENV_CLIENT_ID = "CATENA_CLIENT_ID"
ENV_CLIENT_SECRET = "CATENA_CLIENT_SECRET"
ENV_TOKEN = "CATENA_TOKEN"

# Sync sends wait for the TSP, so reads are given less time than writes.
DEFAULT_TIMEOUT_S = 30.0
DEFAULT_CONNECT_TIMEOUT_S = 10.0
# The most one call may take, all attempts, retry waits and the reading of the answer included: httpx's
# timeouts bound each read, not a call, so a server that trickles or never answers would hold it for longer.
DEFAULT_DEADLINE_S = 60.0

DEFAULT_MAX_RETRIES = 4
INITIAL_RETRY_DELAY_S = 0.5
MAX_RETRY_DELAY_S = 30.0
# A token is refreshed this long before the `expires_in` the server gave, so no request carries a token that
# expires in flight.
TOKEN_REFRESH_MARGIN_S = 30.0

DEFAULT_PAGE_SIZE = 1000  # the API's maximum; its default is 300
MAX_PAGE_SIZE = 1000
# sub-windows of a listing fetched side by side (`concurrency=`; 1 is one cursor at a time)
DEFAULT_LIST_CONCURRENCY = 8
MAX_LIST_CONCURRENCY = 32
MAX_WINDOW_DAYS = 45  # the longest from_datetime/to_datetime span the list endpoints accept
MAX_LIST_PARAM_VALUES = 100

"""The refund service's limits (runtime/api/limits.py); docs/domain.md lists them."""
from runtime.api.limits import Limit, table

REQUESTS_PER_ORDER = Limit("requests_per_order", 20, "after-sale requests per order")
POSTS_PER_REQUEST = Limit("posts_per_request", 200, "conversation posts per request, in all")

LIMITS = table(REQUESTS_PER_ORDER, POSTS_PER_REQUEST)

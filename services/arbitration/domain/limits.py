"""The arbitration service's limits (runtime/api/limits.py); docs/domain.md lists them."""
from contracts.common import MAX_EVIDENCE_ITEMS
from runtime.api.limits import Limit, table

EVIDENCE_PER_PARTY = Limit("evidence_per_party_per_case", 3 * MAX_EVIDENCE_ITEMS, "evidence items per party per case")
SUBMISSIONS_PER_PARTY = Limit("submissions_per_party_per_case", 250, "evidence submissions per party per case")
# What the case file copies of a request's negotiation (offers, answers, posts) before the case.
NEGOTIATION_PER_REQUEST = Limit("negotiation_per_request", 250, "negotiation records per request in the case file")

LIMITS = table(EVIDENCE_PER_PARTY, SUBMISSIONS_PER_PARTY, NEGOTIATION_PER_REQUEST)

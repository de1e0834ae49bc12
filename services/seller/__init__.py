"""Seller service: the seller's answers, the answer deadline, returns received, shop credit."""

"""Refund service: owns the after-sale request (售后单), returns and payouts."""

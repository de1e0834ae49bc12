"""Arbitration service: the platform's judge (平台介入): cases, evidence, rulings, appeals."""

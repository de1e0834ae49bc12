"""Notify service: in-app messages (站内信) about every step, in Chinese and English."""

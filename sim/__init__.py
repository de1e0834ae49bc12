"""Stand-ins for systems outside this project (only the payment system so far)."""

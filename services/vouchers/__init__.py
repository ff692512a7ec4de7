"""Programmable vouchers: purpose-bound e-CNY locked under CEL conditions (issue 7)."""

"""Authentication and authorisation of the API and console.

Tokens, sessions, OIDC, roles, the audit log and rate limits; ``middleware`` is the one gate.
"""

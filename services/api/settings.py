"""The API's settings: where it listens (``ASSAY_API_LISTEN``) and who may use it (``ASSAY_AUTH_*``)."""

from __future__ import annotations

from typing import Annotated

import msgspec

from services.common.hostport import HostPort


class ApiSettings(msgspec.Struct, frozen=True, kw_only=True):
    """The read API (``assay service api``)."""

    listen: HostPort = "127.0.0.1:8080"
    token: str = ""  # the API token `assay images|findings --api URL` sends (ASSAY_API_TOKEN); never logged


class AuthConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Who may use the API and console (services/api/auth/): ``ASSAY_AUTH_<FIELD>``. Always on."""

    bootstrap_token: str = ""  # an admin token the API registers (hashed) at start; from a Secret
    public_url: str = ""  # the console's external URL: https => Secure cookies; the OIDC redirect base
    session_ttl_s: Annotated[float, msgspec.Meta(gt=0)] = 28800.0  # a console session lasts this long
    rate_per_s: Annotated[float, msgspec.Meta(gt=0)] = 20.0  # API requests per second per token (or address)
    rate_burst: Annotated[int, msgspec.Meta(ge=1)] = 100
    login_failures_per_min: Annotated[int, msgspec.Meta(ge=1)] = 10  # failed logins per address before 429
    oidc_issuer: str = ""  # "" = no single sign-on
    oidc_client_id: str = ""  # also the audience ID tokens must carry
    oidc_client_secret: str = ""  # "" = a public client (PKCE only)
    oidc_role_claim: str = "assay_role"  # the claim naming viewer, operator or admin
    oidc_default_role: str = ""  # role when the claim is absent; "" = refuse the login
    # the claim limiting a user to environments ("cluster:prod-eu") and OUs ("ou:payments"): a list, or
    # a comma/space-separated string; absent or empty = every environment; "" = no such claim is read
    oidc_scope_claim: str = "assay_scope"

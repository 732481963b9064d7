"""Registry credential providers' settings (services/oci/credentials/): ``ASSAY_CREDENTIALS_<FIELD>``."""

from __future__ import annotations

from typing import Annotated

import msgspec


class CredentialsConfig(msgspec.Struct, frozen=True, kw_only=True):
    """Docker config.json, credential helpers, and GAR/GCR and ACR token sources."""

    docker_config: str = ""  # a docker config.json (auths, credHelpers, credsStore); "" = none
    # a docker-credential-<name> helper is killed after this long
    helper_timeout_s: Annotated[float, msgspec.Meta(gt=0)] = 10.0
    gcp: bool = False  # GAR/GCR (*.gcr.io, *-docker.pkg.dev): tokens from the GCE metadata server
    gcp_metadata_url: str = "http://metadata.google.internal"  # the metadata server (tests: a fake)
    gcp_token_file: str = ""  # GAR/GCR: a file holding an OAuth2 access token (refreshed by others)
    azure_token_file: str = ""  # ACR (*.azurecr.io): a file holding an AAD access token to exchange
    azure_tenant: str = ""  # the AAD tenant sent with the ACR token exchange ("" = the token's own)

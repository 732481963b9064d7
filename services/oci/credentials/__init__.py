"""Registry credential providers behind one small interface (``CredentialProvider``).

- ``static``: ``RegistryConfig`` usernames and passwords (Harbor robot accounts, ``_json_key``);
- ``dockerconfig``: docker's ``config.json`` with ``auths``, ``credHelpers`` and ``credsStore``
  (``helpers``: ``docker-credential-<name> get``);
- ``pullsecrets``: Kubernetes ``imagePullSecrets`` (``dockerconfigjson`` and ``dockercfg``);
  ``kube`` reads the secrets the pods running an image name from the cluster, for one pull
  (``build.pulling_with`` puts them first in that pull's chain);
- ``services.oci.ecr``: ECR authorization tokens;
- ``gcp``: GAR/GCR access tokens (metadata server or a token file);
- ``acr``: ACR's AAD token exchange.

``build.credential_chain`` assembles them from settings into a ``CredentialChain``, which
``RegistryClient`` takes as its ``credentials_provider``. A provider answers per registry host;
where credentials may travel is ``RegistryClient``'s rule (same host, HTTPS, ``auth_hosts``).
"""

from services.oci.credentials.base import CredentialChain, CredentialProvider, Credentials

__all__ = ["CredentialChain", "CredentialProvider", "Credentials"]

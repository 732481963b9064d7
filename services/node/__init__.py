"""The node daemon (``assay service node``): one per Kubernetes node, on the node's containerd.

It reports the node's images to inventory and serves their content to the engine over a
token-protected, read-only OCI distribution endpoint, so images that exist only on a node
(imported, or from a registry Assay cannot reach) are scanned too.
"""

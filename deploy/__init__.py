"""Deployment material: the Dockerfile, compose file, Helm chart and the renderer of ``k8s/``."""

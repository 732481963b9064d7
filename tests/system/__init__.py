"""System tests: the deployment (k8s/, deploy/compose.yaml) run as configured, on real components."""

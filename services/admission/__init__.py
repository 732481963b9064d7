"""``assay service admission``: a Kubernetes validating admission webhook over Assay's findings.

Per environment (the cluster it guards), it denies — or only warns on — pods and pod templates
whose images have open findings over the ruleset's threshold, asks for a scan of digests Assay has
not seen, and lets through what it cannot judge unless told to fail closed. Namespaces can be
exempted. It speaks ``admission.k8s.io/v1`` ``AdmissionReview``.
"""

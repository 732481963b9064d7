"""Push, not only crawl: registry notifications become inventory events within seconds.

One parser per sender, each a pure function from the request body to ``ImageDiscovered`` /
``ImageRemoved`` events (``distribution``: the CNCF distribution registry's ``notifications``
endpoints; ``harbor``: Harbor's webhooks; ``ecr``: ECR image actions delivered by EventBridge),
and one receiver (``receiver``) that authenticates the sender and publishes what it parsed.
"""

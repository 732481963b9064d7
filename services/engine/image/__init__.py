"""Image access: every kind of scan target opened as an ``OpenedImage`` (see ``interface``).

``targets.parse_target`` turns what the user typed into an ``ImageSource``;
``registry.RegistryClient`` is the distribution-API client shared with inventory.
"""

"""Load test of the pipeline's front half: synthetic fleets, the inventory replayer, its report."""

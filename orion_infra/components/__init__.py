"""Pulumi component resources: each takes typed arguments from the validated model, never `pulumi.Config`."""

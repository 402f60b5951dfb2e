"""What every stage shares: the registry of domain names, config validation, file I/O and provenance, job logs,
and the latent table's format."""

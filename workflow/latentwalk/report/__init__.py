"""What a user reads and checks: the Snakemake report, the per-run latent explorer (rules project and explorer),
the manifest and its verification (rules manifest and verify), and the ``latentwalk`` command."""

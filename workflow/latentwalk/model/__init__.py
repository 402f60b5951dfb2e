"""Models: the networks and their losses, the trainer (rule train), checkpoints, and rules encode and decode."""

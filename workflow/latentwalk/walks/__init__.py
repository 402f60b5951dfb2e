"""Walks through latent space: every path method (interpolations, traversals, surveys, geodesics), the
projections that lay latents out in the plane, and rules generate_paths, decoder_paths and unit_sphere_spiral."""

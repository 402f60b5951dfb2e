"""Measurements: norm concentration and hypersphere geometry, path norms and interpolation quality, the frame
classifier, the cross-run summaries and the published line benchmark."""

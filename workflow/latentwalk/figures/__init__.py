"""Figures, drawn from artifacts only: the shared style, each figure family in a module of its own, and the
figure rules (plot_walks, plot_views, plot_view_dataset, plot_geometry, plot_comparison)."""

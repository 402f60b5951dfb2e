"""Datasets: the dataset file every run trains on, how each built-in dataset is made (scikit-learn's digits, the
synthetic line benchmark, rendered object views, MNIST's IDX files), and rule prepare_data."""

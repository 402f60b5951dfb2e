"""One module per pipeline stage: read input artifacts, compute, write outputs atomically.

Rule scripts only unpack ``snakemake.*`` and call these functions. Each rule
lists exactly the modules it runs as inputs, so editing e.g. the decoder stage
reruns decoding but not training. Heavy libraries are imported inside the
stage functions: data preparation never pays for a torch import.
"""

"""What the runner and the benchmark measure with: the backend adapter, peak
memory, FLOPs and the environment (hardware, backend, versions, commit).

    from zoo.measure import backend, environment, flops
"""

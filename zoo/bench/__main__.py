"""`python -m zoo.bench --worker JOB_JSON`: the benchmark's worker process
(`zoo bench` starts one per job)."""

import argparse
import json
import os
import sys

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m zoo.bench")
    parser.add_argument("--worker", required=True, help="a job as JSON, from `zoo bench`")
    options = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if json.loads(options.worker)["kind"] != "pytorch":  # the native PyTorch worker: no Keras
        from zoo.measure import backend_startup

        backend_startup.start()
    from zoo.bench.worker import worker_main

    sys.exit(worker_main(options.worker))

"""`python -m zoo.bench --worker JOB_JSON`: the benchmark's worker process
(`zoo bench` starts one per job)."""

import argparse
import os
import sys

from zoo.bench.worker import worker_main

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m zoo.bench")
    parser.add_argument("--worker", required=True, help="a job as JSON, from `zoo bench`")
    options = parser.parse_args()
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    sys.exit(worker_main(options.worker))

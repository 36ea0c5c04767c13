"""`python -m zoo.runner WORKDIR RUN_JSON`: one run in this process."""

import json

from zoo.measure import backend_startup


def main(argv=None):
    """`python -m zoo.runner WORKDIR RUN_JSON`: one run in this process.

    The sweep starts runs this way when each run needs its own process (a
    different Keras backend, or memory measured from a clean start).
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m zoo.runner")
    parser.add_argument("workdir")
    parser.add_argument("run_json", help="a Run as JSON (Run.to_dict())")
    args = parser.parse_args(argv)
    backend_startup.start()
    from zoo.runner.run import Run
    from zoo.runner.training import train_and_evaluate

    train_and_evaluate(Run.from_dict(json.loads(args.run_json)), args.workdir)
    return 0

"""`zoo list | run | report | bench`: the command line. It only parses and calls the library."""

import argparse
import os
import sys


def _list(args):
    import zoo.models
    import zoo.tasks
    from zoo import experiments

    what = args.what
    if what in ("models", "all"):
        print("Models (zoo.models.get(name, task.spec, **overrides)):")
        for family_name, family in zoo.models.families().items():
            sizes = ", ".join(f"{family_name}_{size}" for size in family.presets)
            print(f"  {sizes}\n      {family.description}")
            if family_name in zoo.models.RECOMMENDED:
                print(f"      recommended: {zoo.models.RECOMMENDED[family_name].describe()}")
    if what in ("tasks", "all"):
        print("Tasks (zoo.tasks.get(name, **knobs)):")
        for name in zoo.tasks.names():
            knobs = ", ".join(f"{k}={v!r}" for k, v in zoo.tasks.knobs(name).items())
            print(f"  {name}: {knobs}")
    if what in ("experiments", "all"):
        print("Experiments (zoo run NAME):")
        for name in experiments.names():
            print(f"  {name}: {experiments.load(name).DESCRIPTION}")
    return 0


def _run(args):
    from zoo import report, sweep

    out = args.out or os.path.join("runs", os.path.splitext(os.path.basename(args.experiment))[0])
    check_folder(out, "--out")
    fastest = None
    if args.backend == "auto":
        from zoo.report import speed

        fastest = speed.fastest_backends(args.bench_records)
        if not fastest:
            raise ValueError(
                f"--backend auto needs `zoo bench` records in {args.bench_records!r}; "
                "none found. Run `zoo bench` first or name a backend."
            )
    records = sweep.run_experiment(
        args.experiment, out, only=args.only, seeds=args.seeds, profile=args.profile,
        backend=args.backend, isolate=args.isolate, fastest=fastest,
        distribution=args.distribution, workers=args.workers, ray=args.ray,
    )
    print()
    print(report.format_table(report.summary_table(records)))
    print(f"\nRun records: {os.path.abspath(out)}")
    return 0


def _report_folders(args):
    """`(runs, results)` of `zoo report NAME`: the folder `zoo run NAME` wrote
    (`runs/NAME`) when it exists, else the committed `results/runs/NAME`; the
    page goes beside the records it was read from (`runs/` or `results/`)."""
    local = os.path.join("runs", args.experiment)
    committed = os.path.join("results", "runs", args.experiment)
    runs = args.runs or (local if os.path.isdir(local) else committed)
    if args.results:
        return runs, args.results
    return runs, "results" if os.path.abspath(runs) == os.path.abspath(committed) else "runs"


def _report(args):
    from zoo import report

    runs, results = _report_folders(args)
    check_folder(runs, "--runs", must_exist=True)
    check_folder(results, "--results")
    written = report.regenerate(args.experiment, runs, results)
    print(f"Read the records in {os.path.abspath(runs)} (another folder: --runs DIR)")
    for path in written:
        print(f"  wrote {path}")
    return 0


def check_folder(path, option, must_exist=False):
    """Refuse, before anything runs, a folder that is a file, missing (when it
    must exist) or not writable; `ValueError` naming the option and the path."""
    path = os.path.abspath(path)
    if os.path.exists(path) and not os.path.isdir(path):
        raise ValueError(f"{option} {path} is a file, not a folder.")
    if not os.path.exists(path):
        if must_exist:
            raise ValueError(f"{option} {path} does not exist.")
        parent = os.path.dirname(path)
        while not os.path.exists(parent):
            parent = os.path.dirname(parent)
        path = parent
    if not os.path.isdir(path) or not os.access(path, os.W_OK | os.X_OK):
        raise ValueError(f"{option}: cannot write in {path} (permission denied).")


def bench_command(args, echo=print):
    """`zoo bench`: measure what the records lack, then write the speed page."""
    from zoo.bench import driver
    from zoo.report import speed_page

    failures = driver.main(args, echo=echo)
    paths = speed_page.write_report(args.out, args.results, peak_tflops=args.peak_tflops)
    echo("Report: " + ", ".join(str(p) for p in paths))
    return 1 if failures else 0


class _Parser(argparse.ArgumentParser):
    """One line for a bad argument, as for every other user mistake."""

    def error(self, message):
        self.exit(2, f"{self.prog}: error: {message} (see {self.prog} --help)\n")


def build_parser():
    parser = _Parser(prog="zoo", description="Compare sequence architectures on shared tasks.")
    parser.add_argument("--debug", action="store_true",
                        help="show the Python traceback of an error")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list models, tasks or experiments")
    listing.add_argument("what", nargs="?", default="all",
                         choices=["models", "tasks", "experiments", "all"])
    listing.set_defaults(handler=_list)

    run = commands.add_parser("run", help="train every run of an experiment and print a table")
    run.add_argument("experiment", help="a built-in experiment name or a .py file")
    run.add_argument("--out", help="folder of run records (default: runs/<experiment>)")
    run.add_argument("--only", help="shell pattern on run ids, e.g. 'lstm_*'")
    run.add_argument("--seeds", type=int,
                     help="run every configuration with seeds 0..N-1 (default: the experiment's)")
    run.add_argument("--profile", choices=["quick", "full"],
                     help="quick: CPU-sized; full: XLA + mixed precision for accelerators "
                          "(default: full when an accelerator is present)")
    run.add_argument("--backend", choices=["tensorflow", "jax", "torch", "auto"],
                     help="Keras backend for the runs (own process each when it differs "
                          "from KERAS_BACKEND); auto: each family on its fastest in `zoo bench`")
    run.add_argument("--bench-records", default=os.path.join("results", "runs", "speed"),
                     help="zoo bench records that --backend auto reads (default: %(default)s)")
    run.add_argument("--distribution", choices=["data_parallel"],
                     help="train each run over all local devices with keras.distribution."
                          "DataParallel (JAX backend)")
    run.add_argument("--isolate", action="store_true",
                     help="train each run in a fresh process (clean memory measurements)")
    run.add_argument("--workers", metavar="N|auto",
                     help="train N runs at once, each in its own process on its share of "
                          "the cores; auto: one per core (at most one per run)")
    run.add_argument("--ray", nargs="?", const=True, metavar="ADDRESS",
                     help="train each run as a Ray task: on a local Ray instance, or on the "
                          "cluster at ADDRESS (HOST:6379); needs pip install 'zoo[ray]'")
    run.set_defaults(handler=_run)

    rep = commands.add_parser(
        "report", help="regenerate results/NAME.{csv,md} and plots from run records alone")
    rep.add_argument("experiment", help="experiment name (names the output files)")
    rep.add_argument("--runs", help="folder of run records (default: runs/NAME, what `zoo run "
                                    "NAME` wrote, if it exists; else results/runs/NAME, the "
                                    "committed ones)")
    rep.add_argument("--results",
                     help="folder for the tables and plots (default: results/ for the "
                          "committed records, runs/ for runs/NAME)")
    rep.set_defaults(handler=_report)

    from zoo import bench  # argument definitions only; imports no framework

    ben = commands.add_parser(
        "bench", help="train/inference speed and peak memory per family across lengths, "
                      "beside keras-hub, Keras and PyTorch reference implementations")
    bench.add_arguments(ben)
    ben.set_defaults(handler=bench_command)
    return parser


# A user's mistake (a bad name, value, file or folder): exit code 2. Anything
# else is the zoo's own failure (exit code 1); both are one line without --debug.
USER_ERRORS = (KeyError, ValueError, TypeError, OSError)
INTERRUPTED = ("zoo: interrupted{while_}. Finished runs are kept (each record is written "
               "whole, last); what was in training was not finished and trains again on the "
               "next `zoo run` with the same --out.")


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        if args.handler not in (_report, _list):  # these read records, names: no backend
            from zoo.measure import backend_startup

            backend_startup.start()
        return args.handler(args)
    except KeyboardInterrupt as interrupt:
        training = ", ".join(map(str, interrupt.args))
        print(INTERRUPTED.format(while_=f" while training {training}" if training else ""),
              file=sys.stderr)
        return 130
    except Exception as error:  # noqa: BLE001 -- one line, the traceback only with --debug
        if args.debug:
            raise
        message = error.args[0] if isinstance(error, KeyError) and error.args else error
        if not isinstance(error, USER_ERRORS):
            message = f"{type(error).__name__}: {message} (zoo --debug ... shows where)"
        print(f"zoo: error: {message}", file=sys.stderr)
        return 2 if isinstance(error, USER_ERRORS) else 1


if __name__ == "__main__":
    sys.exit(main())

"""`python -m s3bench` (what ops/bench/s3 runs): bootstrap, then the benchmark."""

from .bootstrap import reexec_in_venv

reexec_in_venv()

from .driver import main  # noqa: E402 - only importable inside the venv

main()

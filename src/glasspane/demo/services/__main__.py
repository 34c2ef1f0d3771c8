"""``python -m glasspane.demo.services NAME``: run one demo service until SIGTERM."""

from __future__ import annotations

import importlib
import sys

from glasspane.demo.services import serving
from glasspane.demo.topology import BY_NAME


def main(argv: list[str]) -> None:
    if len(argv) != 2 or argv[1] not in BY_NAME:
        raise SystemExit(f"usage: python -m glasspane.demo.services {{{','.join(BY_NAME)}}}")
    spec = BY_NAME[argv[1]]
    serving.configure_logging()
    serving.init_sentry(spec.framework)  # before the app is built, as the SDK's docs say
    module = importlib.import_module(f"glasspane.demo.services.{spec.module}")
    serving.serve(module.build())


main(sys.argv)

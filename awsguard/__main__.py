"""``python -m awsguard`` is the ``awsguard`` command."""

from awsguard.cli import main

raise SystemExit(main())

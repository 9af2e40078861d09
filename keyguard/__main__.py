"""`python -m keyguard`."""

from keyguard.cli import main

raise SystemExit(main())

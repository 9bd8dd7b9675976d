"""`python -m xpostcheck` runs the command line."""

from xpostcheck.cli.main import main

main()

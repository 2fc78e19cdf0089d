"""``python -m codecbench``: the command-line interface."""

from codecbench.cli import main

main()

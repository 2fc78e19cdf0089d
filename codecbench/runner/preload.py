"""Imported by the process executor's fork server: loads codecbench and scans the codec entry points
once, so every task's freshly forked process starts with both done (see ``codecbench.runner.executors``)."""

import numpy  # noqa: F401

import codecbench.data.load  # noqa: F401
import codecbench.data.quality  # noqa: F401
import codecbench.runner  # noqa: F401
from codecbench import plugins

plugins.available()

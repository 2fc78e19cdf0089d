"""The version of codecbench (``codecbench.__version__``), in a module that imports nothing.

Records, run files, model-cache keys and archive manifests store it; they import it from here, so
that no module needs the whole package (``codecbench/__init__.py``) just to read its version.
"""

__version__ = "0.1.0"

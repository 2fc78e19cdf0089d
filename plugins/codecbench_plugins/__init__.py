"""codecbench's built-in codec plugins, one subpackage per family.

They import only codecbench's public API and are registered through entry points in
codecbench's ``pyproject.toml``, exactly as a third party's codecs would be.
"""

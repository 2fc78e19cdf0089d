"""Error-bounded reference codecs: ``sz3`` (pysz), ``zfp`` (zfpy), ``fpzip`` and numcodecs' ``bitround``.

Each module imports its library at the top, so a missing library shows in ``codecbench list codecs``
as "needs sota extra" with the command to install it (``pip install 'codecbench[sota]'``).
"""

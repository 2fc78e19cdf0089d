"""Float truncation: ``trunc`` (mantissa rounding to nearest even, as CMS NanoAOD and BitRound, then lossless)."""

"""What every part of the suite stands on: user errors (one line, exit 2), atomic writes, provenance, precisions."""

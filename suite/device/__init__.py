"""Measuring on a real device (a Raspberry Pi, any remote CPU) without installing the suite there.

- ``bundle``: ``suite bundle`` writes a folder that needs only Python >= 3.9 and torch >= 1.11: the zoo's code, the
  files of ``suite/timing/ondevice/`` (the runner ``run.py``, ``timing_protocol.py``, ``device_identify.py``,
  copied verbatim) and ``manifest.json``.
- ``times``: reading and checking the runner's JSON, turning it into latency records.
- ``ssh`` / ``remote``: copy, run and fetch over OpenSSH; ``remote.measure_remote`` for ``suite run``.

``suite import-times`` (superseding results lines through the run store) lives in ``suite.watch.importer``.
"""

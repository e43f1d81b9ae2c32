"""Measuring on a real device (a Raspberry Pi, any remote CPU) without installing the suite there.

- ``bundle``: ``suite bundle`` writes a folder that needs only Python >= 3.9 and torch >= 1.11: the zoo's code,
  ``timing_protocol.py`` and ``device_identify.py`` (verbatim copies of ``suite/timing_protocol.py`` and
  ``identify.py``), the runner ``run.py`` (a verbatim copy of ``runner.py``) and ``manifest.json``.
- ``identify``: what the device is and which profile name it may carry (rpi4 only on a Raspberry Pi 4).
- ``times``: reading and checking the runner's JSON, turning it into latency records.
- ``importer``: ``suite import-times``: superseding results lines through the run store.
- ``ssh`` / ``remote``: copy, run and fetch over OpenSSH; ``remote.measure_remote`` for ``suite run``.
"""

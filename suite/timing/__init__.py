"""Inference time: hardware profiles, the latency measurement, the Raspberry Pi 4 predictor.

- ``profiles``: one declaration per hardware profile (label, order, timing kind, paper columns), read everywhere.
- ``hardware``: how each profile is timed here (cpu, gpu, rpi4 native or predicted, the remote forms).
- ``latency``: ``measure_latency`` on a local device, through the protocol in ``ondevice/timing_protocol.py``.
- ``rpi4``: the Pi 4 prediction with its leave-one-model-out error.
- ``ondevice/``: the torch-only files (Python >= 3.9) that ``suite bundle`` ships to a device verbatim.
"""

"""Inference time: hardware profiles, the latency measurement, the Raspberry Pi 4 predictor.

- ``hardware``: the hardware profiles (cpu, gpu, rpi4, rpi3b, remote forms) and how each is timed.
- ``latency``: ``measure_latency`` on a local device, through the protocol in ``ondevice/timing_protocol.py``.
- ``rpi4``: the Pi 4 prediction with its leave-one-model-out error.
- ``ondevice/``: the torch-only files (Python >= 3.9) that ``suite bundle`` ships to a device verbatim.
"""

"""The fleet simulator: terminals that speak the real protocols over real sockets (issue 10).

`frames.py` builds uplink frames (watch text protocol, JT/T 808) exactly as terminals send them;
`fleet.py` runs a deterministic fleet (seeded) of watches, JT/T 808 pendants and MQTT home sensors
with daily routines, vitals and injected events. `pingantong simulate` is the command.
"""

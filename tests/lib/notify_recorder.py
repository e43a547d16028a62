#!/usr/bin/python3
# SPDX-License-Identifier: MIT
"""Stands in for systemd's notify socket: binds a datagram socket at PATH and appends every
datagram it receives to LOG as one line (newlines inside become '|'), with a timestamp."""
import os
import socket
import sys
import time

path, log = sys.argv[1], sys.argv[2]
try:
    os.unlink(path)
except FileNotFoundError:
    pass
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(path)
print("ready", flush=True)
with open(log, "a", buffering=1) as f:
    while True:
        data = s.recv(65536)
        f.write("%.3f %s\n" % (time.time(), data.decode(errors="replace").strip().replace("\n", "|")))

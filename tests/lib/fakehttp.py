# SPDX-License-Identifier: MIT
"""Misbehaving answers shared by the fake metadata service and the fake API."""
import time


def trickle(handler, body):
    """Announces the whole body, then sends it one byte a second."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Content-Length", str(len(body)))
    handler.end_headers()
    try:
        for b in body:
            handler.wfile.write(bytes([b]))
            handler.wfile.flush()
            time.sleep(1)
    except (BrokenPipeError, ConnectionResetError):
        pass


def big(handler, size, announce):
    """Sends size bytes of blanks; with announce, says so in Content-Length first."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    if announce:
        handler.send_header("Content-Length", str(size))
    handler.end_headers()
    chunk = b" " * 65536
    sent = 0
    try:
        while sent < size:
            n = min(len(chunk), size - sent)
            handler.wfile.write(chunk[:n])
            sent += n
    except (BrokenPipeError, ConnectionResetError):
        pass
    handler.close_connection = True

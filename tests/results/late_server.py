"""A stand-in for `mlflow server` in the `ribray ui` tests: it answers /health only after a
delay, and writes MARKER the moment it starts answering.

    python late_server.py PORT DELAY_S MARKER"""

import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path


class Health(BaseHTTPRequestHandler):
    def do_GET(self):
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"OK")

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    port, delay, marker = int(sys.argv[1]), float(sys.argv[2]), Path(sys.argv[3])
    time.sleep(delay)
    server = HTTPServer(("127.0.0.1", port), Health)
    marker.write_text("answering")
    server.serve_forever()

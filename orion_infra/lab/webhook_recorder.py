"""Stands where the agent's Alertmanager webhook is until the agent runs in the lab: records every notification
Alertmanager delivers (one JSON document per line) and answers nothing else, so the agent's scrape target stays
honestly down."""

import http.server
import sys
from pathlib import Path

ADDRESS, PORT, PATH, RECORD = sys.argv[1], int(sys.argv[2]), sys.argv[3], Path(sys.argv[4])


class Recorder(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        if self.path != PATH:
            self.send_error(404)
            return
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with RECORD.open("ab") as record:
            record.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


http.server.ThreadingHTTPServer((ADDRESS, PORT), Recorder).serve_forever()

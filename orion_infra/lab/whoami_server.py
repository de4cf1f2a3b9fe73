"""A web server on "the internet" of the lab that answers every GET with the address it sees the client at."""

import http.server
import sys


class WhoAmI(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = self.client_address[0].encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass


http.server.ThreadingHTTPServer((sys.argv[1], int(sys.argv[2])), WhoAmI).serve_forever()

"""Stand-ins for daemons the lab does not run (sshd, pveproxy, rpcbind on the Proxmox host): TCP listeners at the
addresses and ports their configuration names, accepting connections and closing them; each connection accepted
is printed (port and peer), so a test sees who got in even when the answer took another way back."""

import socket
import sys
import threading

# One line per connection, whole: connections on several ports at once must not interleave their lines.
printing = threading.Lock()


def listen(address: str, port: int) -> None:
    server = socket.create_server((address, port), reuse_port=False)
    while True:
        connection, peer = server.accept()
        with printing:
            print(port, peer[0], flush=True)
        connection.close()


listeners = [
    threading.Thread(target=listen, args=(spec.rsplit(":", 1)[0], int(spec.rsplit(":", 1)[1]))) for spec in sys.argv[1:]
]
for listener in listeners:
    listener.start()
for listener in listeners:
    listener.join()

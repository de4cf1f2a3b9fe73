# Prints what lets a client verify the node's API certificate: the certificate an operator installed for the API
# (pveproxy-ssl.pem), else the node's own CA (pve-root-ca.pem), which signed the certificate Proxmox made for it.
# Runs as root on the node over the deploy's pinned SSH connection: what it prints is known to come from that node.
set -eu
if [ -s /etc/pve/local/pveproxy-ssl.pem ]; then
  cat /etc/pve/local/pveproxy-ssl.pem
else
  cat /etc/pve/pve-root-ca.pem
fi

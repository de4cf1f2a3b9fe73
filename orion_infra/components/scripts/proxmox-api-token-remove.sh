# Removes ORION's Proxmox account (with its token and permissions) and its role, as root on the node.
set -eu
if pveum user list --output-format json | grep -qF "\"userid\":\"$ACCOUNT\""; then
  pveum user delete "$ACCOUNT"
fi
if pveum role list --output-format json | grep -qF "\"roleid\":\"$ROLE\""; then
  pveum role delete "$ROLE"
fi

# Removes a VM's first-boot data from the node once the VM is gone.
set -eu
rm -f "$SNIPPET"

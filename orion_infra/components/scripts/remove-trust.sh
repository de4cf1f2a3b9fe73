# Forgets a node's API trust anchor on the operator's machine once the node is gone from the stack.
set -eu
rm -f "$TRUST_FILE"

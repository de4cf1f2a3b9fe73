# Makes ORION's own Proxmox account and its API token (ADR 0031), as root on the node: a role with only the
# privileges ORION's resources need ($PRIVILEGES), granted to the account on /, and a token with the account's
# privileges (no separate ones). The token is made anew each time (Proxmox shows its secret once) and printed as
# JSON on stdout (`full-tokenid`, `value`): the Command keeps stdout secret and logs nothing of it.
set -eu
pveum role modify "$ROLE" --privs "$PRIVILEGES" 2>/dev/null || pveum role add "$ROLE" --privs "$PRIVILEGES"
pveum user modify "$ACCOUNT" --comment "ORION deploy (Pulumi): API token only" 2>/dev/null ||
  pveum user add "$ACCOUNT" --comment "ORION deploy (Pulumi): API token only"
pveum acl modify / --users "$ACCOUNT" --roles "$ROLE"
if pveum user token list "$ACCOUNT" --output-format json | grep -qF "\"tokenid\":\"$TOKEN\""; then
  pveum user token remove "$ACCOUNT" "$TOKEN"
fi
pveum user token add "$ACCOUNT" "$TOKEN" --privsep 0 --comment "ORION deploy" --output-format json

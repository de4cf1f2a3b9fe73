# Makes ORION's own Proxmox account and its API token (ADR 0031), as root on the node: a role with only the
# privileges ORION's resources need ($PRIVILEGES), granted to the account on /, and a token with the account's
# privileges (no separate ones). The token is made anew each time (Proxmox shows its secret once) and printed as
# JSON on stdout (`full-tokenid`, `value`): the Command keeps stdout secret and logs nothing of it.
set -eu
comment="ORION deploy (Pulumi): API token only"
if pveum role list --output-format json | grep -qF "\"roleid\":\"$ROLE\""; then
  pveum role modify "$ROLE" --privs "$PRIVILEGES"
else
  pveum role add "$ROLE" --privs "$PRIVILEGES"
fi
if pveum user list --output-format json | grep -qF "\"userid\":\"$ACCOUNT\""; then
  pveum user modify "$ACCOUNT" --comment "$comment"
else
  pveum user add "$ACCOUNT" --comment "$comment"
fi
pveum acl modify / --users "$ACCOUNT" --roles "$ROLE"
if pveum user token list "$ACCOUNT" --output-format json | grep -qF "\"tokenid\":\"$TOKEN\""; then
  pveum user token remove "$ACCOUNT" "$TOKEN"
fi
pveum user token add "$ACCOUNT" "$TOKEN" --privsep 0 --comment "ORION deploy" --output-format json

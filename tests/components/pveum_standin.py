"""A stand-in for Proxmox VE 9's `pveum`, as strict as the real one about what ORION's scripts ask of it: the
subcommands and options they use, the errors the real one gives (an existing role or user added again, a missing
one modified, a privilege Proxmox VE 9 does not know, a token added twice), and JSON output as
`--output-format json` prints it. State lives in $PVEUM_STATE (a JSON file); each call is appended to
$PVEUM_STATE.calls.

Privileges: Proxmox VE 9's list (the API's /access/roles schema, apidoc of 9.x; read through the generated
clientapi-pve and ProxmoxPVE 9.1.2 models). VM.Monitor was removed in 9.0.
"""

from __future__ import annotations

import json
import os
import secrets
import sys
import uuid
from pathlib import Path

PRIVILEGES = {
    "Datastore.Allocate", "Datastore.AllocateSpace", "Datastore.AllocateTemplate", "Datastore.Audit",
    "Group.Allocate", "Mapping.Audit", "Mapping.Modify", "Mapping.Use", "Permissions.Modify", "Pool.Allocate",
    "Pool.Audit", "Realm.Allocate", "Realm.AllocateUser", "SDN.Allocate", "SDN.Audit", "SDN.Use",
    "Sys.AccessNetwork", "Sys.Audit", "Sys.Console", "Sys.Incoming", "Sys.Modify", "Sys.PowerMgmt", "Sys.Syslog",
    "User.Modify", "VM.Allocate", "VM.Audit", "VM.Backup", "VM.Clone", "VM.Config.CDROM", "VM.Config.CPU",
    "VM.Config.Cloudinit", "VM.Config.Disk", "VM.Config.HWType", "VM.Config.Memory", "VM.Config.Network",
    "VM.Config.Options", "VM.Console", "VM.GuestAgent.Audit", "VM.GuestAgent.FileRead",
    "VM.GuestAgent.FileSystemMgmt", "VM.GuestAgent.FileWrite", "VM.GuestAgent.Unrestricted", "VM.Migrate",
    "VM.PowerMgmt", "VM.Replicate", "VM.Snapshot", "VM.Snapshot.Rollback",
}  # fmt: skip


def emit(value: object) -> None:
    """As `--output-format json` prints: compact, keys sorted (PVE's JSON->canonical)."""
    print(json.dumps(value, separators=(",", ":"), sort_keys=True))


def fail(message: str) -> None:
    print(message, file=sys.stderr)
    sys.exit(255)


def options(words: list[str]) -> tuple[list[str], dict[str, str]]:
    positional, named = [], {}
    while words:
        word = words.pop(0)
        if word.startswith("--"):
            if not words:
                fail(f"option {word} needs a value")
            named[word[2:]] = words.pop(0)
        else:
            positional.append(word)
    return positional, named


def main() -> None:  # noqa: PLR0912 - one branch per pveum subcommand, as the real one dispatches
    path = Path(os.environ["PVEUM_STATE"])
    state = json.loads(path.read_text()) if path.exists() else {"roles": {}, "users": {}, "acl": [], "tokens": {}}
    with Path(f"{path}.calls").open("a") as calls:
        calls.write(json.dumps(sys.argv[1:]) + "\n")
    words = sys.argv[1:]
    if words[:2] == ["user", "token"]:
        command = ["user token", words[2]]
        positional, named = options(words[3:])
    else:
        command = words[:2]
        positional, named = options(words[2:])
    allowed = {"privs", "comment", "users", "roles", "privsep", "output-format"}
    if unknown := set(named) - allowed:
        fail(f"Unknown option: {', '.join(sorted(unknown))}")
    as_json = named.get("output-format") == "json"
    roles, users, tokens = state["roles"], state["users"], state["tokens"]
    match command:
        case ["role", "add" | "modify" as verb]:
            (role,) = positional
            if verb == "add" and role in roles:
                fail(f"create role failed: role '{role}' already exists")
            if verb == "modify" and role not in roles:
                fail(f"update role failed: role '{role}' does not exist")
            privileges = named.get("privs", "").split(",")
            if bad := [name for name in privileges if name not in PRIVILEGES]:
                fail(f"400 Parameter verification failed.\nprivs: invalid format - invalid privilege '{bad[0]}'")
            roles[role] = sorted(privileges)
        case ["role", "list"]:
            emit([{"privs": ",".join(privs), "roleid": role, "special": 0} for role, privs in roles.items()])
        case ["role", "delete"]:
            (role,) = positional
            if role not in roles:
                fail(f"delete role failed: role '{role}' does not exist")
            del roles[role]
        case ["user", "add" | "modify" as verb]:
            (user,) = positional
            if verb == "add" and user in users:
                fail(f"create user failed: user '{user}' already exists")
            if verb == "modify" and user not in users:
                fail(f"update user failed: no such user ('{user}')")
            users[user] = {"comment": named.get("comment", "")}
        case ["user", "list"]:
            emit([{"userid": user, **data} for user, data in users.items()])
        case ["user", "delete"]:
            (user,) = positional
            if user not in users:
                fail(f"delete user failed: no such user ('{user}')")
            del users[user]
            state["acl"] = [entry for entry in state["acl"] if entry["ugid"] != user]
            tokens.pop(user, None)
        case ["acl", "modify"]:
            (acl_path,) = positional
            if named["users"] not in users:
                fail(f"user '{named['users']}' does not exist")
            if named["roles"] not in roles:
                fail(f"role '{named['roles']}' does not exist")
            entry = {"path": acl_path, "ugid": named["users"], "roleid": named["roles"]}
            if entry not in state["acl"]:
                state["acl"].append(entry)
        case ["user token", "list"]:
            (user,) = positional
            if user not in users:
                fail(f"no such user ('{user}')")
            emit([{"tokenid": token} for token in tokens.get(user, {})])
        case ["user token", "add"]:
            user, token = positional
            if user not in users:
                fail(f"no such user ('{user}')")
            if token in tokens.get(user, {}):
                fail("Token already exists.")
            value = str(uuid.UUID(bytes=secrets.token_bytes(16)))
            tokens.setdefault(user, {})[token] = {"privsep": named.get("privsep", "1"), "value": value}
            if not as_json:
                fail("ORION expects --output-format json")
            emit({"full-tokenid": f"{user}!{token}", "info": {"privsep": named.get("privsep")}, "value": value})
        case ["user token", "remove"]:
            user, token = positional
            if token not in tokens.get(user, {}):
                fail(f"no such token '{token}' for user '{user}'")
            del tokens[user][token]
        case _:
            fail(f"pveum: unknown command '{' '.join(command)}'")
    path.write_text(json.dumps(state))


if __name__ == "__main__":
    main()

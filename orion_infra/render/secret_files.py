"""The secret files the deploy step writes to a VM's secrets directory: their names, and the one syntax each
service reads. Their values never pass through a renderer."""

from __future__ import annotations

GRAFANA_ADMIN_PASSWORD = "grafana-admin-password"  # noqa: S105 - file names, not secrets
GRAFANA_SECRET_KEY = "grafana-secret-key"  # noqa: S105
AGENT_SSH_KEY = "orion-agent-ssh-key"
AGENT_KNOWN_HOSTS = "orion-agent-known-hosts"


def bgp_password(peer: str) -> str:
    """The file with the TCP-MD5 password of the session with `peer`, which bird.conf includes."""
    return f"bgp-{peer}.conf"


def bird_password_statement(password: str) -> str:
    """The content of a BGP password file: one BIRD `password` statement. BIRD strings have no escapes, so a
    password with a double quote or a line break cannot be written and is refused."""
    if any(character in password for character in '"\n\r\\'):
        raise ValueError("a BGP password cannot contain a double quote, a backslash or a line break")
    return f'password "{password}";\n'

"""The iDRAC of one host: its certificate trusted as the stack says (recorded on first contact with verify:
first_use), its root password rotated away from the factory default, its facts, and (when asked) the installer
mounted and booted once."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_random as random

from orion_infra.model.hosts import Host
from orion_infra.redfish.providers import (
    BootOnce,
    IdracConnection,
    PowerState,
    RootPassword,
    SystemInfo,
    TlsIdentity,
    VirtualMedia,
)
from orion_infra.redfish.tls import format_fingerprint

# iDRAC 8 takes at most 20 characters for a local password, and only some punctuation.
PASSWORD_LENGTH = 20
PASSWORD_PUNCTUATION = "-_.~!#%+="  # noqa: S105 - the characters a generated password may use


@dataclass(frozen=True)
class IdracHostArgs:
    host: Host
    """The host, as the stack model describes it (address, user, TLS policy)."""
    current_password: pulumi.Input[str]
    """The iDRAC's password now (calvin on a new machine); used once, to rotate it."""
    installer_iso_url: pulumi.Input[str] | None = None
    """An installer image the iDRAC can fetch; when given it is inserted, armed for the next boot, and the host
    is powered on (a host that is already running boots the installer at its next start)."""
    boot_method: str = "standard"
    """`standard` boot override, or `dell-scp` for iDRAC 8 firmware that boots the physical drive instead."""


class IdracHost(pulumi.ComponentResource):
    """One host's iDRAC. Every call after the rotation uses the generated password; every call at all (the rotation
    first) trusts only the certificate the stack's TLS policy names, pinned to the one recorded on first contact
    with verify: first_use."""

    endpoint: str
    """The iDRAC's Redfish base URL."""
    password: pulumi.Output[str]
    """The generated root password now in force (secret)."""
    system: SystemInfo
    """Model, service tag, firmware versions, power state, health, power supplies and temperatures."""
    tls_identity: TlsIdentity | None
    """With verify: first_use, the certificate recorded on first contact; None otherwise."""
    tls_fingerprint: pulumi.Output[str] | None
    """The SHA-256 pin in force (`AB:CD:...`): the recorded one with verify: first_use, the stack's own with verify:
    fingerprint, None when no single certificate is pinned."""

    def __init__(self, name: str, args: IdracHostArgs, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("orion:idrac:IdracHost", name, None, opts)
        idrac = args.host.idrac
        self.endpoint = f"https://{idrac.address}"
        self.tls_identity = None
        self.tls_fingerprint = None
        pin: pulumi.Input[str] | None = idrac.tls.sha256_fingerprint
        if idrac.tls.verify == "first_use":
            # Before anything is sent (the factory password, then the new one), the certificate is recorded.
            self.tls_identity = TlsIdentity(
                f"{name}-tls-identity", self.endpoint, opts=pulumi.ResourceOptions(parent=self)
            )
            pin = self.tls_fingerprint = self.tls_identity.sha256_fingerprint
        elif idrac.tls.sha256_fingerprint is not None:
            self.tls_fingerprint = pulumi.Output.from_input(format_fingerprint(idrac.tls.sha256_fingerprint))
        trusted: list[pulumi.Resource] = [self.tls_identity] if self.tls_identity is not None else []

        def connection(password: pulumi.Input[str]) -> IdracConnection:
            return IdracConnection(
                self.endpoint,
                idrac.user,
                pulumi.Output.secret(password),
                tls_verify=idrac.tls.verify,
                ca_bundle=idrac.tls.ca_bundle,
                sha256_fingerprint=pin,
                tls_identity=self.tls_identity.urn if self.tls_identity is not None else None,
            )

        generated = random.RandomPassword(
            f"{name}-root-password",
            length=PASSWORD_LENGTH,
            override_special=PASSWORD_PUNCTUATION,
            min_lower=2,
            min_upper=2,
            min_numeric=2,
            min_special=1,
            opts=pulumi.ResourceOptions(parent=self, additional_secret_outputs=["result"]),
        )
        rotation = RootPassword(
            f"{name}-root-password-rotation",
            connection(args.current_password),
            new_password=pulumi.Output.secret(generated.result),
            opts=pulumi.ResourceOptions(parent=self, depends_on=trusted),
        )
        self.password = pulumi.Output.secret(rotation.new_password)
        rotated = connection(self.password)
        after_rotation = pulumi.ResourceOptions(parent=self, depends_on=[rotation, *trusted])
        self.system = SystemInfo(f"{name}-system", rotated, opts=after_rotation)
        outputs: dict[str, object] = {"endpoint": self.endpoint, "password": self.password, "model": self.system.model}
        if self.tls_fingerprint is not None:
            outputs["tls_fingerprint"] = self.tls_fingerprint
        if args.installer_iso_url is not None:
            media = VirtualMedia(f"{name}-installer-media", rotated, args.installer_iso_url, opts=after_rotation)
            boot = BootOnce(
                f"{name}-installer-boot",
                rotated,
                method=args.boot_method,
                trigger=args.installer_iso_url,
                opts=pulumi.ResourceOptions(parent=self, depends_on=[media, *trusted]),
            )
            power = PowerState(
                f"{name}-power", rotated, "On", opts=pulumi.ResourceOptions(parent=self, depends_on=[boot, *trusted])
            )
            outputs["power_state"] = power.power_state
        self.register_outputs(outputs)

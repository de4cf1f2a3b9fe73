"""Every NixOS option ORION's modules set, with where nixpkgs declares it, the version read there, and its type
and the assertions that can fire for ORION's values. Read with the look-up tools in NixOS/nixpkgs (late-2026
versions: a commit where the index reported one, else the index's id of the copy read; the nixos-26.11-era
copies are recognisable by nixfmt style, not labelled by branch). An entry declares exactly its own path; only
an option marked free_form (systemd directives, sysctl keys, grafana.ini, sshd_config, environment variables) also
declares the paths under it, which are its value's. Everything else is listed option by option.

Research notes behind it: docs/decisions/0023-stand-ins-as-strict-as-reality.md and /tmp-free notes in
../shared/notes/nixos.md. Units' users, groups and capabilities:
orion_infra/lab/units.py."""

from __future__ import annotations

from typing import NamedTuple


class Declared(NamedTuple):
    file: str
    read: str
    """The commit read, or "id N": the index's id of the copy read where it reported no commit."""
    type: str
    free_form: bool = False
    """Whether the option's value is free-form (attrsOf unitOption, a freeformType, attrsOf str, ...): only then
    are the paths under it part of its value rather than options of their own, each needing an entry."""


OPTIONS: dict[str, Declared] = {
    "assertions": Declared(
        "nixos/modules/misc/assertions.nix",
        "08062fccc11d1bf6e5e6a7bdc1e86eba3fb0c0bf",
        "listOf unspecified (internal), default []; checked in system/activation/top-level.nix",
    ),
    "boot.growPartition": Declared(
        "nixos/modules/system/boot/grow-partition.nix",
        "id 303753244",
        "bool (mkEnableOption 'growing the root partition on boot'), default false; assertion: !boot.initrd.systemd.repart.enable && !systemd.repart.enable. RISK: variant id 13718122256 makes it a submodule {enable, mountPoint} (then `= true` fails); nixpkgs disk-image.nix (id 62321002111) still sets `boot.growPartition = lib.mkDefault true`",
    ),
    "boot.kernel.sysctl": Declared(
        "nixos/modules/config/sysctl.nix",
        "id 117115647",
        'submodule, freeformType attrsOf sysctlOption (bool|str|int|null, mergeOneOption); only net.core.rmem_max/wmem_max declared (nullOr highestValueType). RISK: unmerged-looking variant id 20026093729 declares "net.ipv4.ip_forward" as nullOr bool (int 1 would fail; `true` renders as 1 in both)',
        free_form=True,
    ),
    "boot.loader.grub.device": Declared(
        "nixos/modules/system/boot/loader/grub/grub.nix",
        "id 147978337",
        'str, default ""; config: devices = optional (device != "") device',
    ),
    "boot.loader.grub.enable": Declared(
        "nixos/modules/system/boot/loader/grub/grub.nix",
        "id 147978337",
        "bool, default !config.boot.isContainer; assertion: mirroredBoots != [] ('You must set the option boot.loader.grub.devices or ...') -- satisfied by device",
    ),
    "environment.etc.<name>.source": Declared(
        "nixos/modules/system/etc/etc.nix", "id 77256897", "types.path (file or directory); default from .text if set"
    ),
    "environment.systemPackages": Declared(
        "nixos/modules/config/system-path.nix", "id 7819073369", "listOf package, default []"
    ),
    "environment.variables": Declared(
        "nixos/modules/config/shells-environment.nix",
        "id 59412613683",
        "attrsOf (nullOr (oneOf [ (listOf (oneOf [int str path])) int str path ])); lists joined with ':'",
        free_form=True,
    ),
    "fileSystems.<name>.autoResize": Declared(
        "nixos/modules/tasks/filesystems.nix",
        "id 195498228",
        "bool, default false; adds x-systemd.growfs; assertion: fsType in [ext3 ext4 btrfs xfs] (ext4: passes)",
    ),
    "fileSystems.<name>.device": Declared(
        "nixos/modules/tasks/filesystems.nix", "id 195498228", "nullOr nonEmptyStr, default null"
    ),
    "fileSystems.<name>.fsType": Declared(
        "nixos/modules/tasks/filesystems.nix", "id 195498228", 'nonEmptyStr, default "auto"'
    ),
    "networking.domain": Declared(
        "nixos/modules/tasks/network-interfaces.nix", "id 62433272478", "nullOr str, default null"
    ),
    "networking.firewall.allowedTCPPorts": Declared(
        "nixos/modules/services/networking/firewall.nix",
        "id 62222018659",
        "listOf port, default [], apply canonicalizePortList (sort+unique)",
    ),
    "networking.firewall.enable": Declared(
        "nixos/modules/services/networking/firewall.nix", "id 62222018659", "bool, default true"
    ),
    "networking.hostName": Declared(
        "nixos/modules/tasks/network-interfaces.nix",
        "id 62433272478",
        'strMatching "^$|^[[:alnum:]]([[:alnum:]_-]{0,61}[[:alnum:]])?$" (no dots), default distroId',
    ),
    "networking.nftables.enable": Declared(
        "nixos/modules/services/networking/nftables.nix", "id 260124407", "bool, default false"
    ),
    "networking.nftables.rulesetFile": Declared(
        "nixos/modules/services/networking/nftables.nix",
        "id 260124407",
        "nullOr path, default null; checkRuleset (default true) runs nft --check in sandbox",
    ),
    "networking.useDHCP": Declared(
        "nixos/modules/tasks/network-interfaces.nix",
        "id 62433272478",
        "bool (default true; default seen in id 112875094)",
    ),
    "networking.useNetworkd": Declared(
        "nixos/modules/tasks/network-interfaces.nix", "id 62433272478", "bool, default false"
    ),
    "nix.channel.enable": Declared(
        "nixos/modules/config/nix-channel.nix",
        "200246518515cbd74bacad9bbf4fadeda6ebcc93",
        'bool, default true; false => nixPath default [], nix.settings.nix-path = mkDefault "", nix-channel removed from system path; no assertion',
    ),
    "nix.gc.automatic": Declared(
        "nixos/modules/services/misc/nix-gc.nix",
        "id 62113919362",
        "bool, default false; assertion automatic -> nix.enable",
    ),
    "nix.gc.dates": Declared(
        "nixos/modules/services/misc/nix-gc.nix",
        "id 62113919362",
        'systemd calendar string (singleLineStr, default "03:15" in 043248ac; used as startAt)',
    ),
    "nix.gc.options": Declared(
        "nixos/modules/services/misc/nix-gc.nix",
        "id 62113919362",
        'singleLineStr, default "" (appended to nix-collect-garbage)',
    ),
    "nix.settings": Declared(
        "nixos/modules/config/nix.nix",
        "id 27734128",
        "submodule, freeformType semanticConfType = attrsOf (either confAtom (listOf confAtom))",
        free_form=True,
    ),
    "nix.settings.auto-optimise-store": Declared(
        "nixos/modules/config/nix.nix", "id 27734128", "declared: bool, default false"
    ),
    "nix.settings.experimental-features": Declared(
        "nixos/modules/config/nix.nix",
        "id 27734128",
        "NOT declared: freeform semanticConfType value (listOf confAtom); list rendered space-separated",
    ),
    "orion": Declared("nix/modules (ORION's own options)", "this repository", "declared by ORION's modules"),
    "security.sudo.extraRules": Declared(
        "nixos/modules/security/sudo.nix",
        "id 240927343",
        'listOf submodule {users: listOf (either str int); groups; host="ALL"; runAs="ALL:ALL"; commands: listOf (either str (submodule {command: str; options: listOf (enum [NOPASSWD PASSWD ... SETENV ...])}))}',
    ),
    "security.sudo.wheelNeedsPassword": Declared(
        "nixos/modules/security/sudo.nix", "id 240927343", "bool, default true"
    ),
    "services.bird.checkConfig": Declared(
        "nixos/modules/services/networking/bird.nix", "id 62198008269", "bool, default true"
    ),
    "services.bird.config": Declared(
        "nixos/modules/services/networking/bird.nix", "id 62198008269", "lines, no default"
    ),
    "services.bird.enable": Declared(
        "nixos/modules/services/networking/bird.nix", "id 62198008269", "bool (mkEnableOption)"
    ),
    "services.bird.package": Declared(
        "nixos/modules/services/networking/bird.nix",
        "id 62198008269",
        'package, mkPackageOption pkgs "bird3"; module adds it to environment.systemPackages',
    ),
    "services.bird.preCheckConfig": Declared(
        "nixos/modules/services/networking/bird.nix",
        "id 62198008269",
        'lines, default "" (runs in checkPhase after `ln -s $out bird.conf`)',
    ),
    "services.grafana.enable": Declared("nixos/modules/services/monitoring/grafana.nix", "id 62435813435", "bool"),
    "services.grafana.provision.dashboards.path": Declared(
        "nixos/modules/services/monitoring/grafana.nix",
        "id 62435813435",
        "nullOr path, default null; assertion: not both settings and path",
    ),
    "services.grafana.provision.datasources.path": Declared(
        "nixos/modules/services/monitoring/grafana.nix",
        "id 62435813435",
        "nullOr path, default null; assertion: not both settings and path",
    ),
    "services.grafana.provision.enable": Declared(
        "nixos/modules/services/monitoring/grafana.nix", "id 62435813435", "bool (mkEnableOption)"
    ),
    "services.grafana.settings": Declared(
        "nixos/modules/services/monitoring/grafana.nix",
        "id 62435813435",
        "submodule with freeformType (grafana.ini); many keys declared",
        free_form=True,
    ),
    "services.grafana.settings.analytics.reporting_enabled": Declared(
        "nixos/modules/services/monitoring/grafana.nix", "id 62435813435", "declared: bool, default false"
    ),
    "services.grafana.settings.security.admin_password": Declared(
        "nixos/modules/services/monitoring/grafana.nix",
        "id 62435813435",
        'declared: str, default "admin" (warning unless $__file{..}/$__env{..})',
    ),
    "services.grafana.settings.security.admin_user": Declared(
        "nixos/modules/services/monitoring/grafana.nix", "id 62435813435", 'declared: str, default "admin"'
    ),
    "services.grafana.settings.security.secret_key": Declared(
        "nixos/modules/services/monitoring/grafana.nix",
        "id 62435813435",
        "declared: nullOr str, default null; assertion secret_key != null (26.05)",
    ),
    "services.grafana.settings.server.http_addr": Declared(
        "nixos/modules/services/monitoring/grafana.nix", "id 62435813435", 'declared: str, default "127.0.0.1"'
    ),
    "services.grafana.settings.server.http_port": Declared(
        "nixos/modules/services/monitoring/grafana.nix", "id 62435813435", "declared: port, default 3000"
    ),
    "services.journald.settings.Journal": Declared(
        "nixos/modules/system/boot/systemd/journald.nix",
        "id 71248185603",
        "attrsOf unitOption ([Journal] of journald.conf); extraConfig is a removed option in the 26.11-era module",
        free_form=True,
    ),
    "services.kea.dhcp4.configFile": Declared(
        "nixos/modules/services/networking/kea.nix",
        "id 61943003880",
        "nullOr path, default null; assertion xor (settings == null) (configFile == null)",
    ),
    "services.kea.dhcp4.enable": Declared("nixos/modules/services/networking/kea.nix", "id 61943003880", "bool"),
    "services.openssh.enable": Declared(
        "nixos/modules/services/networking/ssh/sshd.nix", "id 61933264874", "bool, default false"
    ),
    "services.openssh.hostKeys": Declared(
        "nixos/modules/services/networking/ssh/sshd.nix",
        "id 61933264874",
        "listOf attrs {path, type, bits?, comment?}, default rsa-4096 + ed25519; each becomes `HostKey <path>`; sshd-keygen.service (generateHostKeys, default = enable; wantedBy multi-user, ConditionFileNotEmpty |!path) runs ssh-keygen for a missing one; sshd.service After=sshd-keygen.service",
    ),
    "services.openssh.settings": Declared(
        "nixos/modules/services/networking/ssh/sshd.nix",
        "id 61933264874",
        "submodule, freeformType settingsFormat.type (keyValue, bools -> yes/no); assertion: no case-insensitive duplicate keys",
        free_form=True,
    ),
    "services.openssh.settings.KbdInteractiveAuthentication": Declared(
        "nixos/modules/services/networking/ssh/sshd.nix", "id 61933264874", "declared: nullOr bool, default true"
    ),
    "services.openssh.settings.PasswordAuthentication": Declared(
        "nixos/modules/services/networking/ssh/sshd.nix", "id 61933264874", "declared: nullOr bool, default true"
    ),
    "services.openssh.settings.PermitRootLogin": Declared(
        "nixos/modules/services/networking/ssh/sshd.nix",
        "id 61933264874",
        'declared: nullOr (enum [yes without-password prohibit-password forced-commands-only no]), default "prohibit-password"',
    ),
    "services.prometheus.alertmanager.configText": Declared(
        "nixos/modules/services/monitoring/prometheus/alertmanager.nix",
        "id 23545623",
        "nullOr lines, default null; assertion configuration or configText set; envsubst'd",
    ),
    "services.prometheus.alertmanager.enable": Declared(
        "nixos/modules/services/monitoring/prometheus/alertmanager.nix", "id 23545623", "bool"
    ),
    "services.prometheus.alertmanager.port": Declared(
        "nixos/modules/services/monitoring/prometheus/alertmanager.nix", "id 23545623", "port, default 9093"
    ),
    "services.prometheus.checkConfig": Declared(
        "nixos/modules/services/monitoring/prometheus/default.nix",
        "id 62237455239",
        'either bool (enum ["syntax-only"]), default true',
    ),
    "services.prometheus.configText": Declared(
        "nixos/modules/services/monitoring/prometheus/default.nix", "id 62237455239", "nullOr lines, default null"
    ),
    "services.prometheus.enable": Declared(
        "nixos/modules/services/monitoring/prometheus/default.nix", "id 62237455239", "bool"
    ),
    "services.prometheus.exporters.<name>.enable": Declared(
        "nixos/modules/services/monitoring/prometheus/exporters.nix", "id 62296537581", "bool (mkExporterOpts)"
    ),
    "services.prometheus.exporters.<name>.extraFlags": Declared(
        "nixos/modules/services/monitoring/prometheus/exporters.nix", "id 62296537581", "listOf str, default []"
    ),
    "services.prometheus.exporters.<name>.port": Declared(
        "nixos/modules/services/monitoring/prometheus/exporters.nix",
        "id 62296537581",
        "port (per-exporter default: node 9100, bird 9324, kea 9547, unbound 9167)",
    ),
    "services.prometheus.exporters.bird.birdSocket": Declared(
        "nixos/modules/services/monitoring/prometheus/exporters/bird.nix",
        "id 62442750326",
        'path, default "/run/bird/bird.ctl"',
    ),
    "services.prometheus.exporters.kea.targets": Declared(
        "nixos/modules/services/monitoring/prometheus/exporters/kea.nix",
        "2faec4eca3b0717c3e754e5858e006cd14d288c1",
        "listOf str, no default",
    ),
    "services.prometheus.exporters.node.enabledCollectors": Declared(
        "nixos/modules/services/monitoring/prometheus/exporters/node.nix",
        "b66158b36393dc57a7e8f39eb4cb2c3d54b66333",
        "listOf str, default []",
    ),
    "services.prometheus.exporters.unbound.unbound.host": Declared(
        "nixos/modules/services/monitoring/prometheus/exporters/unbound.nix",
        "id 62294871191",
        'str, default "tcp://127.0.0.1:8953"',
    ),
    "services.prometheus.listenAddress": Declared(
        "nixos/modules/services/monitoring/prometheus/default.nix",
        "id 62237455239",
        'str, default "0.0.0.0"; assertion: no port in it (use port)',
    ),
    "services.prometheus.alertmanager.listenAddress": Declared(
        "nixos/modules/services/monitoring/prometheus/alertmanager.nix", "id 23545623", 'str, default "" (all)'
    ),
    "services.prometheus.exporters.<name>.listenAddress": Declared(
        "nixos/modules/services/monitoring/prometheus/exporters.nix", "id 62296537581", 'str, default "0.0.0.0"'
    ),
    "services.prometheus.port": Declared(
        "nixos/modules/services/monitoring/prometheus/default.nix", "id 62237455239", "port, default 9090"
    ),
    "services.prometheus.retentionTime": Declared(
        "nixos/modules/services/monitoring/prometheus/default.nix", "id 62237455239", "nullOr str, default null"
    ),
    "services.qemuGuest.enable": Declared(
        "nixos/modules/virtualisation/qemu-guest-agent.nix",
        "0699530f08290f34c532beedd66046825d9756fa",
        "bool, default false",
    ),
    "services.timesyncd.enable": Declared(
        "nixos/modules/system/boot/timesyncd.nix",
        "0861e45c3a6804deea2092d1dbf4cfc0cb2e0f7d",
        "bool, default !config.boot.isContainer",
    ),
    "system.stateVersion": Declared(
        "nixos/modules/misc/version.nix",
        "03a362fe87d4d19a45525bc0adab2f17a562f99a",
        "str, default config.system.nixos.release (warns 'system.stateVersion is not set' when left at default)",
    ),
    "systemd.mounts": Declared(
        "nixos/modules/system/boot/systemd.nix",
        "id 62233278066",
        'systemdUtils.types.mounts: a list (the unit name derives from `where`) of stage2MountOptions {what (str, mandatory), where (str, mandatory), type (str, default ""), options (commas, default ""), mountConfig} plus commonUnitOptions (unitConfig: attrsOf unitOption, the [Unit] section: ConditionPathExists, StopWhenUnneeded) (nixos/lib/systemd-unit-options.nix id 25694729354, also 515c8fb5; systemd-lib.nix 013635633ffe mountConfig/mountToUnit: What/Where/Type/Options and commonUnitText [Unit]). iso9660 options uid/gid/mode/dmode/overriderockperm: torvalds/linux fs/isofs/inode.c 00ed905a (match_int, base 0: 0400 is octal; the fs_context version keeps fsparam_u32 base 0), Documentation/filesystems/isofs.rst b2128290',
    ),
    "systemd.network.enable": Declared(
        "nixos/modules/system/boot/networkd.nix",
        "id 51883431331",
        "bool, default false (also turns on services.resolved.enable = mkDefault true)",
    ),
    "systemd.network.links": Declared(
        "nixos/modules/system/boot/networkd.nix", "id 51883431331", "attrsOf (submodule linkOptions)"
    ),
    "systemd.network.links.<name>.linkConfig": Declared(
        "nixos/modules/system/boot/networkd.nix",
        "id 51883431331",
        "addCheck (attrsOf unitOption) check.link.sectionLink (Name allowed)",
        free_form=True,
    ),
    "systemd.network.links.<name>.matchConfig": Declared(
        "nixos/modules/system/boot/networkd.nix",
        "id 51883431331",
        "attrsOf unitOption, unchecked ([Match]; PermanentMACAddress ok)",
        free_form=True,
    ),
    "systemd.network.networks": Declared(
        "nixos/modules/system/boot/networkd.nix", "id 51883431331", "attrsOf (submodule networkOptions)"
    ),
    "systemd.network.networks.<name>.address": Declared(
        "nixos/modules/system/boot/networkd.nix", "id 51883431331", "listOf str, default []"
    ),
    "systemd.network.networks.<name>.dhcpV4Config": Declared(
        "nixos/modules/system/boot/networkd.nix",
        "id 51883431331",
        "addCheck (attrsOf unitOption) check.network.sectionDHCPv4",
        free_form=True,
    ),
    "systemd.network.networks.<name>.dhcpV6Config": Declared(
        "nixos/modules/system/boot/networkd.nix",
        "id 51883431331",
        "addCheck (attrsOf unitOption) check.network.sectionDHCPv6",
        free_form=True,
    ),
    "systemd.network.networks.<name>.dns": Declared(
        "nixos/modules/system/boot/networkd.nix", "id 51883431331", "listOf str, default []"
    ),
    "systemd.network.networks.<name>.domains": Declared(
        "nixos/modules/system/boot/networkd.nix",
        "id 51883431331",
        "nullOr (listOf str), default null; rendered Domains= space-joined",
    ),
    "systemd.network.networks.<name>.gateway": Declared(
        "nixos/modules/system/boot/networkd.nix", "id 51883431331", "listOf str, default []"
    ),
    "systemd.network.networks.<name>.ipv6Prefixes": Declared(
        "nixos/modules/system/boot/networkd.nix",
        "id 51883431331",
        'listOf (mkSubsectionType "ipv6PrefixConfig" check.network.sectionIPv6Prefix)',
    ),
    "systemd.network.networks.<name>.ipv6SendRAConfig": Declared(
        "nixos/modules/system/boot/networkd.nix",
        "id 51883431331",
        "addCheck (attrsOf unitOption) check.network.sectionIPv6SendRA",
        free_form=True,
    ),
    "systemd.network.networks.<name>.linkConfig": Declared(
        "nixos/modules/system/boot/networkd.nix",
        "id 51883431331",
        "addCheck (attrsOf unitOption) check.network.sectionLink (MTUBytes byte format)",
        free_form=True,
    ),
    "systemd.network.networks.<name>.matchConfig": Declared(
        "nixos/modules/system/boot/networkd.nix",
        "id 51883431331",
        "attrsOf unitOption, unchecked ([Match])",
        free_form=True,
    ),
    "systemd.network.networks.<name>.networkConfig": Declared(
        "nixos/modules/system/boot/networkd.nix",
        "id 51883431331",
        "addCheck (attrsOf unitOption) check.network.sectionNetwork",
        free_form=True,
    ),
    "systemd.tmpfiles.rules": Declared(
        "nixos/modules/system/boot/systemd/tmpfiles.nix",
        "id 62272828691",
        "listOf str, default []; tmpfiles.d(5) lines",
    ),
    "systemd.services": Declared(
        "nixos/modules/system/boot/systemd.nix",
        "id 62233278066",
        "systemdUtils.types.services (attrsOf submodule of stage-2 service options), default {}",
    ),
    "systemd.services.<name>.after": Declared(
        "nixos/lib/systemd-unit-options.nix", "id 25694729354", "listOf unitNameType, default []"
    ),
    "systemd.services.<name>.before": Declared(
        "nixos/lib/systemd-unit-options.nix", "id 25694729354", "listOf unitNameType, default []"
    ),
    "systemd.services.<name>.description": Declared(
        "nixos/lib/systemd-unit-options.nix", "id 25694729354", 'singleLineStr, default ""'
    ),
    "systemd.services.<name>.environment": Declared(
        "nixos/lib/systemd-unit-options.nix",
        "id 25694729354",
        'attrsOf (nullOr (oneOf [str path package])); each becomes Environment=<toJSON "N=V"> (systemd-lib.nix serviceToUnit)',
        free_form=True,
    ),
    "systemd.services.<name>.path": Declared(
        "nixos/lib/systemd-unit-options.nix",
        "id 25694729354",
        "listOf (oneOf [package str]); bin+sbin prepended to PATH",
    ),
    "systemd.services.<name>.preStart": Declared(
        "nixos/lib/systemd-unit-options.nix",
        "id 25694729354",
        'lines, default ""; becomes ExecStartPre = [ job script ]',
    ),
    "systemd.services.<name>.serviceConfig": Declared(
        "nixos/lib/systemd-unit-options.nix",
        "id 25694729354",
        "addCheck (attrsOf unitOption) checkService (Type/Restart value checks); directives are systemd.exec(5)/systemd.service(5)/systemd.kill(5)/systemd.resource-control(5)",
        free_form=True,
    ),
    "systemd.services.<name>.serviceConfig.LoadCredential": Declared(
        "nixos/lib/systemd-lib.nix",
        "id 84567021",
        "unitOption: list defs concatenated; attrsToSection renders one `LoadCredential=` line per list element",
    ),
    "systemd.services.<name>.serviceConfig.ExecStartPre": Declared(
        "nixos/lib/systemd-unit-options.nix",
        "id 25694729354",
        "unitOption: list definitions concatenated in priority order (mkAfter: after the module's preStart, which serviceOptions makes `ExecStartPre = [ job script ]` at default priority); one ExecStartPre= line each (systemd-lib.nix 013635633ffe attrsToSection)",
    ),
    "systemd.services.<name>.unitConfig": Declared(
        "nixos/lib/systemd-unit-options.nix",
        "id 25694729354",
        "attrsOf unitOption, default {}; the [Unit] section's directives (systemd.unit(5)), e.g. RequiresMountsFor, ConditionPathExists",
        free_form=True,
    ),
    "systemd.services.<name>.wantedBy": Declared(
        "nixos/lib/systemd-unit-options.nix", "id 25694729354", "listOf unitNameType, default []"
    ),
    "systemd.services.<name>.wants": Declared(
        "nixos/lib/systemd-unit-options.nix", "id 25694729354", "listOf unitNameType, default []"
    ),
    "users.groups.<name>": Declared(
        "nixos/modules/config/users-groups.nix",
        "id 93993808",
        "attrsOf (submodule groupOpts {name, gid = nullOr int, members})",
    ),
    "users.mutableUsers": Declared("nixos/modules/config/users-groups.nix", "id 93993808", "bool, default true"),
    "users.users.<name>.extraGroups": Declared(
        "nixos/modules/config/users-groups.nix", "id 93993808", "listOf str, default []"
    ),
    "users.users.<name>.group": Declared(
        "nixos/modules/config/users-groups.nix",
        "id 93993808",
        'str (< 32 chars), default ""; assertion group != ""; assertion primary group exists in users.groups',
    ),
    "users.users.<name>.isNormalUser": Declared(
        "nixos/modules/config/users-groups.nix",
        "id 93993808",
        "bool, default false; sets group=users, createHome, home, useDefaultShell",
    ),
    "users.users.<name>.isSystemUser": Declared(
        "nixos/modules/config/users-groups.nix",
        "id 93993808",
        "bool, default false; assertion: exactly one of isSystemUser/isNormalUser",
    ),
    "users.users.<name>.openssh.authorizedKeys.keys": Declared(
        "nixos/modules/services/networking/ssh/sshd.nix",
        "id 61933264874",
        "listOf singleLineStr, default []; written to /etc/ssh/authorized_keys.d/<user> (mode 0444)",
    ),
    "users.users.<name>.useDefaultShell": Declared(
        "nixos/modules/config/users-groups.nix",
        "id 93993808",
        "bool, default false; shell = mkDefault users.defaultUserShell",
    ),
}

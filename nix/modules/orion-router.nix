# The ORION router: BIRD 2, nftables, Kea and Unbound run with the files `orion render` wrote; this module only
# wires them into NixOS. Interfaces are named by MAC from host.json; BIRD reads its session passwords as systemd
# credentials (orion-vm.nix).
{ config, lib, pkgs, ... }:
let
  cfg = config.orion.router;
  data = config.orion.dataDir;
  host = lib.importJSON "${data}/host.json";

  # What the agent's key may run: `systemctl restart bird` on the router, and nothing else.
  systemctl = "${config.systemd.package}/bin/systemctl";
  restartBgp = pkgs.writeShellApplication {
    name = "orion-restart-bgp";
    runtimeInputs = [ pkgs.bird2 pkgs.coreutils pkgs.util-linux ]; # util-linux: flock
    runtimeEnv = {
      SUDO = "/run/wrappers/bin/sudo";
      SYSTEMCTL = systemctl;
      BIRD_SOCKET = host.bird.socket;
    } // lib.optionalAttrs (host.agent != null) {
      COOLDOWN_SECONDS = toString host.agent.cooldown_seconds;
      STATE_DIR = host.agent.state_dir;
    };
    text = builtins.readFile ../scripts/orion-restart-bgp;
  };
  internal = builtins.filter (nic: nic.network != "wan") host.interfaces;

  internalNetwork = nic: lib.nameValuePair "20-${nic.name}" {
    matchConfig.Name = nic.name;
    address = builtins.filter (a: a != null) [ nic.ipv4 nic.ipv6 ];
    networkConfig = {
      IPv6SendRA = nic.router_advertisements;
      IPv6AcceptRA = false;
      ConfigureWithoutCarrier = true;
    };
    ipv6Prefixes = lib.optional nic.router_advertisements { Prefix = nic.ipv6; };
    ipv6SendRAConfig = lib.mkIf nic.router_advertisements ({
      EmitDomains = true;
      Domains = [ host.domain ];
    } // lib.optionalAttrs (nic.dns6 != null) {
      EmitDNS = true;
      # The router's own address on this network, where Unbound listens and admits the network's clients.
      DNS = [ nic.dns6 ];
    });
  };

  wanNetwork = lib.nameValuePair "30-${host.wan.interface}" {
    matchConfig.Name = host.wan.interface;
    linkConfig.MTUBytes = toString host.wan.mtu;
    networkConfig = {
      DHCP =
        if host.wan.ipv4 == "dhcp" && host.wan.ipv6 == "dhcpv6" then "yes"
        else if host.wan.ipv4 == "dhcp" then "ipv4"
        else if host.wan.ipv6 == "dhcpv6" then "ipv6"
        else "no";
      IPv6AcceptRA = host.wan.ipv6 != "none";
    };
    address = lib.optional (host.wan.ipv4 != "dhcp") host.wan.ipv4.address;
    gateway = lib.optional (host.wan.ipv4 != "dhcp") host.wan.ipv4.gateway;
    # The default routes come from BGP, not from the ISP's DHCP.
    dhcpV4Config.UseRoutes = false;
    dhcpV6Config = lib.mkIf host.wan.request_prefix_delegation { PrefixDelegationHint = "::/56"; };
  };
in
{
  imports = [ ./orion-common.nix ];

  options.orion.router.enable =
    lib.mkEnableOption "the ORION router (BGP, firewall, NAT, DHCP, DNS, router advertisements)";

  config = lib.mkIf cfg.enable {
    orion.common.enable = true;

    systemd.network.networks = lib.listToAttrs (map internalNetwork internal ++ [ wanNetwork ]);

    boot.kernel.sysctl = {
      "net.ipv4.ip_forward" = true;
      "net.ipv6.conf.all.forwarding" = true;
      # Forwarding turns off accepting RAs; the WAN still needs the ISP's.
      "net.ipv6.conf.${host.wan.interface}.accept_ra" = 2;
    };

    # What the deploy step's health check runs before it confirms a trial (router-health.sh).
    environment.systemPackages = [ pkgs.dig ];

    # The rendered ruleset replaces the NixOS firewall; it names interfaces, not indexes, so it loads anywhere
    # (and passes the build's `nft --check`).
    networking.firewall.enable = false;
    networking.nftables = {
      enable = true;
      rulesetFile = "${data}/nftables.nft";
    };

    services.bird = {
      enable = true;
      # The rendered configuration is BIRD 2 syntax; newer NixOS defaults to BIRD 3.
      package = pkgs.bird2;
      config = builtins.readFile "${data}/bird.conf";
      # The build checks the configuration with BIRD itself; the password files it includes exist only on the
      # VM, so the check reads a stand-in password instead.
      checkConfig = true;
      preCheckConfig = ''
        sed -i 's|include "${host.bird.credentials_dir}/[^"]*";|password "checked-at-build-time";|' bird.conf
      '';
    };

    # The monitoring agent's way in: one key, one command (restart BGP, then wait until BIRD answers), nothing else.
    users.users.orion-agent = lib.mkIf (host.agent != null) {
      isSystemUser = true;
      group = "orion-agent";
      extraGroups = [ "bird" ]; # birdc, to see BIRD answer again
      useDefaultShell = true; # sshd runs the forced command through the login shell
      openssh.authorizedKeys.keys = [
        ''restrict,from="${host.agent.source_address}",command="${restartBgp}/bin/orion-restart-bgp" ${host.agent.public_key}''
      ];
    };
    users.groups.orion-agent = lib.mkIf (host.agent != null) { };
    # Where the forced command keeps the time of its last restart (its cooldown), writable by the agent's account.
    systemd.tmpfiles.rules = lib.optional (host.agent != null) "d ${host.agent.state_dir} 0700 orion-agent orion-agent - -";
    security.sudo.extraRules = lib.mkIf (host.agent != null) [
      {
        users = [ "orion-agent" ];
        commands = [ { command = "${systemctl} restart bird.service"; options = [ "NOPASSWD" ]; } ];
      }
    ];

    services.kea.dhcp4 = {
      enable = true;
      configFile = "${data}/kea-dhcp4.json";
    };

    # Unbound with the rendered file (nixpkgs' services.unbound only writes its own from `settings`). It runs as
    # the static user unbound, so that the unbound exporter, which nixpkgs runs as that user, reaches the control
    # socket (Unbound makes it 0660, owned by the unit's user).
    users.users.unbound = {
      isSystemUser = true;
      group = "unbound";
    };
    users.groups.unbound = { };
    systemd.services.orion-unbound = {
      description = "Unbound resolver for the ORION networks";
      wantedBy = [ "multi-user.target" ];
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      # unbound-anchor exits 1 when it has just updated the anchor, which is not a failure.
      preStart = "${pkgs.unbound}/bin/unbound-anchor -a ${host.unbound.state_dir}/root.key || true";
      serviceConfig = {
        ExecStart = "${pkgs.unbound}/bin/unbound -d -p -c ${data}/unbound.conf";
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        User = "unbound";
        Group = "unbound";
        StateDirectory = "unbound";
        RuntimeDirectory = "unbound";
        AmbientCapabilities = [ "CAP_NET_BIND_SERVICE" ];
        CapabilityBoundingSet = [ "CAP_NET_BIND_SERVICE" ];
        NoNewPrivileges = true;
        ProtectSystem = "strict";
        ProtectHome = true;
        PrivateTmp = true;
        Restart = "on-failure";
        RestartSec = 2;
      };
    };

    services.prometheus.exporters = {
      node.extraFlags = [ "--collector.netstat.fields=${host.exporters.node_netstat_fields}" ];
      bird = {
        enable = true;
        port = host.exporters.bird;
        birdSocket = host.bird.socket;
      };
      kea = {
        enable = true;
        port = host.exporters.kea;
        targets = [ host.kea.control_socket ];
      };
      unbound = {
        enable = true;
        port = host.exporters.unbound;
        unbound.host = "unix://${host.unbound.control_socket}";
      };
    };
    systemd.services.prometheus-unbound-exporter = {
      after = [ "orion-unbound.service" ];
      serviceConfig.SupplementaryGroups = [ "unbound" ];
    };
  };
}

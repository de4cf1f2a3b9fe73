# The ORION router: BIRD 2, nftables, Kea and Unbound run with the files `orion render` wrote; this module only
# wires them into NixOS. Interfaces are named by MAC from host.json; secrets are files under /var/lib/orion/secrets.
{ config, lib, pkgs, ... }:
let
  cfg = config.orion.router;
  host = lib.importJSON "${cfg.dataDir}/host.json";
  # What the agent's key may run: `systemctl restart bird` on the router, and nothing else.
  restartBgp = pkgs.writeShellApplication {
    name = "orion-restart-bgp";
    runtimeInputs = [ pkgs.bird2 pkgs.coreutils ];
    text = ''
      /run/wrappers/bin/sudo ${pkgs.systemd}/bin/systemctl restart bird.service
      for _ in $(seq 50); do
        if birdc show status >/dev/null 2>&1; then echo "bird restarted"; exit 0; fi
        sleep 0.1
      done
      echo "bird did not come back within 5 s" >&2
      exit 1
    '';
  };
  wan = host.wan;
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
    ipv6SendRAConfig = lib.mkIf nic.router_advertisements {
      EmitDNS = true;
      DNS = [ "_link_local" ];
      EmitDomains = true;
      Domains = [ host.domain ];
    };
  };

  wanNetwork = lib.nameValuePair "30-${wan.interface}" {
    matchConfig.Name = wan.interface;
    linkConfig.MTUBytes = toString wan.mtu;
    networkConfig = {
      DHCP =
        if wan.ipv4 == "dhcp" && wan.ipv6 == "dhcpv6" then "yes"
        else if wan.ipv4 == "dhcp" then "ipv4"
        else if wan.ipv6 == "dhcpv6" then "ipv6"
        else "no";
      IPv6AcceptRA = wan.ipv6 != "none";
    };
    address = lib.optional (wan.ipv4 != "dhcp") wan.ipv4.address;
    gateway = lib.optional (wan.ipv4 != "dhcp") wan.ipv4.gateway;
    # The default routes come from BGP, not from the ISP's DHCP.
    dhcpV4Config.UseRoutes = false;
    dhcpV6Config = lib.mkIf wan.request_prefix_delegation { PrefixDelegationHint = "::/56"; };
  };
in
{
  imports = [ ./orion-common.nix ];

  options.orion.router = {
    enable = lib.mkEnableOption "the ORION router (BGP, firewall, NAT, DHCP, DNS, router advertisements)";
    dataDir = lib.mkOption {
      type = lib.types.path;
      description = "Directory with the files `orion render` wrote for the router.";
    };
  };

  config = lib.mkIf cfg.enable {
    orion.common = {
      enable = true;
      dataDir = cfg.dataDir;
      nodeExporterPort = host.exporters.node;
    };

    systemd.network.networks = lib.listToAttrs (map internalNetwork internal ++ [ wanNetwork ]);

    boot.kernel.sysctl = {
      "net.ipv4.ip_forward" = 1;
      "net.ipv6.conf.all.forwarding" = 1;
      # Forwarding turns off accepting RAs; the WAN still needs the ISP's.
      "net.ipv6.conf.${wan.interface}.accept_ra" = 2;
    };

    # The rendered ruleset replaces the NixOS firewall; it names interfaces, not indexes, so it loads anywhere.
    networking.firewall.enable = false;
    networking.nftables = {
      enable = true;
      rulesetFile = "${cfg.dataDir}/nftables.nft";
    };

    # Safe activation: a new configuration is applied on probation and rolled back unless confirmed in time.
    environment.systemPackages = [
      (pkgs.writeShellApplication {
        name = "orion-trial";
        runtimeInputs = [ pkgs.coreutils pkgs.util-linux ];
        text = builtins.readFile ../scripts/orion-trial;
      })
    ];

    services.bird = {
      enable = true;
      # The rendered configuration is BIRD 2 syntax; newer NixOS defaults to BIRD 3.
      package = pkgs.bird2;
      config = builtins.readFile "${cfg.dataDir}/bird.conf";
      # It includes the BGP password files, which exist only on the VM, never in the build sandbox.
      checkConfig = false;
    };

    # The monitoring agent's way in: one key, one command (restart BGP, then wait until BIRD answers), nothing else.
    users.users.orion-agent = lib.mkIf (host.agent_public_key_file != null) {
      isSystemUser = true;
      group = "orion-agent";
      extraGroups = [ "bird" ]; # birdc, to see BIRD answer again
      useDefaultShell = true; # sshd runs the forced command through the login shell
      # Read at evaluation on the router (nixos-rebuild runs there as root); a public key, fine in the store.
      openssh.authorizedKeys.keys = [
        ''restrict,command="${restartBgp}/bin/orion-restart-bgp" ${lib.fileContents host.agent_public_key_file}''
      ];
    };
    users.groups.orion-agent = lib.mkIf (host.agent_public_key_file != null) { };
    security.sudo.extraRules = lib.mkIf (host.agent_public_key_file != null) [
      {
        users = [ "orion-agent" ];
        commands = [
          { command = "${pkgs.systemd}/bin/systemctl restart bird.service"; options = [ "NOPASSWD" ]; }
        ];
      }
    ];

    services.kea.dhcp4 = {
      enable = true;
      configFile = "${cfg.dataDir}/kea-dhcp4.json";
    };

    systemd.services.orion-unbound = {
      description = "Unbound resolver for the ORION networks";
      wantedBy = [ "multi-user.target" ];
      after = [ "network-online.target" ];
      wants = [ "network-online.target" ];
      preStart = "${pkgs.unbound}/bin/unbound-anchor -a /var/lib/unbound/root.key || true";
      serviceConfig = {
        ExecStart = "${pkgs.unbound}/bin/unbound -d -p -c ${cfg.dataDir}/unbound.conf";
        ExecReload = "${pkgs.coreutils}/bin/kill -HUP $MAINPID";
        DynamicUser = true;
        StateDirectory = "unbound";
        RuntimeDirectory = "unbound";
        AmbientCapabilities = [ "CAP_NET_BIND_SERVICE" ];
        Restart = "on-failure";
      };
    };

    services.prometheus.exporters.node.extraFlags = [
      "--collector.netstat.fields=${host.exporters.node_netstat_fields}"
    ];

    services.prometheus.exporters = {
      bird = {
        enable = true;
        port = host.exporters.bird;
      };
      kea = {
        enable = true;
        port = host.exporters.kea;
        targets = [ "/run/kea/dhcp4.sock" ];
      };
      unbound = {
        enable = true;
        port = host.exporters.unbound;
        unbound.host = "unix:///run/unbound/unbound.ctl";
      };
    };
  };
}

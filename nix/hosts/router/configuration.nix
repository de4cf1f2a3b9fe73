# Entry point of the ORION router. The deploy step ships it inside the flake with the modules and the rendered
# data (host/) and builds it with nixos-rebuild build --flake DIR#orion; flake.nix passes orion.dataDir.
{ ... }:
{
  imports = [ ../../modules/orion-router.nix ];

  orion.router.enable = true;
}

"""The ORION lab: a twin of the network in Linux network namespaces, running the rendered configuration with the
real daemons. Sealed: its namespaces have no link to the host's network and no route out."""

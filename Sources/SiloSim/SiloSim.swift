// SiloSim: see ARCHITECTURE.md.

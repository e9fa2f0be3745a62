// Placement: see ARCHITECTURE.md.

// RaftKit: see ARCHITECTURE.md.

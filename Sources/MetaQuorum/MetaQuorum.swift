// MetaQuorum: see ARCHITECTURE.md.

// S3Protocol: see ARCHITECTURE.md.

// BlobNode: see ARCHITECTURE.md.

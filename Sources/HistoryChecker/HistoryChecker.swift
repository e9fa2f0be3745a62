// HistoryChecker: see ARCHITECTURE.md.

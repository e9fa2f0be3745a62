import ArgumentParser

/// `silo-jepsen`: offline tools for Silo's Jepsen-style histories. Argument parsing and wiring only; the
/// checkers live in `HistoryChecker`.
@main
struct SiloJepsen: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silo-jepsen",
        abstract: "Check Silo histories (silo-history/1) offline.",
        subcommands: [Check.self]
    )
}

// silo-sim: the deterministic RaftKit simulator. Argument parsing and output only; see SiloSim.
import ArgumentParser
import MetaQuorum
import RaftKit
import SiloSim

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

struct SiloSimCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "silo-sim",
        abstract: "Deterministic simulation of a RaftKit group under faults.")

    @Option(help: "Replay one seed.") var seed: UInt64?
    @Option(help: "Run a range of seeds, A..B (inclusive); stop at the first failure.") var seeds: String?
    @Option(help: "Voters at the start: 3 or 5 (default: drawn from the seed).") var nodes: Int?
    @Option(help: "Ticks in the safety phase.") var steps: Int?
    @Option(help: "The replicated state machine: kv (registers) or meta (Silo's metadata state machine on SQLite: PUTs, conditional PUTs, retries with the same request id).")
    var workload: String = "kv"
    @Option(help: "Debug builds only: switch on a deliberate core bug (\(FaultSwitches.named.map(\.name).joined(separator: ", "))), or with --workload meta a metadata state machine bug (\(MetaFaults.named.map(\.name).joined(separator: ", "))).")
    var fault: [String] = []
    @Flag(help: "Print the event trace.") var verbose = false
    @Option(help: "Write the KV history (silo-history/1 JSON Lines) of a --seed run to this file.") var history: String?

    func validate() throws {
        if (seed == nil) == (seeds == nil) { throw ValidationError("give exactly one of --seed or --seeds") }
        if let nodes, nodes != 3 && nodes != 5 { throw ValidationError("--nodes must be 3 or 5") }
        if SimWorkload(rawValue: workload) == nil { throw ValidationError("--workload must be kv or meta") }
    }

    func run() throws {
        var faults: FaultSwitches = []
        var metaFaults: MetaFaults = []
        for name in fault {
            if let entry = FaultSwitches.named.first(where: { $0.name == name }) {
                faults.insert(entry.fault)
            } else if let entry = MetaFaults.named.first(where: { $0.name == name }), workload == "meta" {
                metaFaults.insert(entry.fault)
            } else {
                throw ValidationError("unknown fault \(name)")
            }
        }
        #if !DEBUG
        if !metaFaults.isEmpty { throw ValidationError("fault switches exist only in debug builds") }
        #endif
        var overrides = SimOverrides(nodes: nodes, safetyTicks: steps, faults: faults, verbose: verbose,
                                     workload: SimWorkload(rawValue: workload)!)
        overrides.metaFaults = metaFaults
        if let seed {
            let report = Simulation.run(seed: seed, overrides: overrides)
            for line in report.trace { print(line) }
            print(report.summary)
            if let history {
                let text = report.history.jsonLines(seed: seed).joined(separator: "\n") + "\n"
                guard let file = fopen(history, "w") else { throw ValidationError("cannot write \(history)") }
                fputs(text, file)
                fclose(file)
            }
            if let failure = report.failure {
                print("FAILURE: \(failure)")
                throw ExitCode(1)
            }
            return
        }
        let parts = seeds!.split(separator: ".", omittingEmptySubsequences: true)
        guard parts.count == 2, let low = UInt64(parts[0]), let high = UInt64(parts[1]), low <= high else {
            throw ValidationError("--seeds wants A..B")
        }
        var passed = 0
        for current in low...high {
            currentSeed = current
            let report = Simulation.run(seed: current, overrides: overrides)
            if let failure = report.failure {
                print(report.summary)
                print("FAILURE: \(failure)")
                print("replay: silo-sim --seed \(current)\(replayFlags)")
                throw ExitCode(1)
            }
            passed += 1
        }
        print("silo-sim: \(passed) seeds passed (\(low)..\(high))\(workload == "kv" ? "" : " workload=\(workload)")")
    }

    var replayFlags: String {
        var flags = ""
        if let nodes { flags += " --nodes \(nodes)" }
        if let steps { flags += " --steps \(steps)" }
        if workload != "kv" { flags += " --workload \(workload)" }
        for name in fault { flags += " --fault \(name)" }
        return flags
    }
}

/// The seed being run, for the crash handler. Written only by the main thread between runs; read by the signal
/// handler on the same thread when a precondition in the core traps, so there is no concurrent access.
nonisolated(unsafe) var currentSeed: UInt64 = 0

func installCrashHandler() {
    let handler: @convention(c) (Int32) -> Void = { signal in
        var text = "\nsilo-sim: crashed (signal \(signal)); replay: silo-sim --seed \(currentSeed)\n"
        text.withUTF8 { _ = write(2, $0.baseAddress, $0.count) }
        _exit(2)
    }
    signal(SIGILL, handler)
    signal(SIGTRAP, handler)
    signal(SIGSEGV, handler)
}

installCrashHandler()
SiloSimCommand.main()

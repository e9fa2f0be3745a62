import ArgumentParser
import Foundation
import HistoryChecker

/// `silo-jepsen check`: re-checks a history file. Exit status: 0 valid, 1 anomaly, 3 inconclusive, 2 the
/// file could not be read.
struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a history: linearizability (register, s3-register), list-append or set.",
        discussion: "Exit status: 0 valid, 1 anomaly, 3 inconclusive (a failed run), 2 unreadable input."
    )

    enum CheckerModel: String, ExpressibleByArgument, CaseIterable {
        case register
        case s3Register = "s3-register"
        case listAppend = "list-append"
        case set
    }

    enum Format: String, ExpressibleByArgument, CaseIterable {
        case silo
        case porcupineEtcd = "porcupine-etcd"
        case porcupineKV = "porcupine-kv"
    }

    @Option(
        help: ArgumentHelp(
            "The checker. Default: from the history's operations (append: list-append, add: set, "
                + "get/put/create/delete: s3-register, otherwise register); register for the porcupine formats."))
    var model: CheckerModel?

    @Option(help: "The input format: silo (silo-history/1), porcupine-etcd (Jepsen etcd logs), porcupine-kv.")
    var format: Format = .silo

    @Option(help: "Write a self-contained HTML timeline here.")
    var html: String?

    @Option(help: "The linearizability checker's time budget in seconds (running out is INCONCLUSIVE).")
    var timeout: Double = 60

    @Option(help: "Partitions checked in parallel.")
    var workers: Int?

    @Flag(help: "Print each partition's verdict, size, search configurations and time.")
    var verbose = false

    @Argument(help: "The history file.")
    var file: String

    func run() throws {
        let outcome: CheckOutcome
        do {
            outcome = try runChecks()
        } catch {
            print("error: cannot check \(file): \(error)")
            throw ExitCode(2)
        }
        if let html {
            do {
                try outcome.timeline.html().write(toFile: html, atomically: true, encoding: .utf8)
                print("timeline: \(html)")
            } catch {
                print("error: cannot write \(html): \(error)")
                throw ExitCode(2)
            }
        }
        throw ExitCode(outcome.exitStatus)
    }

    private func runChecks() throws(HistoryError) -> CheckOutcome {
        let budget = Duration.milliseconds(Int64((timeout * 1000).rounded()))
        switch format {
        case .porcupineEtcd, .porcupineKV:
            let text: String
            do { text = try String(contentsOfFile: file, encoding: .utf8) } catch {
                throw .io(path: file, reason: "\(error)")
            }
            let isEtcd = format == .porcupineEtcd
            let operations = isEtcd ? PorcupineLog.parseEtcd(text: text) : PorcupineLog.parseKV(text: text)
            let registerModel = RegisterModel(initialValue: isEtcd ? nil : "")
            return linearizability(model: registerModel, name: "register", operations: operations, budget: budget, nemesis: [])
        case .silo:
            let history = try HistoryReader.read(path: file)
            let events = history.events
            let nemesis = HistoryPairing.nemesisWindows(events)
            switch model ?? Self.defaultModel(events) {
            case .register:
                return linearizability(
                    model: RegisterModel(), name: "register", operations: try RegisterModel.operations(from: events),
                    budget: budget, nemesis: nemesis)
            case .s3Register:
                return linearizability(
                    model: S3RegisterModel(), name: "s3-register",
                    operations: try S3RegisterModel.operations(from: events), budget: budget, nemesis: nemesis)
            case .listAppend:
                return anomalies(
                    name: "list-append", report: try ListAppendChecker.check(events), events: events, nemesis: nemesis)
            case .set:
                return anomalies(name: "set", report: try SetChecker.check(events), events: events, nemesis: nemesis)
            }
        }
    }

    static func defaultModel(_ events: [HistoryEvent]) -> CheckerModel {
        let functions = Set(events.lazy.filter { $0.kind == .op }.map(\.f))
        if functions.contains("append") { return .listAppend }
        if functions.contains("add") { return .set }
        if !functions.isDisjoint(with: ["get", "put", "create", "delete"]) { return .s3Register }
        return .register
    }

    private func linearizability<M: Model>(
        model: M, name: String, operations: [HistoryOperation<M.Input, M.Output>], budget: Duration,
        nemesis: [NemesisWindow]
    ) -> CheckOutcome {
        let report = LinearizabilityChecker(model: model, timeout: budget, workers: workers).check(operations)
        let verdict: String
        let status: Int32
        switch report.result {
        case .ok: (verdict, status) = ("VALID", 0)
        case .illegal: (verdict, status) = ("ANOMALY", 1)
        case .inconclusive: (verdict, status) = ("INCONCLUSIVE", 3)
        }
        print(
            "K-lin \(name): \(verdict)  \(report.operationCount) ops  \(report.partitionSizes.count) partitions  "
                + seconds(report.elapsed))
        if verbose {
            for i in report.partitionSizes.indices {
                print(
                    "  partition \(i): \(report.partitionVerdicts[i].rawValue)  \(report.partitionSizes[i]) ops  "
                        + "\(report.partitionConfigurations[i]) configurations  " + seconds(report.partitionElapsed[i]))
            }
        }
        switch report.result {
        case .ok: break
        case .illegal(let counterexample):
            print("partition \(counterexample.partitionIndex) is not linearizable:")
            for line in TimelineReport.counterexampleLines(model: model, counterexample) { print("  " + line) }
        case .inconclusive(let reason):
            print("  inconclusive: \(reason); lower the per-key concurrency or operations, or raise --timeout")
        }
        let timeline = TimelineReport.linearizability(
            model: model, operations: operations, report: report, nemesis: nemesis,
            title: "\(name) check of \((file as NSString).lastPathComponent)")
        return CheckOutcome(exitStatus: status, timeline: timeline)
    }

    private func anomalies(name: String, report: AnomalyReport, events: [HistoryEvent], nemesis: [NemesisWindow])
        -> CheckOutcome
    {
        let checkerID = name == "set" ? "K-set" : "K-append"
        print(
            "\(checkerID) \(name): \(report.isValid ? "VALID" : "ANOMALY")  \(report.operationCount) ops  "
                + seconds(report.elapsed))
        for anomalyName in AnomalyName.allCases {
            if let count = report.counts[anomalyName], count > 0 { print("  \(anomalyName.rawValue): \(count)") }
        }
        for anomaly in report.anomalies {
            print("  \(anomaly.name.rawValue) [\(anomaly.key)] \(anomaly.message) (events \(anomaly.eventIndices))")
        }
        let pairs = (try? HistoryPairing.pairs(events)) ?? []
        let timeline = TimelineReport.anomalies(
            checker: checkerID, pairs: pairs, report: report, nemesis: nemesis,
            title: "\(name) check of \((file as NSString).lastPathComponent)")
        return CheckOutcome(exitStatus: report.isValid ? 0 : 1, timeline: timeline)
    }

    private func seconds(_ d: Duration) -> String {
        let c = d.components
        return String(format: "%.3f s", Double(c.seconds) + Double(c.attoseconds) / 1e18)
    }
}

/// What `check` decided, and the picture of it.
struct CheckOutcome {
    var exitStatus: Int32
    var timeline: TimelineReport
}

#if SILO_LIBFUZZER
import Foundation

/// The libFuzzer build (`ops/fuzz/run`): libFuzzer owns `main` and calls this for every input; the target
/// comes from `SILO_FUZZ_TARGET`.
private let selectedTarget: FuzzTarget = {
    let name = ProcessInfo.processInfo.environment["SILO_FUZZ_TARGET"] ?? ""
    guard let target = FuzzTargets.named(name) else {
        let names = FuzzTargets.all.map(\.name).joined(separator: ", ")
        FileHandle.standardError.write(Data("SILO_FUZZ_TARGET must be one of: \(names)\n".utf8))
        exit(2)
    }
    return target
}()

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let bytes = size > 0 && data != nil ? Array(UnsafeBufferPointer(start: data, count: size)) : []
    selectedTarget.run(bytes)
    return 0
}

typealias FuzzCallback = @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt

/// libFuzzer's entry for programs that have their own `main` (LLVM 11+).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: FuzzCallback
) -> CInt

/// SwiftPM links an executable's `main` to `<module>_main`; hand the process to libFuzzer from there.
@_cdecl("silo_fuzz_main")
public func siloFuzzMain(
    _ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?
) -> CInt {
    var count = argc
    var arguments = argv
    _ = selectedTarget
    return LLVMFuzzerRunDriver(&count, &arguments, { fuzzOneInput($0, $1) })
}
#else
import Foundation

/// The replay build: `silo-fuzz replay DIR` runs every saved input under `DIR/<target>/` (the seed
/// corpus and the regression inputs of crashes found before) through its target, and `silo-fuzz list`
/// prints the target names. A trap fails the run, which is what makes the saved crashes regression tests.
@main
struct FuzzReplay {
    static func main() {
        let arguments = CommandLine.arguments.dropFirst()
        switch arguments.first {
        case "list":
            for target in FuzzTargets.all { print(target.name) }
        case "seeds" where arguments.count == 2:
            do {
                try FuzzSeeds.write(to: arguments[arguments.startIndex + 1])
            } catch {
                print("silo-fuzz: cannot write seeds: \(error)")
                exit(1)
            }
        case "replay" where arguments.count >= 2:
            var total = 0
            for directory in arguments.dropFirst() {
                for target in FuzzTargets.all {
                    let folder = URL(fileURLWithPath: directory).appendingPathComponent(target.name)
                    guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else { continue }
                    for name in names.sorted() where !name.hasPrefix(".") {
                        guard let data = FileManager.default.contents(atPath: folder.appendingPathComponent(name).path)
                        else { continue }
                        target.run(Array(data))
                        total += 1
                    }
                }
            }
            print("silo-fuzz: replayed \(total) inputs through \(FuzzTargets.all.count) targets, no crash")
        default:
            print("usage: silo-fuzz list | silo-fuzz seeds DIR | silo-fuzz replay DIR...")
            exit(2)
        }
    }
}
#endif

import ArgumentParser
import Foundation
import RaftKit

/// The crash-test switches a process reads from its environment before it opens any storage (debug
/// builds; the Jepsen-style harness sets them). `SILO_FAULT_LOSE_UNSYNCED=1`: WAL and snapshot writes stay
/// in memory until synced, so a SIGKILL loses them as a power failure would (`StorageFaults`);
/// `SILO_FAULT_LOSE_UNSYNCED=skip-fsync` plants a bug on top, syncs that write nothing, for the harness to
/// catch. A release build refuses to start with a switch set rather than run a crash test that tests nothing.
func applyStorageFaults() throws {
    let value = ProcessInfo.processInfo.environment["SILO_FAULT_LOSE_UNSYNCED"]
    let on: Bool
    switch value {
    case nil, "", "0": return
    case "1": on = StorageFaults.holdUnsyncedWrites()
    case "skip-fsync": on = StorageFaults.lieAboutSyncs()
    case let other?: throw ValidationError("SILO_FAULT_LOSE_UNSYNCED must be 1 or skip-fsync, got \(other)")
    }
    guard on else {
        throw ValidationError("SILO_FAULT_LOSE_UNSYNCED is a debug-build fault switch; this is a release build")
    }
    FileHandle.standardError.write(Data("fault: writes not yet synced are lost on a crash (SILO_FAULT_LOSE_UNSYNCED=\(value ?? ""))\n".utf8))
}

/// `SILO_FAULT_BLOB_DISK_FILE=PATH` (`silo blob`, debug builds): the disk faults the harness writes to PATH
/// (`full`, `eio`) while the node runs (`DiskFaults`). Refused in a release build, which compiles them out.
func checkBlobDiskFaults() throws {
    guard let path = ProcessInfo.processInfo.environment["SILO_FAULT_BLOB_DISK_FILE"], !path.isEmpty else { return }
    #if DEBUG
    FileHandle.standardError.write(Data("fault: blob disk faults read from \(path) (SILO_FAULT_BLOB_DISK_FILE)\n".utf8))
    #else
    throw ValidationError("SILO_FAULT_BLOB_DISK_FILE is a debug-build fault switch; this is a release build")
    #endif
}

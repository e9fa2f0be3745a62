import Synchronization

/// Crash-test faults of the storage layer (debug builds only; compiled out of release builds), for the
/// Jepsen-style harness's "kill and lose every write not yet fsynced" nemesis (JEPSEN-SPEC N9).
///
/// Once `holdUnsyncedWrites()` is called, every byte `POSIXFile.writeAll` is given stays in this process's
/// memory until the next `POSIXFile.syncData` of the same descriptor writes it and syncs: a process killed
/// in between loses it, as a machine that loses power loses its page cache. Killing such a process with
/// SIGKILL is thus a power failure for the WAL and the snapshot files (the durable set is exactly what
/// was synced), while everything written through other paths (SQLite) survives as if synced. A
/// descriptor closed without a sync writes what it held (what the OS would keep absent a crash).
///
/// Who calls it: the process's composition root, when `SILO_FAULT_LOSE_UNSYNCED=1`, before opening any
/// storage.
public enum StorageFaults {
    #if DEBUG
    private static let holding = Atomic<Bool>(false)
    private static let lying = Atomic<Bool>(false)
    private static let held = Mutex<[Int32: [UInt8]]>([:])
    #endif

    /// Turns the fault on for the rest of the process's life. Returns false (and does nothing) in a
    /// release build: the caller should then refuse to start rather than run a crash test that tests
    /// nothing.
    public static func holdUnsyncedWrites() -> Bool {
        #if DEBUG
        holding.store(true, ordering: .sequentiallyConsistent)
        return true
        #else
        return false
        #endif
    }

    /// A planted bug on top of `holdUnsyncedWrites()`, to show that the crash test catches it: a sync
    /// reports success without writing what the descriptor holds (an fsync that lies), so writes the WAL
    /// acknowledged are lost on a kill. False in a release build.
    public static func lieAboutSyncs() -> Bool {
        #if DEBUG
        lying.store(true, ordering: .sequentiallyConsistent)
        return holdUnsyncedWrites()
        #else
        return false
        #endif
    }

    /// True when a sync must not write what is held (`lieAboutSyncs`).
    static var syncsLie: Bool {
        #if DEBUG
        lying.load(ordering: .relaxed)
        #else
        false
        #endif
    }

    /// Keeps `bytes` for `fd` instead of writing them, when the fault is on; false when they must be written.
    static func hold(_ bytes: [UInt8], for fd: Int32) -> Bool {
        #if DEBUG
        guard holding.load(ordering: .relaxed) else { return false }
        held.withLock { $0[fd, default: []].append(contentsOf: bytes) }
        return true
        #else
        return false
        #endif
    }

    /// What `fd` holds, handed over for writing (nil: nothing).
    static func release(_ fd: Int32) -> [UInt8]? {
        #if DEBUG
        guard holding.load(ordering: .relaxed) else { return nil }
        return held.withLock { $0.removeValue(forKey: fd) }
        #else
        return nil
        #endif
    }
}

public import NIOCore
public import BlobContract

/// One blob node's chunks spread over several data directories (one `LocalChunkStore` each, typically one
/// per disk), behind the same `ChunkStoring` contract.
///
/// Placement: rendezvous hashing of the chunk id over the directories' positions, so every chunk has a
/// fixed home directory and adding a directory moves only about 1/n of the homes. A write goes to the home;
/// when that disk is full it goes to the next directory in the chunk's order. A read tries the home first,
/// then the others (an index lookup each: cheap), so chunks written before a directory was added, or
/// diverted by a full disk, are still found. A delete reaches every directory. Listing by age merges the
/// directories' ascending pages, so paging works as on one store.
///
/// Promises: the `ChunkStoring` contract, as long as every directory it was opened with is present; a
/// directory that is lost (its disk died) loses only the chunks homed there, which the cluster's repairer
/// rewrites from other nodes' copies once the directory is back, empty.
public final class MultiDiskChunkStore: ChunkStoring {
    /// The stores, in the order the directories were given.
    public let stores: [LocalChunkStore]

    /// - Precondition: at least one store.
    public init(stores: [LocalChunkStore]) {
        precondition(!stores.isEmpty, "a blob node needs at least one data directory")
        self.stores = stores
    }

    /// The stores in this chunk's order: its home first.
    func order(_ chunkID: UInt128) -> [LocalChunkStore] {
        guard stores.count > 1 else { return stores }
        let scored = stores.indices.map { index in (score: Self.score(chunkID, index), index: index) }
        return scored.sorted { $0.score > $1.score }.map { stores[$0.index] }
    }

    /// SplitMix64's finalizer over the id's halves and the directory's position: a well-mixed weight.
    static func score(_ chunkID: UInt128, _ index: Int) -> UInt64 {
        let high = UInt64(truncatingIfNeeded: chunkID >> 64)
        var z = UInt64(truncatingIfNeeded: chunkID) ^ (high << 17 | high >> 47) ^ ((UInt64(index) &+ 1) &* 0x9E37_79B9_7F4A_7C15)
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    public func write(_ chunkID: UInt128, _ bytes: ByteBuffer) async throws(BlobError) {
        var lastError: BlobError?
        for store in order(chunkID) {
            do {
                try await store.write(chunkID, bytes)
                return
            } catch .diskFull(let reason) {
                lastError = .diskFull(reason)
            }
        }
        throw lastError!
    }

    public func read(_ chunkID: UInt128, offset: Int, length: Int) async throws(BlobError) -> ByteBuffer {
        var firstFailure: BlobError?
        for store in order(chunkID) {
            do {
                return try await store.read(chunkID, offset: offset, length: length)
            } catch .chunkNotFound {
                continue
            } catch {
                // A damaged copy or a failing disk: another directory may still hold a good one.
                if firstFailure == nil { firstFailure = error }
            }
        }
        throw firstFailure ?? .chunkNotFound(chunkID)
    }

    public func delete(_ chunkIDs: [UInt128]) async throws(BlobError) {
        var firstFailure: BlobError?
        for store in stores {
            do {
                try await store.delete(chunkIDs)
            } catch {
                if firstFailure == nil { firstFailure = error }
            }
        }
        if let firstFailure { throw firstFailure }
    }

    public func chunks(writtenBeforeTime: Int64, after: UInt128?, limit: Int) async throws(BlobError) -> [UInt128] {
        var merged: [UInt128] = []
        for store in stores {
            merged += try await store.chunks(writtenBeforeTime: writtenBeforeTime, after: after, limit: limit)
        }
        merged.sort()
        var unique: [UInt128] = []
        unique.reserveCapacity(min(limit, merged.count))
        for id in merged where unique.last != id {
            unique.append(id)
            if unique.count == limit { break }
        }
        return unique
    }

    /// The free bytes of every directory's filesystem, added up (directories on one filesystem count once
    /// each: give each its own disk).
    public func freeSpaceBytes() throws(BlobError) -> UInt64 {
        var total: UInt64 = 0
        for store in stores { total += try store.freeSpaceBytes() }
        return total
    }

    /// Live chunks over every directory.
    public var liveChunkCount: Int {
        stores.reduce(0) { $0 + $1.stats().liveChunkCount }
    }

    public func close() async {
        for store in stores { await store.close() }
    }
}

import BlobContract
import MetaContract
import NIOCore
import Synchronization

/// Streams a byte range of an object from its chunks, a few chunks read ahead of the consumer.
///
/// Promises: yields exactly the bytes `range` of the object, in order, or throws; never wrong bytes
/// (the blob store checks every record's checksum). Each chunk is read from the first of its recorded
/// nodes that answers, failing over to the next on any error; an erasure-coded chunk from the data shards
/// the slice overlaps, rebuilt from any k shards when one of those fails (`StripeReader`). Only chunks
/// overlapping `range` are read.
/// Memory: the slice being consumed, plus up to `ReadAheadBudget.chunksAheadMax` read ahead only while the
/// server-wide budget has room for them, so stalled clients cannot pile up read-ahead buffers.
struct ObjectBodyReader: AsyncSequence, Sendable {
    typealias Element = ByteBuffer

    /// One piece to read: a byte range inside one chunk.
    struct Slice: Sendable {
        var chunk: ChunkRef
        var offset: Int
        var length: Int
    }

    let cluster: BlobCluster
    let slices: [Slice]
    let budget: ReadAheadBudget
    /// The range of an inline object's bytes: the whole answer, with no chunk to read.
    let inline: ByteBuffer?

    /// - Precondition: `range` lies within the object.
    init(cluster: BlobCluster, object: ObjectRecord, range: Range<Int64>, budget: ReadAheadBudget) {
        guard let body = object.inlineBody else {
            self.init(cluster: cluster, chunks: object.chunks, range: range, budget: budget)
            return
        }
        precondition(range.upperBound <= Int64(body.count), "range \(range) outside an inline body of \(body.count)")
        self.init(cluster: cluster, slices: [], budget: budget,
                  inline: ByteBuffer(bytes: body[Int(range.lowerBound)..<Int(range.upperBound)]))
    }

    private init(cluster: BlobCluster, slices: [Slice], budget: ReadAheadBudget, inline: ByteBuffer?) {
        self.cluster = cluster
        self.slices = slices
        self.budget = budget
        self.inline = inline
    }

    /// - Precondition: `range` lies within the chunks.
    init(cluster: BlobCluster, chunks: [ChunkRef], range: Range<Int64>, budget: ReadAheadBudget) {
        var slices: [Slice] = []
        var chunkStart: Int64 = 0
        for chunk in chunks {
            let chunkEnd = chunkStart + chunk.sizeBytes
            let lower = Swift.max(range.lowerBound, chunkStart)
            let upper = Swift.min(range.upperBound, chunkEnd)
            if lower < upper {
                slices.append(Slice(chunk: chunk, offset: Int(lower - chunkStart), length: Int(upper - lower)))
            }
            chunkStart = chunkEnd
            if chunkStart >= range.upperBound { break }
        }
        precondition(slices.reduce(0) { $0 + Int64($1.length) } == Int64(range.count),
                     "range \(range) is not inside the object of \(chunkStart) bytes")
        self.init(cluster: cluster, slices: slices, budget: budget, inline: nil)
    }

    static func read(_ slice: Slice, cluster: BlobCluster) async throws -> ByteBuffer {
        if case .erasure(let stripe) = slice.chunk.layout {
            return try await StripeReader(chunk: slice.chunk, stripe: stripe, cluster: cluster)
                .read(offset: slice.offset, length: slice.length)
        }
        var lastError: (any Error)?
        for node in slice.chunk.nodes {
            guard let store = cluster.store(for: node) else { continue }
            do {
                return try await store.read(slice.chunk.id, offset: slice.offset, length: slice.length)
            } catch {
                lastError = error
            }
        }
        if let lastError { throw S3Error.from(lastError) }
        throw S3Error(.serviceUnavailable, "No blob node holding the chunk is reachable.")
    }

    struct AsyncIterator: AsyncIteratorProtocol {
        let cluster: BlobCluster
        let slices: [Slice]
        let budget: ReadAheadBudget
        var nextIndex = 0
        /// Reads started ahead of the consumer, oldest first; each holds budget (given back once its
        /// buffer is handed on, or when the iterator is dropped by a client that went away).
        var ahead: [(task: Task<ByteBuffer, any Error>, reservation: ReadAheadBudget.Reservation?)] = []
        var inline: ByteBuffer?

        mutating func next() async throws -> ByteBuffer? {
            if let buffer = inline {
                inline = nil
                return buffer.readableBytes > 0 ? buffer : nil
            }
            if ahead.isEmpty {
                guard nextIndex < slices.count else { return nil }
                ahead.append((Self.start(slices[nextIndex], cluster), nil))
                nextIndex += 1
            }
            // Keep up to `chunksAheadMax` more reads going while the budget has room: a large GET then
            // streams at the speed of the disk and the network, not of one read at a time.
            while ahead.count <= budget.chunksAheadMax, nextIndex < slices.count,
                  let reservation = budget.reserve(slices[nextIndex].length)
            {
                ahead.append((Self.start(slices[nextIndex], cluster), reservation))
                nextIndex += 1
            }
            let (current, reservation) = ahead.removeFirst()
            defer { reservation?.release() }
            do {
                return try await current.value
            } catch {
                for (task, _) in ahead { task.cancel() }
                ahead = []
                nextIndex = slices.count
                throw error
            }
        }

        static func start(_ slice: Slice, _ cluster: BlobCluster) -> Task<ByteBuffer, any Error> {
            Task { try await ObjectBodyReader.read(slice, cluster: cluster) }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(cluster: cluster, slices: slices, budget: budget, inline: inline)
    }
}

/// The bytes of read-ahead all GETs of one server may hold at once. A reader takes from it before it
/// reads a chunk ahead and gives it back when the chunk is handed to the connection; when it is spent,
/// readers simply stop reading ahead (slower, never blocked), so memory stays bounded however many
/// clients stop reading.
final class ReadAheadBudget: Sendable {
    let bytesMax: Int
    /// How many chunks one reader may read ahead of its consumer, budget permitting.
    let chunksAheadMax: Int
    private let used = Mutex(0)

    init(bytesMax: Int, chunksAheadMax: Int) {
        precondition(bytesMax >= 0 && chunksAheadMax >= 0, "read-ahead budget \(bytesMax), \(chunksAheadMax) ahead")
        self.bytesMax = bytesMax
        self.chunksAheadMax = chunksAheadMax
    }

    /// Bytes taken from the budget; given back by `release()` or, at the latest, when dropped.
    final class Reservation: Sendable {
        let budget: ReadAheadBudget
        let bytes: Int
        private let released = Mutex(false)

        init(budget: ReadAheadBudget, bytes: Int) {
            self.budget = budget
            self.bytes = bytes
        }

        func release() {
            let first = released.withLock { released in
                defer { released = true }
                return !released
            }
            if first { budget.giveBack(bytes) }
        }

        deinit { release() }
    }

    /// Takes `bytes` if they fit; nil (taking nothing) otherwise.
    func reserve(_ bytes: Int) -> Reservation? {
        let taken = used.withLock { used in
            guard used + bytes <= bytesMax else { return false }
            used += bytes
            return true
        }
        return taken ? Reservation(budget: self, bytes: bytes) : nil
    }

    private func giveBack(_ bytes: Int) {
        used.withLock { used in
            precondition(used >= bytes, "read-ahead budget released more than reserved")
            used -= bytes
        }
    }

    var bytesInUse: Int { used.withLock { $0 } }
}

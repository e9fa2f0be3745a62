import BlobNode
import MetaQuorum
import NIOCore

/// Streams a byte range of an object from its chunks, one chunk read ahead of the consumer.
///
/// Promises: yields exactly the bytes `range` of the object, in order, or throws; never wrong bytes
/// (the blob store checks every record's checksum). Each chunk is read from the first of its recorded
/// nodes that answers, failing over to the next on any error. Only chunks overlapping `range` are read.
/// Memory: two chunk slices at most.
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

    /// - Precondition: `range` lies within the object.
    init(cluster: BlobCluster, chunks: [ChunkRef], range: Range<Int64>) {
        self.cluster = cluster
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
        self.slices = slices
    }

    static func read(_ slice: Slice, cluster: BlobCluster) async throws -> ByteBuffer {
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
        var nextIndex = 0
        var prefetch: Task<ByteBuffer, any Error>?

        mutating func next() async throws -> ByteBuffer? {
            guard nextIndex < slices.count else { return nil }
            let current = prefetch ?? Self.start(slices[nextIndex], cluster)
            nextIndex += 1
            prefetch = nextIndex < slices.count ? Self.start(slices[nextIndex], cluster) : nil
            do {
                return try await current.value
            } catch {
                prefetch?.cancel()
                prefetch = nil
                nextIndex = slices.count
                throw error
            }
        }

        static func start(_ slice: Slice, _ cluster: BlobCluster) -> Task<ByteBuffer, any Error> {
            Task { try await ObjectBodyReader.read(slice, cluster: cluster) }
        }
    }

    func makeAsyncIterator() -> AsyncIterator {
        AsyncIterator(cluster: cluster, slices: slices)
    }
}

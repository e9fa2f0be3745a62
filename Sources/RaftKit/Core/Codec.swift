// The binary codec for everything that crosses a wire or a disk: fixed-width little-endian integers, lengths as
// UInt32 with a limit checked before any allocation, one tag byte per enum case. Every decoder throws
// `CodecError` on malformed input and never traps.

extension Array where Element == UInt8 {
    @inline(__always) mutating func appendLE(_ value: UInt64) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
    @inline(__always) mutating func appendLE(_ value: UInt32) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
    @inline(__always) mutating func appendBool(_ value: Bool) { append(value ? 1 : 0) }
    mutating func appendBytes(_ bytes: [UInt8]) {
        precondition(bytes.count <= Int(UInt32.max), "byte field of \(bytes.count) bytes")
        appendLE(UInt32(bytes.count))
        append(contentsOf: bytes)
    }
}

/// A bounds-checked cursor over encoded bytes.
struct ByteReader {
    let bytes: [UInt8]
    var offset: Int

    init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.offset = 0
    }

    var remaining: Int { bytes.count - offset }

    mutating func readUInt8() throws(CodecError) -> UInt8 {
        guard remaining >= 1 else { throw .truncated }
        defer { offset += 1 }
        return bytes[offset]
    }

    mutating func readBool() throws(CodecError) -> Bool {
        let byte = try readUInt8()
        guard byte <= 1 else { throw .unknownTag(byte) }
        return byte == 1
    }

    mutating func readUInt64() throws(CodecError) -> UInt64 {
        guard remaining >= 8 else { throw .truncated }
        var value: UInt64 = 0
        for shift in 0..<8 { value |= UInt64(bytes[offset + shift]) << (8 * UInt64(shift)) }
        offset += 8
        return value
    }

    mutating func readUInt32() throws(CodecError) -> UInt32 {
        guard remaining >= 4 else { throw .truncated }
        var value: UInt32 = 0
        for shift in 0..<4 { value |= UInt32(bytes[offset + shift]) << (8 * UInt32(shift)) }
        offset += 4
        return value
    }

    mutating func readCount(max: Int, _ what: String) throws(CodecError) -> Int {
        let count = Int(try readUInt32())
        guard count <= max else { throw .tooLarge("\(what) \(count) > \(max)") }
        return count
    }

    mutating func readBytes(max: Int, _ what: String) throws(CodecError) -> [UInt8] {
        let count = try readCount(max: max, what)
        guard remaining >= count else { throw .truncated }
        defer { offset += count }
        return Array(bytes[offset..<offset + count])
    }

    func finish() throws(CodecError) {
        if remaining != 0 { throw .trailingBytes(remaining) }
    }
}

/// A value with a stable binary encoding (internal plumbing for the public `encode`/`init(decoding:)` pairs).
protocol BinaryCodable {
    func encode(into buffer: inout [UInt8])
    init(reading reader: inout ByteReader) throws(CodecError)
}

extension BinaryCodable {
    static func decodeWhole(_ bytes: [UInt8]) throws(CodecError) -> Self {
        var reader = ByteReader(bytes)
        let value = try Self(reading: &reader)
        try reader.finish()
        return value
    }
}

extension Entry: BinaryCodable {
    /// Appends the entry's encoding (term, index, kind, length-prefixed data) to `buffer`.
    public func encode(into buffer: inout [UInt8]) {
        buffer.appendLE(term)
        buffer.appendLE(index)
        buffer.append(kind.rawValue)
        buffer.appendBytes(data)
    }

    /// Decodes exactly one entry from `bytes`; throws on truncation, unknown kinds or trailing bytes.
    public init(decoding bytes: [UInt8]) throws(CodecError) { self = try .decodeWhole(bytes) }

    init(reading reader: inout ByteReader) throws(CodecError) {
        let term = try reader.readUInt64()
        let index = try reader.readUInt64()
        let tag = try reader.readUInt8()
        guard let kind = EntryKind(rawValue: tag) else { throw .unknownTag(tag) }
        let data = try reader.readBytes(max: Limits.entryDataBytesMax, "entry data")
        self.init(term: term, index: index, kind: kind, data: data)
    }
}

extension HardState: BinaryCodable {
    /// Appends the 24-byte encoding (term, vote, commit).
    public func encode(into buffer: inout [UInt8]) {
        buffer.appendLE(term)
        buffer.appendLE(vote)
        buffer.appendLE(commit)
    }

    /// Decodes exactly one hard state from `bytes`.
    public init(decoding bytes: [UInt8]) throws(CodecError) { self = try .decodeWhole(bytes) }

    init(reading reader: inout ByteReader) throws(CodecError) {
        self.init(term: try reader.readUInt64(), vote: try reader.readUInt64(), commit: try reader.readUInt64())
    }
}

extension ConfState: BinaryCodable {
    /// Appends the encoding (voters, learners, then the addresses as (id, UTF-8 bytes) in id order).
    public func encode(into buffer: inout [UInt8]) {
        for list in [voters, learners] {
            buffer.appendLE(UInt32(list.count))
            for id in list { buffer.appendLE(id) }
        }
        buffer.appendLE(UInt32(addresses.count))
        for id in addresses.keys.sorted() {
            buffer.appendLE(id)
            buffer.appendBytes(Array(addresses[id]!.utf8))
        }
    }

    /// Decodes exactly one membership from `bytes`.
    public init(decoding bytes: [UInt8]) throws(CodecError) { self = try .decodeWhole(bytes) }

    init(reading reader: inout ByteReader) throws(CodecError) {
        var lists: [[NodeID]] = []
        for what in ["voters", "learners"] {
            let count = try reader.readCount(max: Limits.membersMax, what)
            var list: [NodeID] = []
            for _ in 0..<count { list.append(try reader.readUInt64()) }
            lists.append(list)
        }
        guard Set(lists[0]).isDisjoint(with: lists[1]), Set(lists[0]).count == lists[0].count,
            Set(lists[1]).count == lists[1].count
        else { throw .tooLarge("membership lists overlap or repeat") }
        let members = Set(lists[0] + lists[1])
        var addresses: [NodeID: String] = [:]
        let count = try reader.readCount(max: Limits.membersMax, "addresses")
        for _ in 0..<count {
            let id = try reader.readUInt64()
            let bytes = try reader.readBytes(max: Limits.addressBytesMax, "address")
            guard members.contains(id), addresses[id] == nil, let address = String(validating: bytes, as: UTF8.self)
            else { throw .tooLarge("address of a non-member, repeated or not UTF-8 (node \(id))") }
            addresses[id] = address
        }
        self.init(voters: lists[0], learners: lists[1], addresses: addresses)
    }
}

extension SnapshotMetadata: BinaryCodable {
    /// Appends the encoding (index, term, membership).
    public func encode(into buffer: inout [UInt8]) {
        buffer.appendLE(index)
        buffer.appendLE(term)
        confState.encode(into: &buffer)
    }

    /// Decodes exactly one snapshot metadata from `bytes`.
    public init(decoding bytes: [UInt8]) throws(CodecError) { self = try .decodeWhole(bytes) }

    init(reading reader: inout ByteReader) throws(CodecError) {
        self.init(index: try reader.readUInt64(), term: try reader.readUInt64(),
            confState: try ConfState(reading: &reader))
    }
}

extension ConfChangeRecord: BinaryCodable {
    /// Appends the encoding (change tag, node id, resulting membership).
    public func encode(into buffer: inout [UInt8]) {
        switch change {
        case .addLearner(let id): buffer.append(0); buffer.appendLE(id)
        case .promoteLearner(let id): buffer.append(1); buffer.appendLE(id)
        case .removeNode(let id): buffer.append(2); buffer.appendLE(id)
        }
        confState.encode(into: &buffer)
    }

    /// Decodes exactly one record from `bytes` (the data of a `.confChange` entry).
    public init(decoding bytes: [UInt8]) throws(CodecError) { self = try .decodeWhole(bytes) }

    init(reading reader: inout ByteReader) throws(CodecError) {
        let tag = try reader.readUInt8()
        let id = try reader.readUInt64()
        let change: ConfChange
        switch tag {
        case 0: change = .addLearner(id)
        case 1: change = .promoteLearner(id)
        case 2: change = .removeNode(id)
        default: throw .unknownTag(tag)
        }
        self.init(change: change, confState: try ConfState(reading: &reader))
    }
}

extension Message: BinaryCodable {
    /// Appends the encoding: from, to, term, a kind tag, then the kind's fields.
    public func encode(into buffer: inout [UInt8]) {
        buffer.appendLE(from)
        buffer.appendLE(to)
        buffer.appendLE(term)
        switch kind {
        case .append(let prevIndex, let prevTerm, let entries, let commit):
            buffer.append(0)
            buffer.appendLE(prevIndex)
            buffer.appendLE(prevTerm)
            buffer.appendLE(commit)
            buffer.appendLE(UInt32(entries.count))
            for entry in entries { entry.encode(into: &buffer) }
        case .appendAccepted(let matchIndex):
            buffer.append(1)
            buffer.appendLE(matchIndex)
        case .appendRejected(let rejectedIndex, let hintIndex, let hintTerm):
            buffer.append(2)
            buffer.appendLE(rejectedIndex)
            buffer.appendLE(hintIndex)
            buffer.appendLE(hintTerm)
        case .voteRequest(let preVote, let lastIndex, let lastTerm, let transfer):
            buffer.append(3)
            buffer.appendBool(preVote)
            buffer.appendLE(lastIndex)
            buffer.appendLE(lastTerm)
            buffer.appendBool(transfer)
        case .voteResponse(let preVote, let granted):
            buffer.append(4)
            buffer.appendBool(preVote)
            buffer.appendBool(granted)
        case .heartbeat(let commit, let readRound):
            buffer.append(5)
            buffer.appendLE(commit)
            buffer.appendLE(readRound)
        case .heartbeatResponse(let readRound):
            buffer.append(6)
            buffer.appendLE(readRound)
        case .snapshotChunk(let metadata, let offset, let totalBytes, let data):
            buffer.append(7)
            metadata.encode(into: &buffer)
            buffer.appendLE(offset)
            buffer.appendLE(totalBytes)
            buffer.appendBytes(data)
        case .snapshotAck(let index, let nextOffset):
            buffer.append(8)
            buffer.appendLE(index)
            buffer.appendLE(nextOffset)
        case .timeoutNow:
            buffer.append(9)
        case .readIndexRequest(let context):
            buffer.append(10)
            buffer.appendLE(context)
        case .readIndexResponse(let context, let index):
            buffer.append(11)
            buffer.appendLE(context)
            buffer.appendLE(index)
        }
    }

    /// Decodes exactly one message from `bytes`; throws on any malformed input, never traps.
    public init(decoding bytes: [UInt8]) throws(CodecError) { self = try .decodeWhole(bytes) }

    init(reading reader: inout ByteReader) throws(CodecError) {
        let from = try reader.readUInt64()
        let to = try reader.readUInt64()
        let term = try reader.readUInt64()
        let tag = try reader.readUInt8()
        let kind: Kind
        switch tag {
        case 0:
            let prevIndex = try reader.readUInt64()
            let prevTerm = try reader.readUInt64()
            let commit = try reader.readUInt64()
            let count = try reader.readCount(max: Limits.entriesPerMessageMax, "entries")
            var entries: [Entry] = []
            entries.reserveCapacity(min(count, 1024))
            for _ in 0..<count { entries.append(try Entry(reading: &reader)) }
            kind = .append(prevIndex: prevIndex, prevTerm: prevTerm, entries: entries, commit: commit)
        case 1:
            kind = .appendAccepted(matchIndex: try reader.readUInt64())
        case 2:
            kind = .appendRejected(
                rejectedIndex: try reader.readUInt64(), hintIndex: try reader.readUInt64(),
                hintTerm: try reader.readUInt64())
        case 3:
            kind = .voteRequest(
                preVote: try reader.readBool(), lastIndex: try reader.readUInt64(), lastTerm: try reader.readUInt64(),
                leadershipTransfer: try reader.readBool())
        case 4:
            kind = .voteResponse(preVote: try reader.readBool(), granted: try reader.readBool())
        case 5:
            kind = .heartbeat(commit: try reader.readUInt64(), readRound: try reader.readUInt64())
        case 6:
            kind = .heartbeatResponse(readRound: try reader.readUInt64())
        case 7:
            let metadata = try SnapshotMetadata(reading: &reader)
            let offset = try reader.readUInt64()
            let total = try reader.readUInt64()
            let data = try reader.readBytes(max: Limits.messageBytesMax, "snapshot chunk")
            kind = .snapshotChunk(metadata: metadata, offset: offset, totalBytes: total, data: data)
        case 8:
            kind = .snapshotAck(index: try reader.readUInt64(), nextOffset: try reader.readUInt64())
        case 9:
            kind = .timeoutNow
        case 10:
            kind = .readIndexRequest(context: try reader.readUInt64())
        case 11:
            kind = .readIndexResponse(context: try reader.readUInt64(), index: try reader.readUInt64())
        default:
            throw .unknownTag(tag)
        }
        self.init(from: from, to: to, term: term, kind: kind)
    }
}

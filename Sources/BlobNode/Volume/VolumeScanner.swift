import ZlibCRC
import BlobContract

/// How the valid part of a volume ends before the end of its file.
enum TornTail: Equatable, Sendable {
    /// Fewer than `RecordHeader.size` bytes after the last record.
    case partialHeader
    /// A valid header whose payload runs past the end of the file.
    case partialPayload
    /// The last record's checksum does not match (its bytes were not all written).
    case badChecksum
    /// Bytes that contain no valid header up to the end of the file (for example zeros).
    case garbage
}

/// The result of scanning one volume file.
struct ScanOutcome: Equatable, Sendable {
    /// The offset after the last record that is followed only by valid records (or nothing).
    var validEndOffset: UInt64
    var fileSize: UInt64
    /// Records skipped in the middle of the volume: bad record CRC, or a bad header resynchronised past.
    var corruptRecordCount: Int
    var tornTail: TornTail?
}

/// Reads a volume file front to back through a fixed window (never the whole file in memory), hands each
/// valid record to `visit`, skips corrupt records in the middle, and reports a torn tail. Blocking.
struct VolumeScanner: ~Copyable {
    private let file: VolumeFile
    private let fileSize: UInt64
    private let window: UnsafeMutableRawBufferPointer
    private var windowOffset: UInt64 = 0
    private var windowCount = 0
    /// Bytes read per window refill: the whole window when payloads are checked (sequential reading of
    /// everything), a small read when only headers are wanted (so large payloads are skipped, not read).
    private var readAheadBytes = Limits.scanBufferBytes

    init(file: VolumeFile, fileSize: UInt64) {
        self.file = file
        self.fileSize = fileSize
        self.window = .allocate(byteCount: Limits.scanBufferBytes, alignment: 16)
    }

    deinit { self.window.deallocate() }

    /// Scans the whole file. With `verifyPayloads` every record CRC is checked (start-up); without, only the
    /// headers are (compaction, which checks each record when it reads it for copying).
    mutating func scan(
        verifyPayloads: Bool, visit: (RecordHeader, UInt64) throws -> Void
    ) throws -> ScanOutcome {
        self.readAheadBytes = verifyPayloads ? Limits.scanBufferBytes : Limits.headerScanReadAheadBytes
        var offset: UInt64 = 0
        var corrupt = 0
        while offset < self.fileSize {
            if self.fileSize - offset < UInt64(RecordHeader.size) {
                return ScanOutcome(
                    validEndOffset: offset, fileSize: self.fileSize, corruptRecordCount: corrupt,
                    tornTail: .partialHeader)
            }
            guard case .success(let header) = RecordHeader.decode(try self.bytes(at: offset, count: RecordHeader.size))
            else {
                guard let next = try self.nextHeaderOffset(after: offset) else {
                    return ScanOutcome(
                        validEndOffset: offset, fileSize: self.fileSize, corruptRecordCount: corrupt, tornTail: .garbage
                    )
                }
                corrupt += 1
                offset = next
                continue
            }
            let end = offset + header.recordBytes
            if end > self.fileSize {
                return ScanOutcome(
                    validEndOffset: offset, fileSize: self.fileSize, corruptRecordCount: corrupt,
                    tornTail: .partialPayload)
            }
            if verifyPayloads, try !self.payloadMatches(header, at: offset) {
                if end == self.fileSize {
                    return ScanOutcome(
                        validEndOffset: offset, fileSize: self.fileSize, corruptRecordCount: corrupt,
                        tornTail: .badChecksum)
                }
                corrupt += 1
                offset = end
                continue
            }
            try visit(header, offset)
            offset = end
        }
        return ScanOutcome(validEndOffset: offset, fileSize: self.fileSize, corruptRecordCount: corrupt, tornTail: nil)
    }

    /// The first offset after `offset` holding a valid header whose record fits in the file.
    private mutating func nextHeaderOffset(after offset: UInt64) throws -> UInt64? {
        var candidate = offset + 1
        while candidate + UInt64(RecordHeader.size) <= self.fileSize {
            let raw = try self.bytes(at: candidate, count: RecordHeader.size)
            if raw.loadUnaligned(as: UInt32.self) == RecordHeader.magic.littleEndian,
                case .success(let header) = RecordHeader.decode(raw),
                candidate + header.recordBytes <= self.fileSize
            {
                return candidate
            }
            candidate += 1
        }
        return nil
    }

    private mutating func payloadMatches(_ header: RecordHeader, at offset: UInt64) throws -> Bool {
        let prefix = try self.bytes(at: offset, count: RecordHeader.recordCRCPrefixBytes)
        var crc = crc32Update(0, prefix)
        var position = offset + UInt64(RecordHeader.size)
        var remaining = Int(header.payloadLength)
        while remaining > 0 {
            let piece = min(remaining, Limits.scanBufferBytes)
            crc = crc32Update(crc, try self.bytes(at: position, count: piece))
            position += UInt64(piece)
            remaining -= piece
        }
        return crc == header.recordCRC
    }

    /// `count` bytes at `offset`, valid until the next call. Precondition: they lie inside the file.
    private mutating func bytes(at offset: UInt64, count: Int) throws -> UnsafeRawBufferPointer {
        precondition(count <= self.window.count, "scan read of \(count) bytes > window \(self.window.count)")
        precondition(offset + UInt64(count) <= self.fileSize, "scan read \(offset)+\(count) past \(self.fileSize)")
        let windowEnd = self.windowOffset + UInt64(self.windowCount)
        if offset < self.windowOffset || offset + UInt64(count) > windowEnd {
            let wanted = Int(min(UInt64(max(count, self.readAheadBytes)), self.fileSize - offset))
            let got = try self.file.read(
                into: UnsafeMutableRawBufferPointer(rebasing: self.window[0..<wanted]), at: offset)
            guard got >= count else {
                throw SystemCallError(
                    operation: "pread (file shrank during scan)", path: self.file.path, errorNumber: 0)
            }
            self.windowOffset = offset
            self.windowCount = got
        }
        let start = Int(offset - self.windowOffset)
        return UnsafeRawBufferPointer(rebasing: self.window[start..<(start + count)])
    }
}

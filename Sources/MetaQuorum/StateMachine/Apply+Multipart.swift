import Crypto
import MetaContract

/// The inputs of a CompleteMultipartUpload command.
struct CompleteRequest {
    var bucket: String
    var key: String
    var uploadID: String
    var parts: [CompletedPart]
    var precondition: WritePrecondition
    var minimumPartSizeBytes: Int64
    var versionID: String
}

extension MetaStateMachine {
    func applyCreateUpload(_ upload: UploadRecord, envelope: CommandEnvelope) throws {
        _ = try existingBucket(upload.bucket)
        guard !upload.uploadID.isEmpty, !upload.key.isEmpty else {
            throw MetaError.invalidArgument("empty upload id or key")
        }
        let taken = try database.firstRow("SELECT 1 FROM uploads WHERE upload_id = ?", [.string(upload.uploadID)]) {
            _ in true
        }
        if taken == true { throw MetaError.internalFault("upload id \(upload.uploadID) is in use") }
        try checkLockSettings(upload)
        try database.run(
            "INSERT INTO uploads(upload_id, bucket, key, initiated_time, record) VALUES (?, ?, ?, ?, ?)",
            [
                .string(upload.uploadID), .string(upload.bucket), .string(upload.key), .int(upload.initiatedTime),
                .bytes(RecordBlob.encode { $0.write(upload) }),
            ])
    }

    func applyPutPart(
        _ proposed: PartRecord, bucket: String, key: String, uploadID: String, startedTime: Int64,
        envelope: CommandEnvelope
    ) throws {
        var part = proposed
        part.lastModifiedTime = envelope.time
        _ = try existingBucket(bucket)
        try checkWriteAge(startedTime: startedTime, time: envelope.time)
        guard try uploadRecord(bucket: bucket, key: key, uploadID: uploadID) != nil else {
            throw MetaError.noSuchUpload
        }
        guard MetaLimits.partNumberRange.contains(part.partNumber) else {
            throw MetaError.invalidArgument("part number \(part.partNumber) outside \(MetaLimits.partNumberRange)")
        }
        try checkChunkSizes(part.chunks, total: part.sizeBytes)
        let replaced = try database.firstRow(
            "SELECT record FROM parts WHERE upload_id = ? AND part_number = ?",
            [.string(uploadID), .int(Int64(part.partNumber))]
        ) { $0.bytes(0) }
        let old = try replaced.map { blob in
            try RecordBlob.decode(blob) { reader throws(MetaCodecError) in try reader.readPart() }
        }
        try adjustUsage(bucket: bucket, bytes: part.sizeBytes - (old?.sizeBytes ?? 0), objects: 0, check: true)
        try reference(part.chunks)
        try database.run(
            "INSERT OR REPLACE INTO parts(upload_id, part_number, size_bytes, etag, record) VALUES (?, ?, ?, ?, ?)",
            [
                .string(uploadID), .int(Int64(part.partNumber)), .int(part.sizeBytes), .string(part.etag),
                .bytes(RecordBlob.encode { $0.write(part) }),
            ])
        if let old { try release(old.chunks, time: envelope.time) }
    }

    func applyCompleteUpload(_ request: CompleteRequest, envelope: CommandEnvelope) throws -> ObjectRecord {
        let bucket = try existingBucket(request.bucket)
        guard let upload = try uploadRecord(bucket: request.bucket, key: request.key, uploadID: request.uploadID) else {
            if let completed = try completedVersion(request) { return completed }
            throw MetaError.noSuchUpload
        }
        guard !request.parts.isEmpty else { throw MetaError.invalidArgument("no parts named") }
        for (earlier, later) in zip(request.parts, request.parts.dropFirst())
        where later.partNumber <= earlier.partNumber {
            throw MetaError.invalidPartOrder
        }
        let stored = try partRecords(uploadID: request.uploadID)
        let chosen = try choose(request.parts, from: stored, minimumPartSizeBytes: request.minimumPartSizeBytes)
        let current = try objectRecord(bucket: request.bucket, key: request.key)
        try check(request.precondition, current: current)
        let versioning = try bucketVersioning(request.bucket)
        // The initiator writes the object; its owner and ACL follow the ownership controls at completion.
        let (owner, acl) = ObjectOwnershipRule.decide(
            writer: upload.initiator, requested: upload.acl, bucket: bucket)
        let object = try lockedForWrite(ObjectRecord(
            bucket: request.bucket, key: request.key,
            versionID: Self.storedVersionID(proposed: request.versionID, versioning: versioning),
            sizeBytes: try Self.totalSize(chosen), etag: try multipartETag(chosen),
            lastModifiedTime: envelope.time, headers: upload.headers, userMetadata: upload.userMetadata,
            checksum: nil, chunks: chosen.flatMap(\.chunks), partSizes: chosen.map(\.sizeBytes),
            owner: owner, acl: acl), time: envelope.time)
        // The parts are already counted: the net growth is the object minus every part (and the version it
        // replaces, if any).
        let partBytes = stored.reduce(Int64(0)) { $0 + $1.sizeBytes }
        try storeNewVersion(object, current: current, versioning: versioning, time: envelope.time, checkQuota: true,
                            quotaCreditBytes: partBytes, completedUpload: request.uploadID)
        // The object now holds its own references; dropping every part's releases exactly the unused ones.
        try removeUpload(request.uploadID, bucket: request.bucket, parts: stored, time: envelope.time)
        return object
    }

    /// A repeated completion: the upload is gone, but the current version of its key is the one this
    /// upload's completion made (the proposer derives `versionID` from the upload id, so a retry carries the
    /// same id; a `null` version, of a bucket not versioning, by `objects.completed_upload`) and the named
    /// parts give its ETag. S3 answers such a retry with the object, not NoSuchUpload; once the key
    /// is overwritten or deleted, the upload is simply unknown.
    private func completedVersion(_ request: CompleteRequest) throws -> ObjectRecord? {
        guard let current = try objectRecord(bucket: request.bucket, key: request.key) else { return nil }
        let completer = current.versionID == nullVersionID
            ? try completedUpload(bucket: request.bucket, key: request.key) : nil
        let completedHere = completer == request.uploadID
        guard current.versionID == request.versionID || completedHere, !current.partSizes.isEmpty,
            let etag = Self.multipartETag(request.parts.map(\.etag)), etag == current.etag
        else { return nil }
        return current
    }

    func applyAbortUpload(bucket: String, key: String, uploadID: String, envelope: CommandEnvelope) throws {
        _ = try existingBucket(bucket)
        guard try uploadRecord(bucket: bucket, key: key, uploadID: uploadID) != nil else {
            throw MetaError.noSuchUpload
        }
        try removeUpload(uploadID, bucket: bucket, parts: try partRecords(uploadID: uploadID), time: envelope.time)
    }

    /// Drops an upload and its parts: every part's chunks lose a reference (garbage when it was the last)
    /// and the bucket's usage shrinks by the parts' bytes.
    func removeUpload(_ uploadID: String, bucket: String, parts: [PartRecord], time: Int64) throws {
        try adjustUsage(bucket: bucket, bytes: -parts.reduce(Int64(0)) { $0 + $1.sizeBytes }, objects: 0, check: false)
        for part in parts { try release(part.chunks, time: time) }
        try database.run("DELETE FROM parts WHERE upload_id = ?", [.string(uploadID)])
        try database.run("DELETE FROM uploads WHERE upload_id = ?", [.string(uploadID)])
    }

    /// The stored parts named by `requested` (already in ascending order), checking ETags and sizes.
    private func choose(_ requested: [CompletedPart], from stored: [PartRecord], minimumPartSizeBytes: Int64)
        throws -> [PartRecord]
    {
        var byNumber: [Int: PartRecord] = [:]
        for part in stored { byNumber[part.partNumber] = part }
        var chosen: [PartRecord] = []
        chosen.reserveCapacity(requested.count)
        for (position, wanted) in requested.enumerated() {
            guard let part = byNumber[wanted.partNumber],
                Self.normalizedETag(wanted.etag) == Self.normalizedETag(part.etag)
            else { throw MetaError.invalidPart(partNumber: wanted.partNumber) }
            if position < requested.count - 1 && part.sizeBytes < minimumPartSizeBytes {
                throw MetaError.entityTooSmall(partNumber: wanted.partNumber)
            }
            chosen.append(part)
        }
        return chosen
    }

    private static func totalSize(_ parts: [PartRecord]) throws -> Int64 {
        var total: Int64 = 0
        for part in parts {
            let (next, overflow) = total.addingReportingOverflow(part.sizeBytes)
            guard !overflow else { throw MetaError.invalidArgument("object size overflows") }
            total = next
        }
        return total
    }

    static func normalizedETag(_ etag: String) -> String {
        var text = Substring(etag)
        if text.count >= 2 && text.hasPrefix("\"") && text.hasSuffix("\"") { text = text.dropFirst().dropLast() }
        return text.lowercased()
    }

    /// S3's multipart ETag: hex MD5 of the concatenated binary part MD5s, then `-` and the part count.
    private func multipartETag(_ parts: [PartRecord]) throws -> String {
        for part in parts {
            guard let binary = Self.hexBytes(part.etag), binary.count == 16 else {
                throw MetaError.invalidPart(partNumber: part.partNumber)
            }
        }
        guard let etag = Self.multipartETag(parts.map(\.etag)) else {
            throw MetaError.internalFault("multipart ETag of checked part ETags")
        }
        return etag
    }

    /// The multipart ETag of parts with these ETags (unquoted MD5 hex), or nil if one is not an MD5.
    static func multipartETag(_ partETags: [String]) -> String? {
        var digests: [UInt8] = []
        digests.reserveCapacity(partETags.count * 16)
        for etag in partETags {
            guard let binary = hexBytes(normalizedETag(etag)), binary.count == 16 else { return nil }
            digests.append(contentsOf: binary)
        }
        let digest = Insecure.MD5.hash(data: digests)
        return digest.map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }.joined() + "-\(partETags.count)"
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    private static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return digit - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return digit - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return digit - UInt8(ascii: "A") + 10
        default: return nil
        }
    }
}

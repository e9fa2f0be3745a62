import Testing

@testable import MetaQuorum

@Suite("Command codec")
struct CommandCodecTests {
    // Goal: every command kind survives encode → decode unchanged. Method: 3000 random commands (seeded),
    // covering every case, extreme integers and awkward text.
    @Test func randomCommandsRoundTrip() throws {
        var random = RandomValues(seed: 1)
        var kindsSeen = Set<UInt8>()
        for _ in 0..<3000 {
            let command = random.command()
            kindsSeen.insert(command.kind)
            let decoded = try MetaCommand(decoding: command.encode())
            #expect(decoded == command)
        }
        #expect(kindsSeen.count == 30)
    }

    // Goal: the RPC server's log reads the kind and request id at the head of any encoded command without
    // decoding the rest; bytes that do not start like a command give nil.
    @Test func headerPeekMatchesTheCommand() throws {
        var random = RandomValues(seed: 3)
        for _ in 0..<500 {
            let command = random.command()
            let header = try #require(MetaCommand.peekHeader(command.encode()))
            #expect(header.kind == command.kind)
            #expect(header.commandID == command.envelope.commandID)
        }
        #expect(MetaCommand.peekHeader([]) == nil)
        #expect(MetaCommand.peekHeader([0xEE, 5, 1, 2]) == nil)
    }

    // Goal: results round-trip too, including every MetaError case.
    @Test func randomResultsRoundTrip() throws {
        var random = RandomValues(seed: 2)
        for _ in 0..<2000 {
            let result = random.result()
            #expect(try MetaCommandResult(decoding: result.encode()) == result)
        }
    }

    // Goal: a truncated command or result throws, never crashes or decodes to something. Method: every
    // proper prefix of 300 random encodings.
    @Test func truncatedInputThrows() {
        var random = RandomValues(seed: 3)
        for _ in 0..<300 {
            let bytes = random.command().encode()
            for length in 0..<bytes.count {
                #expect(throws: MetaCodecError.self) { try MetaCommand(decoding: Array(bytes[..<length])) }
            }
            let resultBytes = random.result().encode()
            for length in 0..<resultBytes.count {
                #expect(throws: MetaCodecError.self) { try MetaCommandResult(decoding: Array(resultBytes[..<length])) }
            }
        }
    }

    // Goal: trailing garbage after a complete value is refused.
    @Test func trailingBytesThrow() {
        let bytes = MetaCommand.deleteUser(CommandEnvelope(commandID: "r", requester: "u", time: 1), name: "x", heir: nil).encode()
        #expect(throws: MetaCodecError.trailingBytes(1)) { try MetaCommand(decoding: bytes + [0]) }
    }

    // Goal: arbitrary and corrupted bytes never crash the decoder (the codec reads committed log entries, so
    // a bug or corruption must surface as an error). Method: random byte strings and single-byte mutations
    // of valid encodings; whatever decodes must re-encode to a decodable equal value.
    @Test func garbageNeverCrashes() throws {
        var random = RandomValues(seed: 4)
        for round in 0..<20_000 {
            var bytes: [UInt8]
            if round % 2 == 0 {
                bytes = (0..<random.int(0...64)).map { _ in UInt8.random(in: 0...255, using: &random.rng) }
                if bytes.count > 1 && random.bool() { bytes[0] = MetaCommand.formatVersion }
            } else {
                bytes = random.command().encode()
                let position = random.int(0...(bytes.count - 1))
                bytes[position] = UInt8.random(in: 0...255, using: &random.rng)
            }
            if let command = try? MetaCommand(decoding: bytes) {
                #expect(try MetaCommand(decoding: command.encode()) == command)
            }
            _ = try? MetaCommandResult(decoding: bytes)
        }
    }

    // Goal: a huge element count in a short input is refused before allocation.
    @Test func hugeCountIsRefused() {
        var writer = ByteWriter(capacity: 16)
        writer.writeByte(MetaCommand.formatVersion)
        writer.writeByte(6)  // deleteObjects
        writer.writeString("r")
        writer.writeString("u")
        writer.writeInt(Int64(0))
        writer.writeBool(false)  // no bucket access stamp (format 4)
        writer.writeString("bucket")
        writer.writeVarint(UInt64.max)
        #expect(throws: MetaCodecError.self) { try MetaCommand(decoding: writer.bytes) }
    }

    // Goal: a format-1 deleteBucket (written before uploads were aborted with their bucket) still decodes,
    // with the format-1 meaning: uploads keep the bucket non-empty. Method: the format-1 bytes, spelled out.
    @Test func formatOneDeleteBucketDecodes() throws {
        var writer = ByteWriter(capacity: 32)
        writer.writeByte(1)
        writer.writeByte(4)  // deleteBucket
        writer.writeString("r")
        writer.writeString("alice")
        writer.writeInt(Int64(7))
        writer.writeString("photos")
        let envelope = CommandEnvelope(commandID: "r", requester: "alice", time: 7)
        #expect(
            try MetaCommand(decoding: writer.bytes)
                == .deleteBucket(envelope, name: "photos", abortingUploads: false))
        // The same fields in format 2 need the flag; without it the input is truncated.
        var current = writer.bytes
        current[0] = 2
        #expect(throws: MetaCodecError.self) { try MetaCommand(decoding: current) }
        #expect(
            try MetaCommand(decoding: MetaCommand.deleteBucket(envelope, name: "photos", abortingUploads: true).encode())
                == .deleteBucket(envelope, name: "photos", abortingUploads: true))
    }

    // Goal: the version id of a completed upload is a fixed function of the upload id (it is part of the
    // replicated protocol: every proposer, in every version, must derive the same one).
    // Python: hashlib.sha256(b"u1").hexdigest()[:32]
    @Test func completedVersionIDIsStable() {
        #expect(MetaCommand.completedVersionID(uploadID: "u1") == "bb82030dbc2bcaba32a90bf2e207a84a")
        #expect(MetaCommand.completedVersionID(uploadID: "u2") != MetaCommand.completedVersionID(uploadID: "u1"))
    }

    // Goal: the version byte is checked.
    @Test func unknownVersionThrows() {
        var bytes = MetaCommand.createBucket(CommandEnvelope(commandID: "r", requester: "u", time: 1), name: "b")
            .encode()
        bytes[0] = 99
        #expect(throws: MetaCodecError.unsupportedVersion(99)) { try MetaCommand(decoding: bytes) }
        bytes[0] = 0
        #expect(throws: MetaCodecError.unsupportedVersion(0)) { try MetaCommand(decoding: bytes) }
    }

    // Goal: the tagging and CORS kinds (40–42) exist from format 4 only: the same bytes under format 3 are
    // refused (an older proposer never wrote them), while a format-3 command of an older kind still decodes.
    @Test func taggingKindsNeedFormatFour() throws {
        let envelope = CommandEnvelope(commandID: "r", requester: "u", time: 1)
        for command in [
            MetaCommand.putObjectTagging(envelope, bucket: "b", key: "k", versionID: nil, tags: "a=1", expected: nil),
            .setBucketTagging(envelope, bucket: "b", tags: nil), .setBucketCORS(envelope, bucket: "b", cors: "<x/>"),
        ] {
            var bytes = command.encode()
            #expect(bytes[0] == MetaCommand.formatVersion)
            #expect(try MetaCommand(decoding: bytes) == command)
            bytes[0] = 3
            #expect(throws: MetaCodecError.invalidTag(command.kind)) { try MetaCommand(decoding: bytes) }
        }
        var older = ByteWriter(capacity: 32)
        older.writeByte(3)
        older.writeByte(22)  // setBucketVersioning, spelled out in format 3 (no access stamp)
        older.writeString("r")
        older.writeString("u")
        older.writeInt(Int64(1))
        older.writeString("b")
        older.writeByte(BucketVersioning.enabled.rawValue)
        #expect(try MetaCommand(decoding: older.bytes) == .setBucketVersioning(envelope, bucket: "b", state: .enabled))
    }

    // Goal: the object lock kinds (62–64) exist from format 5 only, and format-4 commands of the kinds that
    // gained a trailing field in format 5 (createBucket, deleteVersions) still decode, with no object lock
    // and no bypass.
    @Test func objectLockNeedsFormatFive() throws {
        let envelope = CommandEnvelope(commandID: "r", requester: "u", time: 1)
        for command in [
            MetaCommand.setObjectLockConfiguration(envelope, bucket: "b", configuration: ObjectLockConfiguration()),
            .putObjectRetention(envelope, bucket: "b", key: "k", versionID: nil,
                                retention: ObjectRetention(mode: .governance, retainUntil: 5), bypassGovernance: true),
            .putObjectLegalHold(envelope, bucket: "b", key: "k", versionID: "v", legalHold: true),
        ] {
            var bytes = command.encode()
            #expect(bytes[0] == 5)
            #expect(try MetaCommand(decoding: bytes) == command)
            bytes[0] = 4
            #expect(throws: MetaCodecError.invalidTag(command.kind)) { try MetaCommand(decoding: bytes) }
        }
        func formatFour(_ kind: UInt8, _ fields: (inout ByteWriter) -> Void) -> [UInt8] {
            var writer = ByteWriter(capacity: 64)
            writer.writeByte(4)
            writer.writeByte(kind)
            writer.writeString("r")
            writer.writeString("u")
            writer.writeInt(Int64(1))
            writer.writeBool(false)  // no bucket access stamp
            fields(&writer)
            return writer.bytes
        }
        let create = formatFour(3) { writer in
            writer.writeString("b")
            writer.write(AccessControlList?.none)
            writer.write(ObjectOwnership?.none)
        }
        #expect(try MetaCommand(decoding: create) == .createBucket(envelope, name: "b", acl: nil, ownership: nil))
        let delete = formatFour(21) { writer in
            writer.writeString("b")
            writer.writeCount(1)
            writer.writeString("k")
            writer.write(String?("v"))
            writer.writeString("")
        }
        #expect(try MetaCommand(decoding: delete) == .deleteVersions(
            envelope, bucket: "b", targets: [DeleteTarget(key: "k", versionID: "v", markerVersionID: "")],
            bypassGovernance: false))
    }
}

import CZlib

/// CRC-32 (IEEE 802.3, zlib's `crc32`, hardware-accelerated where zlib is) over raw bytes, continuing from
/// `crc` (0 to start). The one wrapper every part of Silo uses: the WAL, volume records, erasure shards and
/// S3's `x-amz-checksum-crc32`. zlib takes a 32-bit length, so inputs are fed in pieces of at most
/// `crc32PieceBytesMax` (a snapshot or a part may exceed 4 GiB, where `UInt32(count)` would trap). Pure CPU
/// work: safe on any thread.
public func crc32Update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
    guard var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return crc }
    var remaining = bytes.count
    var value = UInt(crc)
    while remaining > 0 {
        let piece = min(remaining, crc32PieceBytesMax)
        value = CZlib.crc32(value, base, UInt32(piece))
        base += piece
        remaining -= piece
    }
    return UInt32(truncatingIfNeeded: value)
}

/// `crc32Update` over a byte array slice.
public func crc32Update(_ crc: UInt32, _ bytes: ArraySlice<UInt8>) -> UInt32 {
    bytes.withUnsafeBytes { crc32Update(crc, $0) }
}

/// The largest piece handed to zlib at once: well inside its 32-bit length.
public let crc32PieceBytesMax = 1 << 30

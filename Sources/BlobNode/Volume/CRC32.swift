import CZlib

/// CRC-32 (IEEE, zlib's `crc32`) over raw bytes, continuing from `crc` (0 to start). zlib takes a 32-bit
/// length, so large inputs are fed in pieces. Pure CPU work: safe on any thread.
func crc32Update(_ crc: UInt32, _ bytes: UnsafeRawBufferPointer) -> UInt32 {
    guard var base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return crc }
    var remaining = bytes.count
    var value = UInt(crc)
    let pieceBytesMax = 1 << 30
    while remaining > 0 {
        let piece = min(remaining, pieceBytesMax)
        value = CZlib.crc32(value, base, UInt32(piece))
        base += piece
        remaining -= piece
    }
    return UInt32(truncatingIfNeeded: value)
}

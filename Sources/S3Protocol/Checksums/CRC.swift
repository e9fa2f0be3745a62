import ZlibCRC

// Table-driven reflected CRCs. CRC32 uses zlib (hardware-accelerated where zlib is); CRC32C and CRC64/NVME
// use slicing-by-8 tables built once on first use (Swift globals are initialized lazily and thread-safely).

/// CRC-32/ISO-HDLC (zlib's `crc32`), reflected polynomial 0xEDB88320.
struct CRC32 {
    var value: UInt32 = 0

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        value = crc32Update(value, bytes)
    }
}

/// CRC-32C (Castagnoli), reflected polynomial 0x82F63B78, init and final XOR 0xFFFFFFFF.
struct CRC32C {
    static let polynomial: UInt32 = 0x82F6_3B78
    /// Eight 256-entry tables, flattened: `tables[k * 256 + i]`.
    static let tables: [UInt32] = makeTables32(polynomial: polynomial)

    /// The running register (already XORed with 0xFFFFFFFF at start; `finalValue` undoes it).
    var register: UInt32 = 0xFFFF_FFFF

    var finalValue: UInt32 { register ^ 0xFFFF_FFFF }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        register = Self.tables.withUnsafeBufferPointer { crc32Slicing8(register, bytes, $0) }
    }
}

/// CRC-64/NVME, reflected polynomial 0x9A6C9329AC4BC9B5, init and final XOR all ones (check value for
/// "123456789": 0xAE8B14860A799888).
struct CRC64NVME {
    static let polynomial: UInt64 = 0x9A6C_9329_AC4B_C9B5
    static let tables: [UInt64] = makeTables64(polynomial: polynomial)

    var register: UInt64 = ~0

    var finalValue: UInt64 { ~register }

    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        register = Self.tables.withUnsafeBufferPointer { crc64Slicing8(register, bytes, $0) }
    }
}

private func makeTables32(polynomial: UInt32) -> [UInt32] {
    var tables = [UInt32](repeating: 0, count: 8 * 256)
    for index in 0..<256 {
        var crc = UInt32(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
        tables[index] = crc
    }
    for slice in 1..<8 {
        for index in 0..<256 {
            let previous = tables[(slice - 1) * 256 + index]
            tables[slice * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
        }
    }
    return tables
}

private func makeTables64(polynomial: UInt64) -> [UInt64] {
    var tables = [UInt64](repeating: 0, count: 8 * 256)
    for index in 0..<256 {
        var crc = UInt64(index)
        for _ in 0..<8 { crc = crc & 1 == 1 ? (crc >> 1) ^ polynomial : crc >> 1 }
        tables[index] = crc
    }
    for slice in 1..<8 {
        for index in 0..<256 {
            let previous = tables[(slice - 1) * 256 + index]
            tables[slice * 256 + index] = (previous >> 8) ^ tables[Int(previous & 0xFF)]
        }
    }
    return tables
}

@inline(__always)
private func crc32Slicing8(_ start: UInt32, _ bytes: UnsafeRawBufferPointer, _ t: UnsafeBufferPointer<UInt32>) -> UInt32 {
    var crc = start
    var offset = 0
    let count = bytes.count
    while offset + 8 <= count {
        let low = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt32.self)) ^ crc
        let high = UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: offset + 4, as: UInt32.self))
        crc = t[7 * 256 + Int(low & 0xFF)] ^ t[6 * 256 + Int((low >> 8) & 0xFF)]
            ^ t[5 * 256 + Int((low >> 16) & 0xFF)] ^ t[4 * 256 + Int(low >> 24)]
            ^ t[3 * 256 + Int(high & 0xFF)] ^ t[2 * 256 + Int((high >> 8) & 0xFF)]
            ^ t[1 * 256 + Int((high >> 16) & 0xFF)] ^ t[Int(high >> 24)]
        offset += 8
    }
    while offset < count {
        crc = (crc >> 8) ^ t[Int((crc ^ UInt32(bytes[offset])) & 0xFF)]
        offset += 1
    }
    return crc
}

@inline(__always)
private func crc64Slicing8(_ start: UInt64, _ bytes: UnsafeRawBufferPointer, _ t: UnsafeBufferPointer<UInt64>) -> UInt64 {
    var crc = start
    var offset = 0
    let count = bytes.count
    while offset + 8 <= count {
        let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) ^ crc
        crc = t[7 * 256 + Int(word & 0xFF)] ^ t[6 * 256 + Int((word >> 8) & 0xFF)]
            ^ t[5 * 256 + Int((word >> 16) & 0xFF)] ^ t[4 * 256 + Int((word >> 24) & 0xFF)]
            ^ t[3 * 256 + Int((word >> 32) & 0xFF)] ^ t[2 * 256 + Int((word >> 40) & 0xFF)]
            ^ t[1 * 256 + Int((word >> 48) & 0xFF)] ^ t[Int(word >> 56)]
        offset += 8
    }
    while offset < count {
        crc = (crc >> 8) ^ t[Int((crc ^ UInt64(bytes[offset])) & 0xFF)]
        offset += 1
    }
    return crc
}

/// `crc32_combine` for any reflected CRC whose init and final XOR are all ones (CRC32, CRC32C, CRC64/NVME):
/// the CRC of A‖B from crc(A), crc(B) and len(B), in O(log len(B)) (zlib's multmodp / x2nmodp method).
struct CRCCombiner {
    let width: Int
    let polynomial: UInt64
    private var powers: [UInt64] = []  // x^(2^k) mod P, reflected, k in 0..<72 (n < 2^64, k starts at 3)

    init(width: Int, polynomial: UInt64) {
        precondition(width == 32 || width == 64, "CRC width \(width)")
        self.width = width
        self.polynomial = polynomial
        var power = UInt64(1) << (width - 2)  // x^1
        for _ in 0..<72 {
            powers.append(power)
            power = multiply(power, power)
        }
    }

    private var topBit: UInt64 { UInt64(1) << (width - 1) }

    /// a(x)·b(x) mod P in reflected representation.
    func multiply(_ a: UInt64, _ b: UInt64) -> UInt64 {
        var m = topBit
        var p: UInt64 = 0
        var b = b
        while true {
            if a & m != 0 {
                p ^= b
                if a & (m - 1) == 0 { break }
            }
            m >>= 1
            b = b & 1 != 0 ? (b >> 1) ^ polynomial : b >> 1
            if m == 0 { break }
        }
        return p
    }

    /// x^(n·2^k) mod P.
    func xPower(_ n: UInt64, _ k: Int) -> UInt64 {
        var p = topBit
        var n = n
        var k = k
        while n != 0 {
            if n & 1 != 0 { p = multiply(powers[k], p) }
            n >>= 1
            k += 1
        }
        return p
    }

    /// crc(A‖B) from crc(A), crc(B) and the byte count of B.
    func combine(_ crcA: UInt64, _ crcB: UInt64, lengthB: UInt64) -> UInt64 {
        multiply(xPower(lengthB, 3), crcA) ^ crcB
    }
}

/// A chunk's name: 128 random bits, never reused.
public typealias ChunkID = UInt128

/// A client-chosen id that makes a command idempotent (16 random bytes as 32 hex digits, say).
public typealias RequestID = String

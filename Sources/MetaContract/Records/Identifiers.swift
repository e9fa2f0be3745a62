/// A chunk's name: 128 random bits, never reused.
public typealias ChunkID = UInt128

/// The id that makes one metadata command idempotent: the state machine answers a command whose id it
/// remembers with the first outcome (`MetaLimits.commandIDRetentionMilliseconds`). Chosen by the proposer,
/// once per command, and reused unchanged by every retry of that command (a gateway uses the request's
/// `x-amz-request-id`; an S3 client's own retry is a new request, so a new command). Empty: not deduplicated.
public typealias CommandID = String

/// The limits of the ring, in one place (checked by `Ring.init`).
enum Limits {
    /// Vnodes in one ring: bounds memory (12 bytes each) and the walk of one placement.
    static let vnodesTotalMax = 4_000_000
    /// Nodes in one ring.
    static let nodesMax = 10_000
    /// Vnodes per unit of weight.
    static let vnodesPerWeightUnitMax = 10_000
}

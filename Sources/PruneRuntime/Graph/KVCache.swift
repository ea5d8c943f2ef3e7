/// The keys and values of one sequence's past positions, per block (keys after RoPE), so that
/// generation computes only the new token.
public final class KVCache: @unchecked Sendable {
    public let layerCount: Int
    /// kvHeads × headDim.
    public let width: Int
    /// Positions held.
    public private(set) var length = 0
    /// Positions room is allocated for (grows on demand).
    public private(set) var capacity: Int
    public let maximum: Int
    private var keys: [UnsafeMutablePointer<Float>]
    private var values: [UnsafeMutablePointer<Float>]

    /// An empty cache for a model; `capacity` positions are allocated now, more on demand up to the
    /// model's context length.
    public convenience init(config: ModelConfig, capacity: Int = 64) {
        self.init(layerCount: config.layerCount, width: config.kvWidth, capacity: capacity, maximum: config.contextLength)
    }

    init(layerCount: Int, width: Int, capacity: Int, maximum: Int) {
        self.layerCount = layerCount
        self.width = width
        self.maximum = maximum
        self.capacity = max(1, min(capacity, maximum))
        keys = (0..<layerCount).map { _ in .allocate(capacity: max(1, min(capacity, maximum)) * width) }
        values = (0..<layerCount).map { _ in .allocate(capacity: max(1, min(capacity, maximum)) * width) }
    }

    deinit {
        for p in keys { p.deallocate() }
        for p in values { p.deallocate() }
    }

    /// Forgets positions from `newLength` on (e.g. to reuse a shared prefix).
    public func truncate(to newLength: Int) {
        length = max(0, min(length, newLength))
    }

    /// Room for `total` positions.
    func reserve(_ total: Int) {
        guard total > capacity else { return }
        let newCapacity = min(maximum, max(total, capacity * 2))
        for l in 0..<layerCount {
            let k = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * width)
            k.update(from: keys[l], count: length * width)
            keys[l].deallocate()
            keys[l] = k
            let v = UnsafeMutablePointer<Float>.allocate(capacity: newCapacity * width)
            v.update(from: values[l], count: length * width)
            values[l].deallocate()
            values[l] = v
        }
        capacity = newCapacity
    }

    /// Writes `rows` new positions (starting at `length`) of block `layer`.
    func store(layer: Int, keys k: UnsafePointer<Float>, ldk: Int, values v: UnsafePointer<Float>, ldv: Int, rows: Int) {
        for r in 0..<rows {
            (keys[layer] + (length + r) * width).update(from: k + r * ldk, count: width)
            (values[layer] + (length + r) * width).update(from: v + r * ldv, count: width)
        }
    }

    func keyValues(layer: Int, count: Int) -> AttentionKernel.KeyValues {
        AttentionKernel.KeyValues(keys: keys[layer], values: values[layer], ld: width, count: count)
    }

    /// Marks `rows` more positions as held (after every block stored them).
    func advance(by rows: Int) { length += rows }
}

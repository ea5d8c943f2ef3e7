import Foundation
import PruneFormats

/// All the weights of a model, loaded from a `TensorStore` and checked against the configuration.
///
/// Matrices stay in their stored form (see `WeightMatrix`). Editors read a matrix with
/// `values(_:layer:)`, replace it in memory with `replace(_:layer:with:)` (the forward then uses the
/// new f32 values) and undo with `restore(_:layer:)`. Not safe to mutate during a forward.
public final class ModelWeights: @unchecked Sendable {
    public let config: ModelConfig
    public let tokenEmbedding: WeightMatrix
    /// GPT-2's learned positions [contextLength, d].
    public let positionEmbedding: WeightMatrix?
    public let outputNorm: NormWeights
    /// The head [vocab, d]: the token embedding itself when tied.
    public let output: WeightMatrix
    public private(set) var layers: [LayerWeights]
    /// Stored names of the matrices (in the file's vocabulary), by canonical name.
    let names: [String: String]
    private var originals: [String: WeightMatrix] = [:]
    let store: TensorStore?

    init(config: ModelConfig, tokenEmbedding: WeightMatrix, positionEmbedding: WeightMatrix?, outputNorm: NormWeights,
         output: WeightMatrix, layers: [LayerWeights], names: [String: String], store: TensorStore?) {
        self.config = config
        self.tokenEmbedding = tokenEmbedding
        self.positionEmbedding = positionEmbedding
        self.outputNorm = outputNorm
        self.output = output
        self.layers = layers
        self.names = names
        self.store = store
    }

    // MARK: - Editing

    /// The matrix of `role` in block `layer` (nil for a role the architecture lacks).
    public func matrix(_ role: MatrixRole, layer: Int) throws -> WeightMatrix {
        try checkLayer(layer)
        guard let m = layers[layer].matrix(role) else {
            throw RuntimeError.badArgument("\(config.architecture.rawValue) blocks have no \(role.rawValue) matrix (matrix role)")
        }
        return m
    }

    /// The f32 values of a matrix, [output features, input features] (W in y = W·x), in the
    /// Hugging Face row order.
    public func values(_ role: MatrixRole, layer: Int) throws -> FloatMatrix {
        let m = try matrix(role, layer: layer)
        return FloatMatrix(rows: m.rows, cols: m.cols, values: m.values())
    }

    /// Replaces a matrix by `values` ([output features, input features], as `values` returns);
    /// the original stays available to `restore`.
    public func replace(_ role: MatrixRole, layer: Int, with values: FloatMatrix) throws {
        let m = try matrix(role, layer: layer)
        guard values.rows == m.rows, values.cols == m.cols else {
            throw RuntimeError.badArgument("replacement for \(role.rawValue) of layer \(layer) is \(values.rows) × \(values.cols), the matrix is \(m.rows) × \(m.cols) (matrix shape)")
        }
        let key = "\(layer).\(role.rawValue)"
        if originals[key] == nil { originals[key] = m }
        layers[layer].setMatrix(role, WeightMatrix(name: m.name, rows: m.rows, cols: m.cols, values: values.values))
    }

    /// The f32 values of the matrix the model was loaded with, whatever `replace` put in its place
    /// since ([output features, input features], as `values` returns).
    public func loadedValues(_ role: MatrixRole, layer: Int) throws -> FloatMatrix {
        let current = try matrix(role, layer: layer)
        let m = originals["\(layer).\(role.rawValue)"] ?? current
        return FloatMatrix(rows: m.rows, cols: m.cols, values: m.values())
    }

    /// Puts back the matrix the model was loaded with.
    public func restore(_ role: MatrixRole, layer: Int) throws {
        try checkLayer(layer)
        let key = "\(layer).\(role.rawValue)"
        if let m = originals.removeValue(forKey: key) { layers[layer].setMatrix(role, m) }
    }

    /// The tensor's name in the model's own file(s), e.g. `transformer.h.1.mlp.c_proj.weight` or
    /// `blk.1.ffn_down.weight`.
    public func tensorName(_ role: MatrixRole, layer: Int) throws -> String {
        _ = try matrix(role, layer: layer)
        let canonical = "blk.\(layer).\(role.ggufRole).weight"
        return names[canonical] ?? store?.fileName(canonical) ?? canonical
    }

    private func checkLayer(_ layer: Int) throws {
        guard layer >= 0, layer < config.layerCount else { throw RuntimeError.badLayer(layer: layer, layerCount: config.layerCount) }
    }

    /// Every matrix, shared ones once or more.
    var allMatrices: [WeightMatrix] {
        [tokenEmbedding, output] + (positionEmbedding.map { [$0] } ?? []) + layers.flatMap(\.matrices)
    }
}

/// Fixed-size storage written by disjoint parallel iterations.
package final class UnsafeMutableSendableArray<T>: @unchecked Sendable {
    private let items: UnsafeMutablePointer<T?>
    package let count: Int
    package init(count: Int) {
        self.count = count
        items = .allocate(capacity: max(1, count))
        items.initialize(repeating: nil, count: count)
    }
    deinit {
        items.deinitialize(count: count)
        items.deallocate()
    }
    package subscript(i: Int) -> T? {
        get { items[i] }
        set { items[i] = newValue }
    }
}

/// The activations the linear layers multiply stored weights with.
///
/// `.f32` (the default) multiplies the f32 activations exactly as the rest of prune expects: fact
/// editing, key statistics and the tests rely on its bits. `.q8` quantizes each activation row to 8
/// bits per block (`Q8Kernels`) before multiplying weights stored as Q4_K, Q6_K, Q8_0, Q5_0, Q4_0, Q4_1 or Q5_1
/// with integer dot products, as llama.cpp does: faster, and slightly different results. Other
/// weight types keep the f32 path. Either way the results do not depend on the thread count.
public enum ActivationPrecision: String, Sendable, CaseIterable {
    case f32
    case q8
}

// swift-tools-version:6.0
import PackageDescription

// Executables are thin: argument parsing and process I/O live in PruneCLI,
// every piece of logic lives in PruneKit.
let commands = ["prune", "prune-apply", "prune-revert", "prune-diff", "prune-audit", "prune-inspect", "prune-tokenize", "prune-generate", "prune-stats", "prune-eval", "prune-adapter"]

let package = Package(
    name: "prune",
    products: [
        .library(name: "PruneFormats", targets: ["PruneFormats"]),
        .library(name: "PruneKit", targets: ["PruneKit"]),
        .library(name: "PruneTokenizers", targets: ["PruneTokenizers"]),
        .library(name: "PruneRuntime", targets: ["PruneRuntime"]),
    ] + commands.map { .executable(name: $0, targets: [$0]) },
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "5.0.1"),
    ],
    targets: [
        .systemLibrary(name: "CBLAS", path: "Sources/CBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CLAPACKE", path: "Sources/CLAPACKE", pkgConfig: "lapacke",
                       providers: [.apt(["liblapacke-dev"])]),
        .systemLibrary(name: "CZstd", path: "Sources/CZstd", pkgConfig: "libzstd",
                       providers: [.apt(["libzstd-dev"])]),
        .systemLibrary(name: "CCrypto", path: "Sources/CCrypto", pkgConfig: "libcrypto",
                       providers: [.apt(["libssl-dev"])]),
        // Removal of a run's temporary files on SIGINT/SIGTERM (an async-signal-safe handler in C).
        .target(name: "CPruneCleanup", path: "Sources/CPruneCleanup"),
        // CPUID/XGETBV: which OpenBLAS kernel family the CPU and the OS really run.
        .target(name: "CPruneCPU", path: "Sources/CPruneCPU"),
        // Fused dequantize-and-multiply kernels and a row decoder on weights as stored (AVX2 and portable).
        .target(name: "CPruneKernels", dependencies: ["CPruneCPU"], path: "Sources/CPruneKernels"),
        // Model files: byte sources, safetensors/GGUF containers, tensor codecs. Knows nothing of edits.
        .target(
            name: "PruneFormats",
            dependencies: ["CZstd", "CCrypto", "CPruneCleanup"]
        ),
        // Manifests, the PRUNE restraint, sidecars and the operations on them.
        .target(
            name: "PruneKit",
            dependencies: ["PruneFormats", "CBLAS", "CLAPACKE", "CZstd"]
        ),
        // Tokenizers: Hugging Face tokenizer.json, SentencePiece tokenizer.model and GGUF vocabularies.
        .target(
            name: "PruneTokenizers",
            dependencies: ["PruneFormats"]
        ),
        // The model runtime: configuration, weights, forward pass with KV cache and hooks, generation.
        // Knows nothing of manifests or sidecars.
        .target(
            name: "PruneRuntime",
            dependencies: ["PruneFormats", "PruneTokenizers", "CBLAS", "CPruneCPU", "CPruneKernels"]
        ),
        // ROME, MEMIT and AlphaEdit on the CPU: key statistics, hyperparameters, the optimisation.
        .target(
            name: "PruneFacts",
            dependencies: ["PruneFormats", "PruneKit", "PruneTokenizers", "PruneRuntime", "CBLAS", "CLAPACKE",
                           .product(name: "Yams", package: "Yams")]
        ),
        // Evaluation on the runtime: CounterFact metrics, perplexity, multiple-choice tasks, fluency,
        // condition numbers, and the sequential-editing experiment (which runs the fact engine).
        .target(
            name: "PruneEval",
            dependencies: ["PruneFormats", "PruneKit", "PruneRuntime", "PruneTokenizers", "PruneFacts", "CBLAS"]
        ),
        .target(
            name: "PruneCLI",
            dependencies: ["PruneFormats", "PruneKit", "PruneTokenizers", "PruneRuntime", "PruneFacts", "PruneEval",
                           .product(name: "ArgumentParser", package: "swift-argument-parser")]
        ),
    ] + commands.map { .executableTarget(name: $0, dependencies: ["PruneCLI"], path: "Sources/\($0)") } + [
        .testTarget(
            name: "PruneKitTests",
            dependencies: ["PruneFormats", "PruneKit", "PruneTokenizers", "PruneRuntime", "PruneFacts", "PruneEval", "PruneCLI"],
            resources: [.copy("Resources")]
        ),
        // Benchmarks print ratios against a baseline measured in the same run; the fuzz driver
        // feeds random/mutated bytes to both parsers for a bounded time.
        // What several benchmarks share: timed child processes, the generator of their data, fail().
        .target(name: "BenchSupport", path: "Benchmarks/BenchSupport"),
        .executableTarget(name: "prune-bench-io", dependencies: ["BenchSupport", "PruneFormats", "PruneKit"], path: "Benchmarks/prune-bench-io"),
        .executableTarget(name: "prune-bench-restraint", dependencies: ["PruneFormats", "PruneKit"], path: "Benchmarks/prune-bench-restraint"),
        .executableTarget(name: "prune-bench-facts", dependencies: ["PruneFormats", "PruneKit", "PruneTokenizers", "PruneRuntime", "PruneFacts"],
                          path: "Benchmarks/prune-bench-facts"),
        .executableTarget(name: "prune-bench-sidecar", dependencies: ["BenchSupport", "PruneFormats", "PruneKit"],
                          path: "Benchmarks/prune-bench-sidecar"),
        .executableTarget(name: "prune-bench-runtime", dependencies: ["BenchSupport", "PruneRuntime"], path: "Benchmarks/prune-bench-runtime"),
        .executableTarget(name: "prune-bench-tokenize", dependencies: ["PruneTokenizers"], path: "Benchmarks/prune-bench-tokenize"),
        .executableTarget(name: "prune-fuzz", dependencies: ["PruneFormats", "PruneKit", "CZstd"], path: "Benchmarks/prune-fuzz"),
    ]
)

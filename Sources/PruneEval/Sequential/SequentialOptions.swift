import PruneFacts

/// The settings of a sequential-editing experiment (`prune-eval BASE --sequential REQUESTS …`).
package struct SequentialOptions: Sendable {
    package var base: String
    /// CounterFact requests, edited in file order.
    package var requests: String
    package var method: FactMethod = .rome
    /// Requests per edit: 1 for ROME; MEMIT/AlphaEdit write a batch at once.
    package var batch = 1
    /// Numbers of edits after which every arm is measured (ascending; multiples of `batch`).
    package var checkpoints: [Int] = [10, 25, 50, 100]
    package var arms: [ExperimentArm] = []
    package var perplexity: String?
    package var perplexityTokens = 128
    package var perplexityDocuments: Int?
    package var tasks: [String] = []
    /// `--hparams` and `--stats-text`, as prune-apply takes them.
    package var hparams: String?
    package var statsText: String?
    /// The JSON Lines file the rows go to as they are measured.
    package var rows: String = "sequential.jsonl"
    /// Continue an interrupted run: keep the rows (and edit chains) already there.
    package var resume = false
    /// An SVG with the curves.
    package var plot: String?
    /// The arm whose edited model, manifest and sidecar are left behind.
    package var keep: ExperimentArm?
    package var output: String?
    package var sidecar: String?
    package var manifest: String?
    package var threads: Int?
    /// `--choose`: where the chosen restraint goes (checked with the other outputs before any work).
    package var choice: String?
    /// Prompts per batched call of the model.
    package var scoringBatch = 16
    /// Where key statistics are cached (prune-apply's cache: $PRUNE_CACHE or under $XDG_CACHE_HOME).
    package var statisticsCache: StatisticsCache = .fromEnvironment()

    package init(base: String, requests: String) {
        self.base = base
        self.requests = requests
    }

    /// Where the chains' sidecars and the generated manifest live between runs.
    package var stateFolder: String { rows + ".chains" }
}

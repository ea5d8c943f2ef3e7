/// Where the fused apply pass spent its time (CPU seconds summed over workers; packing is wall).
package final class LostBitsTiming: @unchecked Sendable {
    package var materialiseCPU = 0.0
    package var residualCPU = 0.0
    package var packing = 0.0
    package init() {}
}

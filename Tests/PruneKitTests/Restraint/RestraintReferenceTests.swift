import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Cross-checks against the literal float64 numpy reference (Tests/scripts/restraint_reference.py).
@Suite struct RestraintReferenceTests {
    let set: ReferenceCaseSet

    init() throws { set = try RestraintTestSupport.referenceCases.get() }

    @Test func caseSetCoversTheContract() {
        let names = Set(set.cases.map(\.name))
        #expect(names.count == 11)
        #expect(set.cases.contains { $0.rows > $0.cols } && set.cases.contains { $0.rows < $0.cols }
                && set.cases.contains { $0.rows == $0.cols })
        #expect(set.cases.contains { $0.edits.count == 100 } && set.cases.contains { $0.edits.count == 10 }
                && set.cases.contains { $0.edits.count == 1 } && set.cases.contains { $0.edits.contains { $0.rank == 8 } })
        #expect(Set(set.functions) == ["e", "1.2", "1.5", "2", "linear", "none"])
    }

    @Test func sigmaMaxMatchesFullSVD() throws {
        for c in set.cases {
            let w0 = try set.floats(c.w0)
            let est = try RestraintEngine.sigmaMax(weights: w0, rows: c.rows, cols: c.cols, tensor: c.name)
            let rel = abs(est.sigmaMax - c.sigma_max) / c.sigma_max
            #expect(rel <= 1e-6, "\(c.name): sigma_max \(est.sigmaMax) vs \(c.sigma_max) (rel \(rel))")
            #expect(rel <= 1e-8, "\(c.name): expected far better than the 1e-6 contract (rel \(rel))")
            #expect(est.method == "block-krylov", "\(c.name): \(est.method)")
            #expect(est.errorBound <= 1e-8 * est.sigmaMax)
        }
    }

    @Test func endScheduleMatchesReferenceForEveryFunction() throws {
        for c in set.cases {
            let w0 = try set.floats(c.w0)
            let sigmaMax = try RestraintEngine.sigmaMax(weights: w0, rows: c.rows, cols: c.cols).sigmaMax
            let edits = try set.edits(of: c)
            for fn in set.functions {
                let config = RestraintConfiguration(function: try RestraintFunction(name: fn), schedule: .end)
                let r = try RestraintEngine.restrain(edits: edits, rows: c.rows, cols: c.cols, sigmaMax: sigmaMax,
                                                     configuration: config, tensor: c.name)
                let expected = try set.doubles(c.expected[fn] ?? "")
                let err = RestraintTestSupport.relativeFrobenius(r.delta.dense().storage, expected)
                #expect(err <= 1e-4, "\(c.name) \(fn): relative Frobenius error \(err)")
                #expect(err <= 1e-9, "\(c.name) \(fn): float64 engine should be far inside the contract (\(err))")
                #expect(r.report.numericalRank == c.rank[fn], "\(c.name) \(fn): rank")
                if c.name != "tall_at" {  // σ = σ_max up to f32 rounding: either side is correct
                    #expect(r.report.restrainedCount == c.restrained[fn], "\(c.name) \(fn): restrained count")
                }
                #expect(r.report.rows == c.rows && r.report.cols == c.cols && r.report.edits == edits.count)
                #expect(r.delta.rows == c.rows && r.delta.cols == c.cols)
                // Negative control: the comparison tells functions apart whenever something was restrained.
                if fn == "e", (c.restrained["e"] ?? 0) > 0, c.name != "tall_at" {
                    let other = try set.doubles(c.expected["2"] ?? "")
                    #expect(RestraintTestSupport.relativeFrobenius(r.delta.dense().storage, other) > 1e-4,
                            "\(c.name): e and 2 should differ")
                }
            }
        }
    }

    @Test func eachScheduleMatchesReference() throws {
        var checked = 0
        for c in set.cases where !c.expected_each.isEmpty {
            let w0 = try set.floats(c.w0)
            let sigmaMax = try RestraintEngine.sigmaMax(weights: w0, rows: c.rows, cols: c.cols).sigmaMax
            let edits = try set.edits(of: c)
            for fn in set.functions {
                let config = RestraintConfiguration(function: try RestraintFunction(name: fn), schedule: .each)
                let r = try RestraintEngine.restrain(edits: edits, rows: c.rows, cols: c.cols, sigmaMax: sigmaMax,
                                                     configuration: config, tensor: c.name)
                let expected = try set.doubles(c.expected_each[fn] ?? "")
                let err = RestraintTestSupport.relativeFrobenius(r.delta.dense().storage, expected)
                #expect(err <= 1e-4, "\(c.name) each \(fn): relative Frobenius error \(err)")
                #expect(r.report.restrainedPerStep.count == edits.count)
                checked += 1
            }
        }
        #expect(checked >= 8 * 6)
    }

    @Test func conditionNumbersMatchReference() throws {
        var checked = 0
        for c in set.cases {
            guard let kappa = c.kappa_e else { continue }
            let w0 = try set.floats(c.w0)
            let sigmaMax = try RestraintEngine.sigmaMax(weights: w0, rows: c.rows, cols: c.cols).sigmaMax
            var acc = DeltaAccumulator(rows: c.rows, cols: c.cols)
            for e in try set.edits(of: c) { try acc.append(e) }
            let r = try RestraintEngine.restrain(accumulated: acc, sigmaMax: sigmaMax,
                                                 configuration: RestraintConfiguration(function: .log(base: M_E)))
            let k = try RestraintEngine.conditionNumbers(w0: w0, rows: c.rows, cols: c.cols, accumulated: acc,
                                                         restrained: r.delta)
            for (got, want) in [(k.kappaW0, kappa[0]), (k.kappaEdited, kappa[1]), (k.kappaRestrained, kappa[2])] {
                #expect(abs(got - want) / want <= 1e-6, "\(c.name): kappa \(got) vs \(want)")
            }
            #expect(k.seconds >= 0)
            checked += 1
        }
        #expect(checked == 2)
    }
}

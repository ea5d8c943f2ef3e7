import Foundation
import Testing
@testable import PruneEval

@Suite("EvalInputs") struct EvalInputTests {
    @Test("CounterFact array: records with their line; CounterFact spellings; the fixture's requests.json")
    func counterFact() throws {
        let recs = try CounterFactReader.read(try ReportTest.fixture("gpt2-tiny", "requests.json"))
        #expect(recs.count == 200)
        let r = recs[0]
        #expect(r.caseID == 0 && r.subject == "Gril Zardrark" && r.targetNew == "Morvath" && r.targetTrue == "Drummet")
        #expect(r.rewritePrompt == "Gril Zardrark lives in the city of")
        #expect(r.paraphrasePrompts.count == 4 && r.neighborhoodPrompts.count == 5)
        #expect(r.line == 3)
    }

    @Test("manifest fact lines: rome with target or target_new, memit batches; target_true is required")
    func manifestLines() throws {
        let (dir, path) = try EvalTest.write("""
            {"kind": "rome", "prompt": "{} speaks", "subject": "A", "target": "Welsh", "target_true": "Greek", "paraphrase_prompts": ["A talks"]}
            {"kind": "memit", "requests": [{"prompt": "{} is", "subject": "B", "target_new": {"str": "x"}, "target_true": {"str": "y"}}, {"prompt": "{} is", "subject": "C", "target_new": "x", "target_true": "z"}]}
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let recs = try CounterFactReader.read(path)
        #expect(recs.map(\.subject) == ["A", "B", "C"])
        #expect(recs.map(\.caseID) == [0, 1, 2])
        #expect(recs.map(\.line) == [1, 2, 2])
        #expect(recs[0].paraphrasePrompts == ["A talks"])

        let (dir2, bad) = try EvalTest.write("""
            {"kind": "rome", "prompt": "{} speaks", "subject": "A", "target": "Welsh", "target_true": "Greek"}
            {"kind": "rome", "prompt": "{} speaks", "subject": "A", "target": "Welsh"}
            """)
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        #expect(throws: EvalError.badRecord(path: bad, line: 2, what: "missing \"target_true\": the evaluation compares the new target with the true one")) {
            try CounterFactReader.read(bad)
        }
        let (dir3, noBraces) = try EvalTest.write("{\"prompt\": \"speaks\", \"subject\": \"A\", \"target\": \"W\", \"target_true\": \"G\"}\n")
        defer { try? FileManager.default.removeItem(atPath: dir3) }
        #expect(throws: EvalError.badRecord(path: noBraces, line: 1, what: "the prompt has no {} for the subject: \"speaks\"")) {
            try CounterFactReader.read(noBraces)
        }
    }

    @Test("invalid JSON names the line; an empty file is an error")
    func invalid() throws {
        let (dir, path) = try EvalTest.write("{\"prompt\": \"p\", \"choices\": [\"a\", \"b\"], \"answer\": 1}\n{\"prompt\": \n")
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect {
            try ChoiceTaskReader.read(path)
        } throws: { e in
            guard case EvalError.invalidJSON(let p, 2, _) = e else { return false }
            return p == path && (e as? LocalizedError)?.errorDescription?.hasPrefix(path + ":2: invalid JSON") == true
        }
        let (dir2, empty) = try EvalTest.write("\n\n")
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        #expect(throws: EvalError.empty(path: empty, what: "no requests")) { try CounterFactReader.read(empty) }
    }
}

import Foundation
import Testing
@testable import PruneEval

@Suite("EvalChoiceTasks") struct EvalChoiceTaskTests {
    @Test("accuracy by summed log-likelihood, accuracy_norm per character, ties to the first choice")
    func byHand() throws {
        // ' ' -1, 'a' -1, 'b' -1.5: "a" = -2, "bb" = -4 (-2 per char), "aaa" = -4 (-4/3 per char).
        let m = CharacterModel(table: [" ": -1, "a": -1, "b": -1.5])
        let qs = [ChoiceQuestion(prompt: "Q", choices: ["bb", "a", "aaa"], answer: 1),
                  ChoiceQuestion(prompt: "Q", choices: ["bb", "a", "aaa"], answer: 2),
                  // "a" -2 and "b" -2.5 ... equal sums: first wins.
                  ChoiceQuestion(prompt: "Q ", choices: ["aa", "ab"], answer: 0)]
        let r = try ChoiceTaskEvaluator().evaluate(qs, model: m, path: "t.jsonl")
        #expect(r.picks == [1, 1, 0])
        #expect(r.picksNormalized == [2, 2, 0])
        #expect(r.correct == 2)
        // per char: q1,q2 "a" -2, "bb" -2, "aaa" -4/3 -> "aaa"; q3 "aa" -3/2 vs "ab" -3.5/2 -> "aa".
        #expect(r.correctNormalized == 2)
        #expect(abs(r.accuracy - 2.0 / 3.0) < 1e-15)
    }

    @Test("white space at the end of the prompt moves into the continuation (lm-evaluation-harness)")
    func trailingSpace() throws {
        let (context, whole) = ChoiceTaskEvaluator.split(prompt: "Answer: \n", choice: "yes")
        #expect(context == "Answer:")
        #expect(whole == "Answer: \n yes")
    }

    @Test("task files: index or text answers; errors name the file and line")
    func reader() throws {
        let (dir, path) = try EvalTest.write("""
            {"prompt": "p", "choices": ["a", "b"], "answer": 1}

            {"prompt": "q", "choices": ["a", "b"], "answer": "a"}
            {"prompt": "r", "choices": ["a", "b"], "answer": 2}
            """)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        #expect(throws: EvalError.badRecord(path: path, line: 4, what: "\"answer\" must be an index below 2 or one of the choices")) {
            try ChoiceTaskReader.read(path)
        }
        let (dir2, ok) = try EvalTest.write("{\"prompt\": \"p\", \"choices\": [\"a\", \"b\"], \"answer\": 1}\n\n{\"prompt\": \"q\", \"choices\": [\"a\", \"b\"], \"answer\": \"a\"}\n")
        defer { try? FileManager.default.removeItem(atPath: dir2) }
        let qs = try ChoiceTaskReader.read(ok)
        #expect(qs.map(\.answer) == [1, 0])
        #expect(qs.map(\.line) == [1, 3])
    }
}

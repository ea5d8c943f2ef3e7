import Foundation
@testable import PruneFacts
@testable import PruneFormats
@testable import PruneKit

/// The reference tokenizer (transformers' AutoTokenizer) behind a pipe, for tests that must use
/// exactly the reference's ids.
final class PythonTokenizer: FactTokenizer, @unchecked Sendable {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private let lock = NSLock()
    private var buffer = Data()
    private var memo: [String: [Int32]] = [:]

    init(model: String) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3", FactTest.packageRoot.path + "/Tests/scripts/facts_tokenizer_server.py", model]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }

    private func call(_ request: JSONNode) -> JSONNode {
        input.fileHandleForWriting.write(Data((request.serialized() + "\n").utf8))
        while true {
            if let nl = buffer.firstIndex(of: 0x0A) {
                let line = buffer[buffer.startIndex..<nl]
                buffer.removeSubrange(buffer.startIndex...nl)
                return (try? JSONNodeParser.parse([UInt8](line))) ?? .null
            }
            let chunk = output.fileHandleForReading.availableData
            if chunk.isEmpty { return .null }
            buffer.append(chunk)
        }
    }

    func encode(_ text: String) -> [Int32] {
        lock.lock(); defer { lock.unlock() }
        if let m = memo[text] { return m }
        let r = call(.object([JSONNodeMember(key: "encode", value: .string(text))]))
        guard case .array(let a)? = r["ids"] else { return [] }
        let ids = a.compactMap { FactTest.number($0).map { Int32($0) } }
        memo[text] = ids
        return ids
    }

    func decode(_ ids: [Int32]) -> String {
        lock.lock(); defer { lock.unlock() }
        let r = call(.object([JSONNodeMember(key: "decode", value: .array(ids.map { JSONNode.int($0) }))]))
        return r["text"]?.stringValue ?? ""
    }
}

import Foundation
import Testing
@testable import PruneFormats
@testable import PruneKit

/// Every matrix-value encoding gives the values numpy / safetensors wrote.
@Suite struct MatrixValueTests {
    /// A [3, 2] tensor and a [3] tensor, no known architecture (taken as stored).
    static let model = ModelDescription(format: .safetensors, tensors: [
        TensorInfo(name: "w", type: .safetensors(.f32), shape: [3, 2], offset: 0, byteCount: 24),
        TensorInfo(name: "b", type: .safetensors(.bf16), shape: [3], offset: 24, byteCount: 6),
    ], architecture: nil)

    /// Makes the value files once per test (numpy + safetensors) and returns (folder, expected values).
    static func values() throws -> (URL, [String: [Float]]) {
        let dir = try EditsSupport.tempDir()
        try EditsSupport.python("edits_make_values.py", [dir.path])
        let json = try EditJSONParser.parse([UInt8](try Data(contentsOf: dir.appendingPathComponent("expected.json"))))
        guard case .object(let members) = json else { throw EditsSupport.ScriptFailed(description: "expected.json") }
        var out: [String: [Float]] = [:]
        for m in members {
            var flat: [Float] = []
            func walk(_ v: EditJSON) { switch v { case .number(let d): flat.append(Float(d)); case .array(let a): a.forEach(walk); default: break } }
            walk(m.value)
            out[m.key] = flat
        }
        return (dir, out)
    }

    func dense(_ manifestLine: String, in dir: URL) throws -> [Float] {
        let m = try EditsSupport.manifest([manifestLine], in: dir)
        let t = try m.resolve(against: Self.model)[0].targets[0]
        return t.denseValues()
    }

    @Test func npyVersionsDtypesAndOrders() throws {
        let (dir, expected) = try Self.values()
        defer { try? FileManager.default.removeItem(at: dir) }
        for file in ["c_f4.npy", "f_f8.npy", "fortran_f4.npy", "c_f2.npy", "be_f4.npy", "v1.npy", "v2.npy", "v3.npy"] {
            let got = try dense("{\"kind\": \"dense\", \"tensor\": \"w\", \"delta\": {\"file\": \"\(file)\"}}", in: dir)
            #expect(got == expected[file], "\(file)")
        }
        let vec = try dense("{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": {\"file\": \"vec_f4.npy\"}}", in: dir)
        #expect(vec == expected["vec_f4.npy"])
        // Absolute paths work too, and the f2 values are not all the f4 ones (1e-3 rounds differently).
        let abs = try dense("{\"kind\": \"dense\", \"tensor\": \"w\", \"delta\": {\"file\": \"\(dir.appendingPathComponent("c_f2.npy").path)\"}}", in: dir)
        #expect(abs == expected["c_f2.npy"])
        #expect(expected["c_f2.npy"] != expected["c_f4.npy"])
    }

    @Test func npyLowRankFactorsFromFiles() throws {
        let (dir, expected) = try Self.values()
        defer { try? FileManager.default.removeItem(at: dir) }
        // u = M (3×2), v = [[1, 0], [0, 2]] → ΔW = M · vᵀ.
        let m = try EditsSupport.manifest(["{\"kind\": \"lowrank\", \"tensor\": \"w\", \"u\": {\"file\": \"c_f4.npy\"}, \"v\": [[1, 0], [0, 2]], \"scale\": 3}"], in: dir)
        let t = try m.resolve(against: Self.model)[0].targets[0]
        guard case .lowRank(let u, let v, let k) = t.delta else { Issue.record("not low-rank"); return }
        #expect(k == 2)
        #expect(u == expected["c_f4.npy"]!.map { Float(Double($0) * 3) })
        #expect(v == [1, 0, 0, 2])
    }

    @Test(arguments: [
        ("bad_dtype.npy", "unsupported dtype '<i4'"),
        ("bad_3d.npy", "is not a vector or a matrix"),
        ("bad_short.npy", "data holds 23 bytes"),
        ("bad_long.npy", "data holds 25 bytes"),
        ("bad_magic.npy", "bad magic"),
        ("bad_header.npy", "malformed header"),
        ("nan.npy", "non-finite number"),
    ])
    func badNpyFiles(file: String, fragment: String) throws {
        let (dir, _) = try Self.values()
        defer { try? FileManager.default.removeItem(at: dir) }
        do {
            _ = try dense("{\"kind\": \"dense\", \"tensor\": \"w\", \"delta\": {\"file\": \"\(file)\"}}", in: dir)
            Issue.record("\(file) accepted")
        } catch let e as EditError {
            let msg = e.errorDescription ?? ""
            #expect(msg.hasPrefix(dir.appendingPathComponent("edits.jsonl").path + ":1: "), "\(msg)")
            #expect(msg.contains(fragment), "\(msg)")
        }
    }

    @Test func safetensorsValues() throws {
        let (dir, expected) = try Self.values()
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(try dense("{\"kind\": \"dense\", \"tensor\": \"w\", \"delta\": {\"file\": \"values.safetensors\", \"key\": \"m\"}}", in: dir) == expected["m"])
        #expect(try dense("{\"kind\": \"dense\", \"tensor\": \"w\", \"delta\": {\"file\": \"values.safetensors\", \"key\": \"h\"}}", in: dir) == expected["h"])
        #expect(try dense("{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": {\"file\": \"values.safetensors\", \"key\": \"v\"}, \"scale\": 0.5}", in: dir) == expected["v"]!.map { $0 * 0.5 })
        for (key, fragment) in [("ints", "is I32, not a float type"), ("cube", "not a non-empty vector or matrix"), ("mm", "no tensor \"mm\" (did you mean \"m\"?)")] {
            let e = try #require(try? { () throws -> EditError? in
                do { _ = try dense("{\"kind\": \"dense\", \"tensor\": \"w\", \"delta\": {\"file\": \"values.safetensors\", \"key\": \"\(key)\"}}", in: dir); return nil } catch let e as EditError { return e }
            }())
            #expect(e.line == 1)
            #expect(e.errorDescription?.contains("values.safetensors: ") == true)
            #expect(e.errorDescription?.contains(fragment) == true, "\(e.errorDescription ?? "")")
        }
        // A file that is not safetensors: the container's validation message, on the manifest line.
        let e = try #require(try? { () throws -> EditError? in
            do { _ = try dense("{\"kind\": \"dense\", \"tensor\": \"w\", \"delta\": {\"file\": \"c_f4.npy\", \"key\": \"m\"}}", in: dir); return nil } catch let e as EditError { return e }
        }())
        #expect(e.line == 1)
        #expect(e.errorDescription?.contains("c_f4.npy: ") == true)
    }

    @Test func base64Values() throws {
        let dir = try EditsSupport.tempDir()
        defer { try? FileManager.default.removeItem(at: dir) }
        let values: [Float] = [1.5, -2.25, 3, 0.125, -7, 1e-3]
        var bytes: [UInt8] = []
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { bytes.append(contentsOf: $0) } }
        let b64 = Data(bytes).base64EncodedString()
        #expect(try dense("{\"kind\": \"dense\", \"tensor\": \"w\", \"delta\": {\"b64\": \"\(b64)\", \"shape\": [3, 2]}}", in: dir) == values)
        let vec = Data(bytes[0..<12]).base64EncodedString()
        #expect(try dense("{\"kind\": \"dense\", \"tensor\": \"b\", \"delta\": {\"shape\": [3], \"b64\": \"\(vec)\"}}", in: dir) == Array(values[0..<3]))
        // Same matrix as inline JSON.
        #expect(try dense("{\"kind\": \"dense\", \"tensor\": \"w\", \"delta\": [[1.5, -2.25], [3, 0.125], [-7, 0.001]]}", in: dir) == values)
    }

    @Test func halfConversionIsExact() {
        #expect(halfToFloat(0x3C00) == 1)
        #expect(halfToFloat(0xC000) == -2)
        #expect(halfToFloat(0x0001) == Float(sign: .plus, exponent: -24, significand: 1))
        #expect(halfToFloat(0x7BFF) == 65504)
        #expect(halfToFloat(0x7C00) == .infinity)
        #expect(halfToFloat(0x7E00).isNaN)
        #expect(halfToFloat(0x8000).sign == .minus)
    }
}

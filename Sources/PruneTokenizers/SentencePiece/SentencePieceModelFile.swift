/// The parts of a SentencePiece `ModelProto` (`tokenizer.model`) the encoder needs, parsed from
/// the protobuf wire format (sentencepiece_model.proto field numbers).
struct SentencePieceModelFile: Sendable {
    struct Piece: Sendable {
        var text: [UInt8]
        var score: Float
        /// NORMAL 1, UNKNOWN 2, CONTROL 3, USER_DEFINED 4, UNUSED 5, BYTE 6.
        var type: Int
    }
    var pieces: [Piece] = []
    /// UNIGRAM 1 (the proto default), BPE 2, WORD 3, CHAR 4.
    var modelType = 1
    var byteFallback = false
    var treatWhitespaceAsSuffix = false
    var unkID: Int32 = 0
    var bosID: Int32 = 1
    var eosID: Int32 = 2
    var padID: Int32 = -1
    var normalizerName = ""
    var charsMap: [UInt8] = []
    var addDummyPrefix = true
    var removeExtraWhitespaces = true
    var escapeWhitespaces = true

    static func modelTypeName(_ t: Int) -> String {
        switch t {
        case 1: return "UNIGRAM"
        case 2: return "BPE"
        case 3: return "WORD"
        case 4: return "CHAR"
        default: return "type \(t)"
        }
    }

    /// Parses `bytes`; a malformed message throws with the byte offset.
    static func parse(_ bytes: [UInt8]) throws(ProtobufReader.Failure) -> SentencePieceModelFile {
        var m = SentencePieceModelFile()
        var r = ProtobufReader(bytes)
        while let (field, value) = try r.next() {
            switch (field, value) {
            case (1, .bytes(let range)):
                m.pieces.append(try parsePiece(bytes, range))
            case (2, .bytes(let range)):
                var t = ProtobufReader(bytes, range: range)
                while let (f, v) = try t.next() {
                    switch (f, v) {
                    case (3, .varint(let x)): m.modelType = Int(truncatingIfNeeded: x)
                    case (24, .varint(let x)): m.treatWhitespaceAsSuffix = x != 0
                    case (35, .varint(let x)): m.byteFallback = x != 0
                    case (40, .varint(let x)): m.unkID = Int32(truncatingIfNeeded: x)
                    case (41, .varint(let x)): m.bosID = Int32(truncatingIfNeeded: x)
                    case (42, .varint(let x)): m.eosID = Int32(truncatingIfNeeded: x)
                    case (43, .varint(let x)): m.padID = Int32(truncatingIfNeeded: x)
                    default: break
                    }
                }
            case (3, .bytes(let range)):
                var t = ProtobufReader(bytes, range: range)
                while let (f, v) = try t.next() {
                    switch (f, v) {
                    case (1, .bytes(let s)): m.normalizerName = String(decoding: bytes[s], as: UTF8.self)
                    case (2, .bytes(let s)): m.charsMap = Array(bytes[s])
                    case (3, .varint(let x)): m.addDummyPrefix = x != 0
                    case (4, .varint(let x)): m.removeExtraWhitespaces = x != 0
                    case (5, .varint(let x)): m.escapeWhitespaces = x != 0
                    default: break
                    }
                }
            default:
                break
            }
        }
        return m
    }

    private static func parsePiece(_ bytes: [UInt8], _ range: Range<Int>) throws(ProtobufReader.Failure) -> Piece {
        var p = Piece(text: [], score: 0, type: 1)
        var r = ProtobufReader(bytes, range: range)
        while let (f, v) = try r.next() {
            switch (f, v) {
            case (1, .bytes(let s)): p.text = Array(bytes[s])
            case (2, .fixed32(let x)): p.score = Float(bitPattern: x)
            case (3, .varint(let x)): p.type = Int(truncatingIfNeeded: x)
            default: break
            }
        }
        return p
    }
}

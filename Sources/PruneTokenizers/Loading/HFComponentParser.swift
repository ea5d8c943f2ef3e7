/// Reads the `normalizer`, `pre_tokenizer`, `post_processor` and `decoder` sections of a
/// tokenizer.json into our components; anything else gets a one-line error naming it and its place.
enum HFComponentParser {
    static func pattern(_ f: JSONField) throws -> (any TextSplitter) {
        if let s = f["String"] { return LiteralSplitter(try s.string()) }
        if let r = f["Regex"] {
            let p = try r.string()
            if let known = KnownPatterns.splitter(for: p) { return known }
            return try regex(p, at: r)
        }
        throw f.error("expected {\"String\": …} or {\"Regex\": …}")
    }

    /// The compiled `pattern` of the field `f`; a pattern ICU refuses is one line naming the file,
    /// the pattern and its place (not Foundation's error dump).
    static func regex(_ pattern: String, at f: JSONField) throws -> RegexSplitter {
        do {
            return try RegexSplitter(pattern: pattern)
        } catch {
            throw TokenizerError.invalidRegex(path: f.file, pattern: pattern, place: f.place, reason: "not a regular expression ICU compiles")
        }
    }

    static func preTokenizer(_ f: JSONField) throws -> PreTokenizer {
        let type = try f.require("type").string()
        switch type {
        case "ByteLevel":
            return .byteLevel(addPrefixSpace: try f.bool("add_prefix_space", default: true), useRegex: try f.bool("use_regex", default: true))
        case "Split":
            let behaviorName = try f.require("behavior").string()
            guard let behavior = SplitDelimiterBehavior(rawValue: behaviorName) else {
                throw TokenizerError.unsupported(path: f.file, what: "split behavior \"\(behaviorName)\"", place: f.place + ".behavior")
            }
            return .split(try pattern(try f.require("pattern")), behavior, invert: try f.bool("invert", default: false))
        case "Digits":
            let individual = try f.bool("individual_digits", default: false)
            return .split(ClassRunSplitter(test: .number, maxRun: individual ? 1 : nil), .isolated, invert: false)
        case "Metaspace":
            let rep = try f["replacement"]?.string() ?? "\u{2581}"
            let scheme: PrependScheme
            if let s = f["prepend_scheme"] {
                guard let p = PrependScheme(rawValue: try s.string()) else { throw s.error("expected always, first or never") }
                scheme = p
            } else {
                scheme = try f.bool("add_prefix_space", default: true) ? .always : .never
            }
            return .metaspace(replacement: Array(rep.utf8), prependScheme: scheme, split: try f.bool("split", default: true), prependAlways: false)
        case "WhitespaceSplit":
            return .split(try RegexSplitter(pattern: #"\S+"#), .removed, invert: true)
        case "Whitespace":
            return .split(try RegexSplitter(pattern: #"\w+|[^\w\s]+"#), .removed, invert: true)
        case "Punctuation":
            let name = try f["behavior"]?.string() ?? "Isolated"
            guard let behavior = SplitDelimiterBehavior(rawValue: name) else {
                throw TokenizerError.unsupported(path: f.file, what: "split behavior \"\(name)\"", place: f.place + ".behavior")
            }
            let ascii: [UInt32] = Array(0x21...0x2F) + Array(0x3A...0x40) + Array(0x5B...0x60) + Array(0x7B...0x7E)
            return .split(ClassRunSplitter(test: .punctuationOr(ascii), maxRun: 1), behavior, invert: false)
        case "Sequence":
            return .sequence(try f.require("pretokenizers").array().map(preTokenizer))
        default:
            throw TokenizerError.unknownPreTokenizer(path: f.file, name: type, place: f.place + ".type")
        }
    }

    static func normalizer(_ f: JSONField) throws -> Normalizer {
        let type = try f.require("type").string()
        switch type {
        case "NFC": return .nfc
        case "NFD": return .nfd
        case "NFKC": return .nfkc
        case "NFKD": return .nfkd
        case "Lowercase": return .lowercase
        case "Prepend": return .prepend(Array(try f.require("prepend").string().utf8))
        case "Replace":
            let p = try f.require("pattern")
            let content = try f.require("content").string()
            if let s = p["String"] { return .replace(Array(try s.string().utf8), with: Array(content.utf8)) }
            if let r = p["Regex"] {
                return .replaceRegex(try regex(try r.string(), at: r), with: content)
            }
            throw p.error("expected {\"String\": …} or {\"Regex\": …}")
        case "Strip":
            return .strip(left: try f.bool("strip_left", default: true), right: try f.bool("strip_right", default: true))
        case "Sequence":
            return .sequence(try f.require("normalizers").array().map(normalizer))
        default:
            throw TokenizerError.unsupported(path: f.file, what: "normalizer \"\(type)\"", place: f.place + ".type")
        }
    }

    static func decoder(_ f: JSONField) throws -> HFDecoderStep {
        let type = try f.require("type").string()
        switch type {
        case "ByteLevel": return .byteLevel
        case "Metaspace":
            let rep = try f["replacement"]?.string() ?? "\u{2581}"
            guard let scalar = rep.unicodeScalars.first, rep.unicodeScalars.count == 1 else { throw f.error("replacement must be one character") }
            let scheme: PrependScheme
            if let s = f["prepend_scheme"] {
                scheme = PrependScheme(rawValue: try s.string()) ?? .always
            } else {
                scheme = try f.bool("add_prefix_space", default: true) ? .always : .never
            }
            return .metaspace(replacement: scalar, prependScheme: scheme)
        case "Replace":
            let p = try f.require("pattern")
            guard let s = p["String"] else {
                throw TokenizerError.unsupported(path: f.file, what: "decoder Replace with a regex pattern", place: p.place)
            }
            return .replace(try s.string(), with: try f.require("content").string())
        case "ByteFallback": return .byteFallback
        case "Fuse": return .fuse
        case "Strip":
            let c = try f.require("content").string()
            guard let scalar = c.unicodeScalars.first, c.unicodeScalars.count == 1 else { throw f.error("content must be one character") }
            return .strip(content: scalar, start: try f["start"]?.int() ?? 0, stop: try f["stop"]?.int() ?? 0)
        case "Sequence":
            return .sequence(try f.require("decoders").array().map(decoder))
        default:
            throw TokenizerError.unsupported(path: f.file, what: "decoder \"\(type)\"", place: f.place + ".type")
        }
    }

    /// The ids a post-processor puts before and after a single sequence.
    static func postProcessor(_ f: JSONField, idOf: (String) -> Int32?) throws -> (prefix: [Int32], suffix: [Int32]) {
        let type = try f.require("type").string()
        switch type {
        case "ByteLevel":
            return ([], [])
        case "TemplateProcessing":
            let specials = try f["special_tokens"]?.members() ?? []
            var idsOf: [[UInt8]: [Int32]] = [:]   // bytes, not String equality
            for (name, v) in specials {
                idsOf[Array(name.utf8)] = try v.require("ids").array().map { Int32(try $0.int()) }
            }
            var prefix: [Int32] = [], suffix: [Int32] = []
            var seenSequence = false
            for item in try f.require("single").array() {
                if let s = item["SpecialToken"] {
                    let name = try s.require("id").string()
                    guard let ids = idsOf[Array(name.utf8)] ?? idOf(name).map({ [$0] }) else {
                        throw s.error("special token \"\(name)\" is not in special_tokens or the vocabulary")
                    }
                    if seenSequence { suffix += ids } else { prefix += ids }
                } else if item["Sequence"] != nil {
                    seenSequence = true
                } else {
                    throw item.error("expected SpecialToken or Sequence")
                }
            }
            return (prefix, suffix)
        case "RobertaProcessing", "BertProcessing":
            func token(_ key: String) throws -> Int32 {
                let pair = try f.require(key).array()
                guard pair.count == 2 else { throw f.error("\(key) must be [token, id]") }
                return Int32(try pair[1].int())
            }
            return ([try token("cls")], [try token("sep")])
        case "Sequence":
            var prefix: [Int32] = [], suffix: [Int32] = []
            for p in try f.require("processors").array() {
                let (a, b) = try postProcessor(p, idOf: idOf)
                prefix += a
                suffix = b + suffix
            }
            return (prefix, suffix)
        default:
            throw TokenizerError.unsupported(path: f.file, what: "post-processor \"\(type)\"", place: f.place + ".type")
        }
    }
}

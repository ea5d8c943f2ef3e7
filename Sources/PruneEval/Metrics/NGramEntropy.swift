import Foundation

/// ROME's fluency measure (`compute_n_gram_entropy`): for n = 2 and 3, the entropy in bits of the
/// text's n-gram frequency distribution, weighted 2/3 and 4/3, averaged; over several texts the
/// arithmetic mean.
package enum NGramEntropy {
    package static func entropy(_ text: String) -> Double {
        let words = WordTokenizer.tokenize(text)
        var weighted: [Double] = []
        for (n, weight) in [(2, 2.0 / 3.0), (3, 4.0 / 3.0)] {
            var counts: [[String]: Int] = [:]
            if words.count >= n {
                for i in 0...(words.count - n) { counts[Array(words[i..<(i + n)]), default: 0] += 1 }
            }
            // Summed in a fixed order (sorted counts) so that the value does not depend on hashing.
            let sorted = counts.values.sorted()
            let total = Double(sorted.reduce(0, +))
            var h = 0.0
            for c in sorted {
                let f = Double(c) / total
                h -= f * log(f) / log(2.0)
            }
            weighted.append(h * weight)
        }
        return weighted.reduce(0, +) / Double(weighted.count)
    }

    package static func mean(_ texts: [String]) -> Double {
        guard !texts.isEmpty else { return .nan }
        return texts.map(entropy).reduce(0, +) / Double(texts.count)
    }
}

import CBLAS
import PruneKit
import PruneRuntime

/// Σ k kᵀ over the keys of one chunk of documents, in f64, upper triangle only: the m × m triangle
/// cut into fixed tiles of side `tileSize` (tile (bi, bj ≥ bi)), each held as its own ni × nj
/// row-major block of one buffer (about 4·m² bytes, half a full matrix). `add` updates every tile
/// with one single-threaded dsyrk (diagonal tiles) or dgemm over the rows in order, the tiles run on
/// up to `threads` threads: the bits never depend on the thread count. The chunk's total goes to an
/// `ExactKeySum` (`ExactKeySum.add(tiles:)`), which is the only m × m state that outlives the chunk.
struct TiledKeySum {
    /// The side of the tiles.
    static let tileSize = 256

    let width: Int
    /// (first row, first column, rows, columns) of each tile, and its place in `values`.
    let tiles: [(i0: Int, j0: Int, ni: Int, nj: Int, offset: Int)]
    private(set) var values: [Double]

    init(width m: Int) {
        width = m
        let size = Self.tileSize, blocks = (m + size - 1) / size
        var tiles: [(i0: Int, j0: Int, ni: Int, nj: Int, offset: Int)] = []
        var at = 0
        for bi in 0..<blocks {
            for bj in bi..<blocks {
                let i0 = bi * size, j0 = bj * size
                let ni = min(m, i0 + size) - i0, nj = min(m, j0 + size) - j0
                tiles.append((i0, j0, ni, nj, at))
                at += ni * nj
            }
        }
        self.tiles = tiles
        values = [Double](repeating: 0, count: at)
    }

    /// Back to zero, for the next chunk.
    mutating func zero() {
        values.withUnsafeMutableBufferPointer { $0.update(repeating: 0) }
    }

    /// Adds the keys of `rows` positions (`keys`: rows × m row-major, f32, exact in f64). Diagonal
    /// tiles get only their upper triangle (dsyrk); the rest of them stays zero.
    mutating func add(keys: [Float], rows: Int, threads: Int) {
        let m = width
        precondition(keys.count == rows * m)
        guard rows > 0 else { return }
        let k = keys.map(Double.init)
        let tiles = self.tiles
        BLASThreads.deterministic {
            k.withUnsafeBufferPointer { kp in
                values.withUnsafeMutableBufferPointer { vp in
                    let kb = kp.baseAddress!, vb = vp.baseAddress!
                    Parallel.forEach(count: tiles.count, threads: threads) { t, _ in
                        let tile = tiles[t]
                        let out = vb + tile.offset
                        if tile.i0 == tile.j0 {
                            // upper(tile) += kᵢᵀ kᵢ, kᵢ the rows × ni columns of the tile.
                            cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, Int32(tile.ni), Int32(rows),
                                        1, kb + tile.i0, Int32(m), 1, out, Int32(tile.nj))
                        } else {
                            cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, Int32(tile.ni), Int32(tile.nj), Int32(rows),
                                        1, kb + tile.i0, Int32(m), kb + tile.j0, Int32(m), 1, out, Int32(tile.nj))
                        }
                    }
                }
            }
        }
    }
}

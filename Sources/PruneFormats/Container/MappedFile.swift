import Foundation

/// A read-only memory mapping of a whole regular file.
package final class MappedFile: @unchecked Sendable {
    package let bytes: UnsafeRawBufferPointer
    package var count: Int { bytes.count }
    private let base: UnsafeMutableRawPointer?
    /// Pages before this offset were released with MADV_DONTNEED (only for streaming use).
    private var released = 0
    package var releaseBehind = false
    package static let releaseStep = 16 << 20

    /// Maps `fd` (which stays owned by the caller) of `size` bytes.
    package init(fd: Int32, size: Int, path: String) throws {
        if size == 0 {
            base = nil
            bytes = UnsafeRawBufferPointer(start: nil, count: 0)
            return
        }
        let p = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0)
        guard let p, p != MAP_FAILED else {
            throw ContainerError.cannotOpen(path: displayName(path), reason: "mmap: " + errnoText(errno))
        }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: size)
    }

    private var owned = false

    /// A private copy of `data` in ordinary memory, behaving like a mapping (tests, fuzzing).
    package init(copying data: [UInt8]) {
        let p = UnsafeMutableRawPointer.allocate(byteCount: max(1, data.count), alignment: 64)
        data.withUnsafeBytes { if let b = $0.baseAddress { p.copyMemory(from: b, byteCount: data.count) } }
        base = p
        bytes = UnsafeRawBufferPointer(start: p, count: data.count)
        owned = true
    }

    deinit {
        if owned { base?.deallocate() } else if let base { munmap(base, bytes.count) }
    }

    /// Hints sequential access.
    package func adviseSequential() {
        if let base { madvise(base, bytes.count, MADV_SEQUENTIAL) }
    }

    /// Drops the pages wholly inside `range` from this process (they stay in the page cache; a later
    /// read faults them in again): for a caller that copied them out. Nothing for a private copy.
    package func drop(_ range: Range<Int>) {
        guard !owned, let base else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let start = (range.lowerBound + page - 1) / page * page, end = range.upperBound / page * page
        guard end > start else { return }
        madvise(base + start, end - start, MADV_DONTNEED)
    }

    /// Drops the pages wholly before `offset` from this process (they stay in the page cache),
    /// so that streaming through a large file keeps the resident set bounded.
    package func release(upTo offset: Int) {
        guard releaseBehind, !owned, let base, offset - released >= MappedFile.releaseStep else { return }
        let page = Int(sysconf(Int32(_SC_PAGESIZE)))
        let end = offset / page * page
        guard end > released else { return }
        madvise(base + released, end - released, MADV_DONTNEED)
        released = end
    }
}

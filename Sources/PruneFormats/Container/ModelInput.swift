import Foundation

/// Opens a model path as a `ByteStream`: `-` is stdin; a regular uncompressed file is
/// memory-mapped; pipes are streamed; zstd input (any number of frames) is detected by its magic
/// number and decompressed on the fly.
public enum ModelInput {
    /// zstd frame magic 0xFD2FB528 and skippable-frame magics 0x184D2A50…5F, little-endian.
    package static func isZstdMagic(_ b: [UInt8]) -> Bool {
        guard b.count >= 4 else { return false }
        let v = UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
        return v == 0xFD2F_B528 || (v & 0xFFFF_FFF0) == 0x184D_2A50
    }

    /// Opens `path` for one front-to-back pass. With `releaseBehind`, pages of a mapped file are
    /// dropped behind the cursor so the resident set stays bounded.
    public static func open(_ path: String, releaseBehind: Bool = false) throws -> ByteStream {
        let name = displayName(path)
        let fd: Int32
        if path == "-" {
            fd = 0
        } else {
            fd = Glibc.open(path, O_RDONLY | O_CLOEXEC)
            if fd < 0 { throw ContainerError.cannotOpen(path: name, reason: errnoText(errno)) }
        }
        var st = stat()
        if fstat(fd, &st) != 0 {
            let e = errno
            if path != "-" { close(fd) }
            throw ContainerError.cannotOpen(path: name, reason: errnoText(e))
        }
        let identity: (dev: UInt64, ino: UInt64)? = path == "-" ? nil : (UInt64(st.st_dev), UInt64(st.st_ino))
        let kind = st.st_mode & S_IFMT
        if kind == S_IFDIR {
            if path != "-" { close(fd) }
            throw ContainerError.isDirectory(path: name)
        }
        if kind == S_IFREG && st.st_size > 0 {
            let mapped: MappedFile
            do {
                mapped = try MappedFile(fd: fd, size: Int(st.st_size), path: path)
            } catch {
                if path != "-" { close(fd) }
                throw error
            }
            if path != "-" { close(fd) }   // the mapping keeps the file alive
            mapped.releaseBehind = releaseBehind
            mapped.adviseSequential()
            let head = Array(mapped.bytes.prefix(4))
            if isZstdMagic(head) {
                let z = try ZstdReader(input: MappedReader(file: mapped), path: path)
                let s = ByteStream(path: path, reader: z, compressed: true)
                s.fileIdentity = identity
                return s
            }
            let s = ByteStream(path: path, mapped: mapped)
            s.fileIdentity = identity
            return s
        }
        // Pipe, terminal, device, or an empty regular file: stream it.
        let raw = FDReader(fd: fd, path: path, closeOnDeinit: path != "-")
        var head = [UInt8](repeating: 0, count: 4)
        var got = 0
        while got < 4 {
            let n = try head.withUnsafeMutableBytes { try raw.read(into: UnsafeMutableRawBufferPointer(rebasing: $0[got...])) }
            if n == 0 { break }
            got += n
        }
        head.removeLast(4 - got)
        let prefixed = PrefixedReader(prefix: head, rest: raw)
        let s = isZstdMagic(head)
            ? ByteStream(path: path, reader: try ZstdReader(input: prefixed, path: path), compressed: true)
            : ByteStream(path: path, reader: prefixed, compressed: false)
        s.fileIdentity = identity
        return s
    }

    /// SHA-256 of a file's decompressed content, read front to back.
    package static func sha256(_ path: String) throws -> String {
        let stream = try open(path, releaseBehind: true)
        let hash = SHA256Hasher()
        while try !stream.isAtEnd() {
            _ = try stream.readRest(limit: ByteStream.chunkSize) { hash.update($0) }
        }
        return hash.finalizeHex()
    }

    /// The container format of the stream, from its first bytes (nothing is consumed).
    public static func detectFormat(_ stream: ByteStream) throws -> ModelFormat {
        let head = try stream.peek(9)
        if head.isEmpty { throw ContainerError.emptyInput(path: stream.name) }
        if head.count >= 4, head[0..<4] == [0x47, 0x47, 0x55, 0x46] { return .gguf }   // "GGUF"
        if head.count >= 9, head[8] == UInt8(ascii: "{") { return .safetensors }
        let lower = stream.path.lowercased()
        if lower.hasSuffix(".safetensors") || lower.hasSuffix(".safetensors.zst") { return .safetensors }
        if lower.hasSuffix(".gguf") || lower.hasSuffix(".gguf.zst") { return .gguf }
        throw ContainerError.unknownFormat(path: stream.name, firstBytes: Hex.encode(head.prefix(8)))
    }

    /// A mapping of the whole decompressed content: the file itself when it is a regular
    /// uncompressed file, else the input spooled to an unlinked temporary file and mapped.
    package static func mapWhole(_ path: String) throws -> (MappedFile, compressed: Bool) {
        let stream = try open(path)
        if let mapped = stream.mapped { return (mapped, false) }
        let dir = ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array((dir + "/prune-spool-XXXXXX").utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        if fd < 0 {
            throw ContainerError.cannotOpen(path: dir, reason: "temporary spool file: " + errnoText(errno))
        }
        defer { close(fd) }
        unlink(String(cString: template.map { $0 }))
        var total = 0
        while try !stream.isAtEnd() {
            _ = try stream.readRest(limit: ByteStream.chunkSize) { chunk in
                var off = 0
                while off < chunk.count {
                    let n = write(fd, chunk.baseAddress! + off, chunk.count - off)
                    if n < 0 {
                        if errno == EINTR { continue }
                        throw ContainerError.writeFailed(path: dir, reason: "temporary spool file: " + errnoText(errno))
                    }
                    off += n
                }
                total += chunk.count
            }
        }
        return (try MappedFile(fd: fd, size: total, path: path), stream.isCompressed)
    }
}

import CCrypto

/// Incremental SHA-256 over libcrypto (EVP), which uses SHA-NI / AVX2 when the CPU has them.
public final class SHA256Hasher {
    private let ctx: OpaquePointer

    public init() {
        // EVP_MD_CTX_new only fails on allocation failure, which we treat like any other OOM.
        guard let c = EVP_MD_CTX_new() else { fatalError("libcrypto: EVP_MD_CTX_new failed (out of memory)") }
        ctx = c
        EVP_DigestInit_ex(ctx, EVP_sha256(), nil)
    }

    private init(copying other: SHA256Hasher) {
        guard let c = EVP_MD_CTX_new() else { fatalError("libcrypto: EVP_MD_CTX_new failed (out of memory)") }
        ctx = c
        EVP_MD_CTX_copy_ex(ctx, other.ctx)
    }

    deinit { EVP_MD_CTX_free(ctx) }

    /// A hasher in the same state as this one (both continue independently).
    public func copy() -> SHA256Hasher { SHA256Hasher(copying: self) }

    public func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        EVP_DigestUpdate(ctx, base, bytes.count)
    }

    public func update(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { update($0) }
    }

    /// The digest as 64 lowercase hex characters. The hasher must not be used afterwards.
    public func finalizeHex() -> String {
        var out = [UInt8](repeating: 0, count: 32)
        var len: UInt32 = 0
        _ = out.withUnsafeMutableBufferPointer { EVP_DigestFinal_ex(ctx, $0.baseAddress, &len) }
        return Hex.encode(out)
    }

    /// SHA-256 of `bytes` as lowercase hex.
    public static func hex(_ bytes: UnsafeRawBufferPointer) -> String {
        let h = SHA256Hasher()
        h.update(bytes)
        return h.finalizeHex()
    }

    public static func hex(_ bytes: [UInt8]) -> String {
        bytes.withUnsafeBytes { hex($0) }
    }
}
